"""The counter (issue 21), human-paced in Chromium at 1440×900: a clean phone bought for cash,
from "Start a buyback" to the printed receipt. Staff click once a second and type eight
characters a second (the scanner's IMEI too, to be safe; Tab and Enter are keys typed);
the signature is one gesture, counted and paced as a click. Prints seconds and clicks
(budget ≤ 60 s and ≤ 12 clicks). Runs against a throwaway database, never your data.
"""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from bench.browser import chromium_path, signed_in_page, staff_user
from bench.buyer import live_server, throwaway_database

CLICK_SECONDS = 1.0
KEY_DELAY_MS = 125  # eight characters a second
IMEI = "356938035643858"


class Human:
    """A person at the counter: every click waits a second first, typing is 8 chars/s."""

    def __init__(self, page) -> None:
        self.page, self.clicks = page, 0

    def click(self, selector: str) -> None:
        time.sleep(CLICK_SECONDS)
        self.page.locator(selector).first.click()
        self.clicks += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=KEY_DELAY_MS)

    def key(self, name: str) -> None:
        time.sleep(KEY_DELAY_MS / 1000)
        self.page.keyboard.press(name)

    def sign(self, selector: str) -> None:
        """One stroke across the pad: a gesture, counted and paced as one click."""
        time.sleep(CLICK_SECONDS)
        box = self.page.locator(selector).bounding_box()
        x, y = box["x"], box["y"]
        self.page.mouse.move(x + 40, y + 120)
        self.page.mouse.down()
        for dx, dy in [(90, 50), (160, 130), (240, 60), (320, 120), (400, 70)]:
            self.page.mouse.move(x + dx, y + dy, steps=5)
        self.page.mouse.up()
        self.clicks += 1


class Command(BaseCommand):
    help = "Time and count a counter buyback, human-paced, in Chromium (throwaway database)."

    def handle(self, *args, **options) -> None:
        from playwright.sync_api import sync_playwright

        chromium = chromium_path()
        with throwaway_database():
            call_command("loaddata", "catalog", verbosity=0)
            staff = staff_user("Staff")
            from workflows.actions import counter_buyback as counter
            from workflows.models import CounterBuyback, State

            counter.cash_drawer_open(actor=staff, opening_float="1000.00")
            with live_server() as url, sync_playwright() as p:
                browser, page = signed_in_page(p, chromium, url, staff.username)
                page.goto("/dashboard/counter/")
                seconds, clicks = self.buy(page)
                browser.close()
            buyback = CounterBuyback.objects.select_related("trade_in").get()
            if buyback.trade_in.state != State.CLOSED:
                raise CommandError(f"{buyback.trade_in} is {buyback.trade_in.state}, not closed")
        self.stdout.write(
            "The counter in Chromium (1440×900), human-paced (1 s a click, 8 chars/s):"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"  COUNTER clean phone, cash: Start a buyback → printed receipt in "
                f"{seconds:.1f} s and {clicks} clicks (budget ≤ 60 s, ≤ 12 clicks)"
            )
        )

    def buy(self, page) -> tuple[float, int]:
        you = Human(page)
        started = time.monotonic()
        you.click("#start-buyback")
        page.wait_for_function("document.activeElement && document.activeElement.id === 'id_name'")
        you.type("Dana Walker")
        you.key("Tab")
        you.type("dana@example.com")
        you.key("Tab")  # the phone is optional
        you.key("Tab")
        you.type("iPhone 13 128")  # the catalog picker: the rest of the label is not needed
        you.key("Tab")
        you.type(IMEI)  # the scanner
        you.key("Enter")
        page.wait_for_selector("#all-clear")
        you.click("#all-clear")  # powers on, no lock, flawless: grade A
        page.wait_for_selector("#show-customer")
        you.click("#show-customer")  # the suggested offer, paid in cash
        page.wait_for_selector("#customer-page")
        you.click("#confirm")  # the customer: the declaration,
        you.sign("#signature-pad")  # the signature,
        you.click("#accept")  # and yes
        page.wait_for_selector("#pay")
        you.click("#pay")
        page.wait_for_selector("#print-receipt")
        with page.expect_popup() as popup:
            you.click("#print-receipt")
        receipt = popup.value
        receipt.wait_for_load_state()
        return time.monotonic() - started, you.clicks
