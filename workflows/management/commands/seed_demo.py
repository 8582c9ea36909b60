"""Load the demo catalog, the demo accounts and a few demo trade-ins. Safe to run again."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from workflows import actions
from workflows.models import BlockedImei, DeviceModel, Make, TradeIn

# Valid IMEIs (check digit right). The last one is on the demo blocklist: a red flag.
DEMO_TRADE_INS = [
    ("iphone-15-pro", 256, "flawless", "like_new", "good", "complete", "356938035643809",
     "Dana Whitfield", "dana@example.com", "ship", "stripe"),
    ("galaxy-s24-ultra", 512, "scratched", "worn", "good", "box", "354859097712344",
     "Luis Ortega", "luis@example.com", "pickup", "store_credit"),
    ("pixel-8", 128, "cracked", "worn", "worn", "none", "353918057123453",
     "Priya Natarajan", "priya@example.com", "ship", "check"),
    ("iphone-13", 128, "scratched", "like_new", "worn", "none", "490154203237518",
     "Tom Becker", "tom@example.com", "ship", "stripe"),
]
BLOCKED_DEMO_IMEI = "490154203237518"


class Command(BaseCommand):
    help = "Load the demo catalog and accounts, and a few demo submissions (idempotent)."

    def handle(self, *args, **options) -> None:
        if not Make.objects.exists():
            # Only into an empty catalog: loading again would reset stock counts.
            call_command("loaddata", "catalog", verbosity=0)
        call_command("loaddata", "demo_accounts", verbosity=0)
        BlockedImei.objects.get_or_create(
            imei=BLOCKED_DEMO_IMEI,
            defaults={"reason": BlockedImei.Reason.BLACKLISTED, "note": "Demo: reported by carrier"},
        )
        if not TradeIn.objects.exists():
            self._demo_trade_ins()
        self.stdout.write(self.style.SUCCESS(
            f"Demo ready: {DeviceModel.objects.count()} device models, "
            f"{TradeIn.objects.count()} trade-ins."
        ))

    @transaction.atomic
    def _demo_trade_ins(self) -> None:
        for i, (model, storage, screen, body, battery, accessories, imei, name, email,
                fulfilment, method) in enumerate(DEMO_TRADE_INS):
            product = DeviceModel.objects.get(slug=model).products.get(storage_gb=storage)
            actions.trade_in_submit(
                submission=actions.Submission(
                    product=product, screen=screen, body=body, battery=battery,
                    accessories=accessories, imei=imei, buyer_name=name, buyer_email=email,
                    fulfilment=fulfilment, payout_method=method,
                    address_line1="" if fulfilment == "pickup" else f"{100 + i} Elm Street",
                    city="" if fulfilment == "pickup" else "Chicago",
                    region="" if fulfilment == "pickup" else "IL",
                    postcode="" if fulfilment == "pickup" else "60601",
                ),
                submission_key=f"demo-{i}",
            )
