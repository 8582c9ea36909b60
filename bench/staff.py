"""Staff clicks, counted in Chromium at 1440×900 (printed, never asserted in tests).

1. From the dashboard to a sent quote for a clean submission: with the quoting policy on (the
   auto-quote has sent it before anyone looks) and with it off (open it from the dashboard's
   new submissions, press Send Quote: the offer is prefilled from the price list).
2. From the intake bench's scan to a graded device: the scan (typed IMEI + Enter, as a
   keyboard-wedge scanner sends it), then the clicks to grade and receive a device found as
   the buyer disclosed it.

Runs against a throwaway database, never your data.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from bench.browser import chromium_path, signed_in_page, staff_user
from bench.buyer import live_server
from bench.data import throwaway_database

# Valid check digits; each submission its own device.
IMEIS = iter(["356938035643817", "356938035643825", "356938035643833", "356938035643841"])


class Clicks:
    """A page whose clicks are counted: every click a person makes goes through here."""

    def __init__(self, page) -> None:
        self.page, self.count = page, 0

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.count += 1


class Command(BaseCommand):
    help = "Print how many clicks staff need for a quote and for intake (throwaway database)."

    def handle(self, *args, **options) -> None:
        from playwright.sync_api import sync_playwright

        chromium = chromium_path()
        with throwaway_database("bench_staff", sqlite_file=False):
            staff, manager = staff_user("Staff"), staff_user("Manager")
            with live_server() as url, sync_playwright() as p:
                browser, page = signed_in_page(p, chromium, url, staff.username)
                off = self.quote_clicks(page, manager, policy=False)
                on = self.quote_clicks(page, manager, policy=True)
                intake = self.intake_clicks(page, staff)
                browser.close()
        self.stdout.write("Staff clicks in Chromium (1440×900):")
        self.stdout.write(
            self.style.SUCCESS(
                f"  CLICKS dashboard → quote sent, clean submission: {on} with the quoting "
                f"policy on, {off} without (budget 0 / ≤ 2)"
            )
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"  CLICKS intake: scan + {intake} clicks to a graded device (budget ≤ 2)"
            )
        )

    def submit(self):
        """A clean submission from a buyer, its IMEI check run as the worker would."""
        from workflows import actions
        from workflows.models import Product
        from workflows.tasks import run_due_side_effects

        product = Product.objects.filter(base_price__gt=0).order_by("base_price").first()
        trade_in = actions.trade_in_submit(
            submission=actions.Submission(
                product=product,
                screen="scratched",
                body="like_new",
                battery="good",
                accessories="box",
                imei=next(IMEIS),
                buyer_name="Ada Lovelace",
                buyer_email="ada@example.com",
                fulfilment="pickup",
                payout_method="check",
            ),
            submission_key=uuid.uuid4().hex,
        )
        while run_due_side_effects():
            pass
        trade_in.refresh_from_db()
        return trade_in

    def quote_clicks(self, page, manager, *, policy: bool) -> int:
        from workflows import actions
        from workflows.models import State

        actions.quote_policy_update(
            actor=manager,
            changes={"auto_quote": policy, "auto_quote_cap": Decimal("100000")},
        )
        trade_in = self.submit()
        clicks = Clicks(page)
        page.goto("/dashboard/")
        if trade_in.state != State.QUOTED:
            clicks.click(f"a:has-text('{trade_in.reference}')")
            page.wait_for_url(f"**/{trade_in.pk}/change/")
            clicks.click("button[name=send_quote]")
            page.wait_for_selector("text=Quote sent to the buyer.")
        trade_in.refresh_from_db()
        if trade_in.state != State.QUOTED:
            raise CommandError(f"{trade_in} was not quoted")
        return clicks.count

    def intake_clicks(self, page, staff) -> int:
        from workflows import actions
        from workflows.models import State
        from workflows.rules.compliance import declaration_text

        trade_in = self.submit()
        if trade_in.state != State.QUOTED:
            actions.trade_in_quote(trade_in=trade_in, actor=staff, amount=trade_in.suggested_offer)
        actions.trade_in_accept(
            quote=trade_in.latest_quote(),
            declaration=actions.DeclarationInput(
                confirmed=True, wording=declaration_text(), ip="127.0.0.1"
            ),
        )
        clicks = Clicks(page)
        page.goto("/dashboard/intake/")
        scan = page.locator("input[name=imei]")
        scan.type(trade_in.imei)  # the scanner types
        scan.press("Enter")  # and sends Enter: part of the scan, not a click
        page.wait_for_selector("#intake-match")
        # Found as the buyer disclosed it: a grade, then the button that says so.
        clicks.click("input[name=grade][value=B]")
        clicks.click("button:has-text('Receive as disclosed')")
        page.wait_for_selector("text=received, grade B")
        trade_in.refresh_from_db()
        if trade_in.state != State.RECEIVED:
            raise CommandError(f"{trade_in} was not received")
        return clicks.count
