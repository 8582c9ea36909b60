"""Issue 20's buyer number, printed (never asserted in tests): a human-paced basket of two
devices with drop-off, in Chromium at 390×844, from a tap on the storefront footer link to the
confirmation page showing the order's reference.

The first device (make, model and size in one tap, the four condition answers, the IMEI), "Add
another device", the second device the same way (another model), then the buyer's details once
(name, email, drop-off, payout by check; the form asks no declaration) and Submit. The person
takes `--pace` seconds before each tap and types `--cps` characters a second (bench/buyer.py's
Person). Budget ≤ 25 s. Runs against a throwaway database, never your data.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from bench.browser import chromium_path
from bench.buyer import EMAIL, IMEI, NAME, Person, add_pace_arguments, live_server, phone_page
from bench.data import throwaway_database

BUDGET_SECONDS = 25.0
# The second device's IMEI: a valid check digit, not the first's.
SECOND_IMEI = "356938035643817"
ANSWERS = (
    "#f-screen label:has-text('Light scratches')",
    "#f-body label:has-text('Like new')",
    "#f-battery label:has-text('Good')",
    "#f-accessories label:has-text('Box only')",
)


class Command(BaseCommand):
    help = "Time a human-paced basket of two devices, drop-off, in Chromium (throwaway database)."

    def add_arguments(self, parser) -> None:
        add_pace_arguments(parser)

    def handle(self, *args, pace: float, cps: float, **options) -> None:
        from playwright.sync_api import sync_playwright

        chromium = chromium_path()
        with throwaway_database("bench_basket", sqlite_file=False):
            with live_server() as url, sync_playwright() as p:
                browser, page = phone_page(p, chromium, url)
                hosts: set[str] = set()
                page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
                # One basket at full speed first, as a server in use would have its templates
                # compiled and the browser its stylesheet cached.
                page.goto("/")
                self.walk(page, pace=0, cps=1000)
                page.goto("/")
                seconds, taps, chars, reference = self.walk(page, pace=pace, cps=cps)
                browser.close()
        foreign = hosts - {urlsplit(url).netloc}
        human = taps * pace + chars / cps
        verdict = "ok" if seconds <= BUDGET_SECONDS else "OVER BUDGET"
        self.stdout.write(
            f"Human-paced basket in Chromium (390×844; {pace:g} s per tap, {cps:g} characters "
            f"per second), storefront footer link → confirmation page; requests to other "
            f"hosts: {len(foreign)}:"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"  BASKET two devices, drop-off: {seconds:.1f} s and {taps} taps after the "
                f"footer link ({taps} taps + {chars} characters = {human:.1f} s of the person, "
                f"{seconds - human:.1f} s of the machine), order {reference}  "
                f"(budget ≤ {BUDGET_SECONDS:g} s) {verdict}"
            )
        )

    def walk(self, page, *, pace: float, cps: float) -> tuple[float, int, int, str]:
        """The clock starts with the tap on the footer link and stops when the confirmation
        page shows the order's reference. Returns the seconds, the paced taps, the characters
        typed and the reference."""
        from workflows.models import Order

        you = Person(page, pace=pace, cps=cps)
        before = Order.objects.count()
        footer = page.locator("footer >> text=Trade in your device")
        footer.wait_for(state="visible")
        start = time.monotonic()
        footer.click()
        # Device 1: the first make, its first model and a size in one tap.
        you.tap(".tiles a.tile")
        you.tap("#models a.size")
        for answer in ANSWERS:
            you.tap(answer)
        you.type_into("#id_imei", IMEI)
        you.tap("#add-device")
        # Device 2: the same make, its second model (the picker shows the basket of one).
        page.locator("#basket").wait_for(state="visible")
        you.tap(".tiles a.tile")
        you.tap("#models > li:nth-child(2) a.size")
        page.locator("h1:has-text('Device 2:')").wait_for(state="visible")
        for answer in ANSWERS:
            you.tap(answer)
        you.type_into("#id_imei", SECOND_IMEI)
        # The buyer's details, once, on the last device's page.
        you.type_into("#id_buyer_name", NAME)
        you.type_into("#id_buyer_email", EMAIL)
        you.tap("#f-fulfilment label:has-text('Drop off')")
        you.tap("#f-payout_method label:has-text('Check')")
        you.tap("#submit")
        page.wait_for_url("**/trade-in/thanks/**")
        reference = page.locator("#order strong.big")
        reference.wait_for(state="visible")
        seconds = time.monotonic() - start
        shown = reference.inner_text().strip()
        order = Order.objects.order_by("-pk").first()
        if Order.objects.count() != before + 1 or order.reference != shown:
            raise CommandError(f"the confirmation shows {shown!r}, not the new order")
        if order.devices.count() != 2:
            raise CommandError(f"{order.reference} holds {order.devices.count()} devices, not 2")
        return seconds, you.choices, you.chars, shown
