"""Load the demo catalog, the demo accounts, nine demo trade-ins (one per stage) and a month
of trade-ins and sales (_demo_month). Safe to run again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from backoffice.management.commands._demo_month import demo_identity, demo_month
from backoffice.management.commands.demo_totp import give_demo_devices
from workflows import actions
from workflows.models import BlockedImei, DeviceModel, Make, Payout, TradeIn
from workflows.rules.compliance import declaration_text
from workflows.rules.inspection import checklist_as_disclosed
from workflows.tasks import run_due_side_effects

# Valid IMEIs (check digit right). 490154203237518 is on the demo blocklist: a red flag.
# The last field is how far along the lifecycle the demo takes each one.
DEMO_TRADE_INS = [
    (
        "iphone-15-pro",
        256,
        "flawless",
        "like_new",
        "good",
        "complete",
        "356938035643809",
        "Dana Whitfield",
        "dana@example.com",
        "ship",
        "stripe",
        "submitted",
    ),
    (
        "galaxy-s24-ultra",
        512,
        "scratched",
        "worn",
        "good",
        "box",
        "354859097712344",
        "Luis Ortega",
        "luis@example.com",
        "pickup",
        "store_credit",
        "submitted",
    ),
    (
        "pixel-8",
        128,
        "cracked",
        "worn",
        "worn",
        "none",
        "353918057123453",
        "Priya Natarajan",
        "priya@example.com",
        "ship",
        "check",
        "submitted",
    ),
    (
        "iphone-13",
        128,
        "scratched",
        "like_new",
        "worn",
        "none",
        "490154203237518",
        "Tom Becker",
        "tom@example.com",
        "ship",
        "stripe",
        "submitted",
    ),
    (
        "iphone-14",
        128,
        "scratched",
        "worn",
        "good",
        "box",
        "352099001761481",
        "Mei Chen",
        "mei@example.com",
        "ship",
        "check",
        "quoted",
    ),
    (
        "galaxy-s23",
        256,
        "flawless",
        "like_new",
        "good",
        "complete",
        "358240051111110",
        "Sam Okafor",
        "sam@example.com",
        "ship",
        "check",
        "accepted",
    ),
    (
        "pixel-7",
        128,
        "scratched",
        "worn",
        "worn",
        "none",
        "351756051523993",
        "Ana Lima",
        "ana@example.com",
        "pickup",
        "store_credit",
        "received",
    ),
    (
        "iphone-12",
        64,
        "cracked",
        "damaged",
        "service",
        "none",
        "356656421305276",
        "Ravi Patel",
        "ravi@example.com",
        "ship",
        "check",
        "closed",
    ),
    (
        "galaxy-s22",
        128,
        "scratched",
        "worn",
        "good",
        "none",
        "353880104582331",
        "Jo Martin",
        "jo@example.com",
        "ship",
        "check",
        "declined",
    ),
]
STAGES = ["submitted", "quoted", "accepted", "received", "closed"]
BLOCKED_DEMO_IMEI = "490154203237518"


class Command(BaseCommand):
    help = "Load the demo catalog and accounts, and a few demo submissions (idempotent)."

    def handle(self, *args, **options) -> None:
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            # A one-off loader of made-up data: no disk flush per action's commit (hundreds of
            # them), so `make run` is ready in seconds. A crash midway means: delete the file.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=OFF")
        if not Make.objects.exists():
            # Only into an empty catalog: loading again would reset stock counts.
            call_command("loaddata", "catalog", verbosity=0)
        call_command("loaddata", "demo_accounts", verbosity=0)
        # The demo manager and admin's second step (`manage.py demo_totp` prints the code).
        give_demo_devices()
        BlockedImei.objects.get_or_create(
            imei=BLOCKED_DEMO_IMEI,
            defaults={
                "reason": BlockedImei.Reason.BLACKLISTED,
                "note": "Demo: reported by carrier",
            },
        )
        if not TradeIn.objects.exists():
            self._demo_trade_ins()
        # A month of trade-ins, sales and market prices behind the charts and the price list.
        demo_month(User.objects.get(username="manager"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {DeviceModel.objects.count()} device models, "
                f"{TradeIn.objects.count()} trade-ins."
            )
        )

    def _demo_trade_ins(self) -> None:
        manager = User.objects.get(username="manager")
        for i, (
            model,
            storage,
            screen,
            body,
            battery,
            accessories,
            imei,
            name,
            email,
            fulfilment,
            method,
            stage,
        ) in enumerate(DEMO_TRADE_INS):
            product = DeviceModel.objects.get(slug=model).products.get(storage_gb=storage)
            trade_in = actions.trade_in_submit(
                submission=actions.Submission(
                    product=product,
                    screen=screen,
                    body=body,
                    battery=battery,
                    accessories=accessories,
                    imei=imei,
                    buyer_name=name,
                    buyer_email=email,
                    fulfilment=fulfilment,
                    payout_method=method,
                    address_line1="" if fulfilment == "pickup" else f"{100 + i} Elm Street",
                    city="" if fulfilment == "pickup" else "Chicago",
                    region="" if fulfilment == "pickup" else "IL",
                    postcode="" if fulfilment == "pickup" else "60601",
                ),
                submission_key=f"demo-{i}",
            )
            self._advance(trade_in, stage, manager)

    def _advance(self, trade_in: TradeIn, stage: str, manager: User) -> None:
        """Walk a demo trade-in through the real actions, as staff and the buyer would."""
        run_due_side_effects()  # the IMEI check must finish before a quote
        if stage == "submitted":
            return
        offer = (trade_in.suggested_offer or Decimal("100")) - 5
        quote = actions.trade_in_quote(trade_in=trade_in, actor=manager, amount=offer)
        if stage == "declined":
            actions.trade_in_decline(
                trade_in=trade_in, actor=actions.BUYER, quote=quote, reason="The offer is too low"
            )
            return
        if STAGES.index(stage) >= STAGES.index("accepted"):
            actions.trade_in_accept(
                quote=quote,
                declaration=actions.DeclarationInput(
                    confirmed=True,
                    wording=declaration_text(),
                    ip="127.0.0.1",
                    birth_date=date(1990, 4, 23),
                ),
            )
        if STAGES.index(stage) >= STAGES.index("received"):
            demo_identity(
                trade_in,
                manager,
                id_number=f"D{trade_in.pk:03d}-5550-{trade_in.pk:04d}",
                birth_date=date(1990, 4, 23),
                valid_years=3,
            )
        if STAGES.index(stage) >= STAGES.index("received"):
            actions.trade_in_intake(
                trade_in=trade_in,
                actor=manager,
                checklist=checklist_as_disclosed(trade_in),
                outcome="grade",
                grade="B",
                scanned_imei=trade_in.imei,
            )
        if stage == "closed":
            actions.payout_settle_check(
                payout=Payout.objects.get(trade_in=trade_in),
                actor=manager,
                check_number="100231",
                check_date=timezone.localdate(),
            )
        run_due_side_effects()
