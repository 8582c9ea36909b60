"""Issue 20's business number, printed (never asserted in tests): staff clicks to take a
100-device list from a business customer to quoted devices, in Chromium at 1440×900.

A staff member, on the Order list, uploads the customer's 100-line CSV (20 products in turn)
through "Upload a device list" (the file, the customer's name and email, drop-off, check: form
fields, not clicks), checks it, sends it as one order; the worker then runs the IMEI checks (the
outbox, run here as the worker would). With the auto-quote policy on, the clean devices are
quoted by the policy as their checks finish; any still new are quoted from the order's page
with "Quote every device at its suggested offer" (one click; the Order list's action of that
name runs the same code). The same again with the policy off, for comparison. Budget
with the policy on: ≤ 3 clicks. Runs against a throwaway database, never your data.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

from django.core.management.base import BaseCommand, CommandError

from bench.browser import chromium_path, signed_in_page, staff_user
from bench.buyer import live_server
from bench.data import imei_for, throwaway_database
from bench.staff import Clicks

DEVICES = 100
BUDGET_CLICKS = 3
CUSTOMER = "Phones Wholesale LLC"
EMAIL = "buy@wholesale.example"


def device_csv(products, first: int, n: int = DEVICES) -> bytes:
    """A customer's list: the products in turn, n distinct valid IMEIs, all in good condition."""
    lines = ["Make,Model,Storage (GB),IMEI,Condition"]
    for i in range(n):
        product = products[i % len(products)]
        model = product.device_model
        lines.append(
            f"{model.make.name},{model.name},{product.storage_gb},{imei_for(first + i)},good"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


class Command(BaseCommand):
    help = "Count staff clicks for a 100-device business upload, quoted (throwaway database)."

    def handle(self, *args, **options) -> None:
        from playwright.sync_api import sync_playwright

        chromium = chromium_path()
        with throwaway_database("bench_upload", sqlite_file=False), TemporaryDirectory() as tmp:
            staff, manager = staff_user("Staff"), staff_user("Manager")
            results = []
            with live_server() as url, sync_playwright() as p:
                browser, page = signed_in_page(p, chromium, url, staff.username)
                for n, policy in enumerate((True, False)):
                    path = Path(tmp) / f"devices-{n}.csv"
                    first = n * DEVICES
                    results.append(self.upload(page, manager, path, first=first, policy=policy))
                browser.close()
        self.stdout.write(f"A {DEVICES}-device business upload by staff, Chromium (1440×900):")
        for policy, r in zip((True, False), results, strict=True):
            label = "policy on " if policy else "policy off"
            verdict = ""
            if policy:
                verdict = "ok" if r["clicks"] <= BUDGET_CLICKS else "OVER BUDGET"
                verdict = f"  (budget ≤ {BUDGET_CLICKS} clicks) {verdict}"
            self.stdout.write(
                self.style.SUCCESS(
                    f"  UPLOAD {label}: {r['clicks']} clicks, {r['quoted']}/{DEVICES} quoted "
                    f"({r['by_policy']} by the policy, {r['by_staff']} by staff), order "
                    f"{r['reference']}; staff's pages {r['staff_seconds']:.1f} s, the worker's "
                    f"IMEI checks {r['worker_seconds']:.1f} s{verdict}"
                )
            )
        self.stdout.write(
            "  (clicks: links and buttons; each upload also fills 5 form fields: the file, "
            "name, email and two selects)"
        )

    def upload(self, page, manager, path: Path, *, first: int, policy: bool) -> dict:
        from workflows import actions
        from workflows.models import Order, Product, State
        from workflows.tasks import run_due_side_effects

        actions.quote_policy_update(
            actor=manager,
            changes={"auto_quote": policy, "auto_quote_cap": Decimal("100000")},
        )
        # A business's mixed fleet: the catalog's 20 cheapest priced products in turn.
        products = list(
            Product.objects.filter(base_price__gt=0)
            .select_related("device_model__make")
            .order_by("base_price", "pk")[:20]
        )
        path.write_bytes(device_csv(products, first))
        clicks = Clicks(page)
        before = set(Order.objects.values_list("pk", flat=True))

        page.goto("/dashboard/workflows/order/")
        page.wait_for_selector("text=Upload a device list")
        started = time.monotonic()
        clicks.click("text=Upload a device list")
        page.wait_for_selector("#upload-form")
        page.set_input_files("#id_device_list", str(path))
        page.fill("#id_buyer_name", CUSTOMER)
        page.fill("#id_buyer_email", EMAIL)
        page.select_option("#id_fulfilment", "pickup")
        page.select_option("#id_payout_method", "check")
        clicks.click("#upload-form button[type=submit]")
        page.wait_for_selector("#device-list-review")
        ready = page.inner_text("#device-list-review")
        if f"{DEVICES} devices ready" not in ready:
            raise CommandError(f"the review did not take all {DEVICES} devices: {ready[:300]}")
        clicks.click("#send-list button[type=submit]")
        page.wait_for_selector("#device-list-sent")
        staff_seconds = time.monotonic() - started

        started = time.monotonic()
        while run_due_side_effects():  # the IMEI checks (and the policy's quotes), as the worker
            pass
        worker_seconds = time.monotonic() - started

        (order,) = Order.objects.exclude(pk__in=before)
        devices = order.devices.all()
        by_policy = devices.filter(quotes__auto_quoted=True).distinct().count()
        if devices.filter(state=State.SUBMITTED).exists():
            # Staff, back on the order's page: one button quotes every device still new.
            started = time.monotonic()
            page.reload()
            clicks.click("#quote-suggested button")
            page.wait_for_selector("text=devices quoted at their suggested offer")
            staff_seconds += time.monotonic() - started
        quoted = devices.filter(state=State.QUOTED).count()
        if quoted != DEVICES:
            raise CommandError(f"{order.reference}: {quoted} of {DEVICES} devices quoted")
        return {
            "clicks": clicks.count,
            "quoted": quoted,
            "by_policy": by_policy,
            "by_staff": quoted - by_policy,
            "reference": order.reference,
            "staff_seconds": staff_seconds,
            "worker_seconds": worker_seconds,
        }
