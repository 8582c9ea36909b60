"""The buyer flow's two numbers, printed (never asserted in tests).

1. Bytes on the wire for each buyer page before the scanner loads: the HTML as served (gzip),
   plus the stylesheet and script gzipped as WhiteNoise serves them in production.
2. A scripted human-paced run in Chromium at 390×844: from a tap on the storefront footer link
   to the confirmation page, pausing before every tap and typing at a human speed.

It runs against a throwaway database (the test database machinery), never your data.
"""

from __future__ import annotations

import gzip
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management.base import BaseCommand
from django.db import connections
from django.test import Client
from django.test.testcases import LiveServerThread
from django.test.utils import override_settings
from playwright.sync_api import expect

from bench.browser import chromium_path
from bench.data import throwaway_database

BUDGET = 14 * 1024
ASSETS = ["buyer_portal/portal.css", "buyer_portal/portal.js"]
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)
# A real IMEI shape with a valid check digit, and what a buyer types.
IMEI = "356938035643809"
NAME = "Ada Lovelace"
EMAIL = "ada@example.com"
# Shipping: the ZIP first (city and state fill in from the offline table), then the street.
ZIP = "60601"
STREET = "1 Main St"


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def phone_page(playwright, chromium: str, url: str):
    """Debian's chromium as a phone (390×844, touch, a phone's user agent) on the live server
    at `url`: the browser (the caller closes it) and a page."""
    browser = playwright.chromium.launch(
        executable_path=chromium,
        args=[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    )
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        user_agent=PHONE_UA,
        base_url=url,
    )
    return browser, context.new_page()


class Person:
    """A buyer on the phone, tap by tap: waits until the next thing shows, takes `pace`
    seconds to choose it, then taps; types at `cps` characters a second. Counts both."""

    def __init__(self, page, *, pace: float, cps: float) -> None:
        self.page, self.pace, self.cps = page, pace, cps
        self.choices = self.chars = 0

    def tap(self, selector: str) -> None:
        target = self.page.locator(selector).first
        target.wait_for(state="visible")
        time.sleep(self.pace)
        # Shown and still for `pace` seconds: Playwright's stability re-check is not the app.
        target.click(force=True)
        self.choices += 1

    def type_into(self, selector: str, text: str) -> None:
        self.page.locator(selector).focus()
        # Keystrokes on a fixed clock, so the driver's own time per key is not counted twice.
        begin = time.monotonic()
        for i, char in enumerate(text, 1):
            self.page.keyboard.type(char)
            time.sleep(max(0.0, begin + i / self.cps - time.monotonic()))
        self.chars += len(text)


def add_pace_arguments(parser) -> None:
    """--pace and --cps: how fast the scripted person chooses and types."""
    parser.add_argument(
        "--pace", type=float, default=1.0, help="seconds a person takes per choice (default 1)"
    )
    parser.add_argument(
        "--cps", type=float, default=8.0, help="characters a person types per second (default 8)"
    )


class Command(BaseCommand):
    help = "Print the buyer flow's page weights and a human-paced run time (throwaway database)."

    def add_arguments(self, parser) -> None:
        add_pace_arguments(parser)
        parser.add_argument("--no-browser", action="store_true", help="only the page weights")

    def handle(self, *args, pace: float, cps: float, no_browser: bool, **options) -> None:
        with throwaway_database("bench_buyer", sqlite_file=False):
            self.page_weights()
            if not no_browser:
                self.human_run(pace=pace, cps=cps)

    # --- 1. Page weights -------------------------------------------------------------------
    def page_weights(self) -> None:
        from workflows.models import DeviceModel

        css, js = (gzipped(Path(finders.find(name)).read_bytes()) for name in ASSETS)
        model = DeviceModel.objects.filter(products__isnull=False).first()
        pages = [
            ("storefront", "/"),
            ("first page: choose a make", "/trade-in/"),
            ("choose a model", f"/trade-in/?make={model.make.slug}"),
            (
                "the form (with the Scan button)",
                f"/trade-in/?make={model.make.slug}&model={model.slug}",
            ),
        ]
        client = Client(HTTP_ACCEPT_ENCODING="gzip")
        self.stdout.write("Page weight in KB, compressed (HTML gzip as served; CSS, JS gzip -9):")
        first = 0
        for label, url in pages:
            response = client.get(url)
            assert response.get("Content-Encoding") == "gzip", url
            html = len(response.content)
            total = html + css + js
            first = first or (html if url == "/trade-in/" else 0)
            verdict = "ok" if total <= BUDGET else "OVER BUDGET"
            self.stdout.write(
                f"  {label:34} HTML {html / 1024:4.1f} + CSS {css / 1024:3.1f} + JS "
                f"{js / 1024:3.1f} = {total / 1024:4.1f} KB  {verdict}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"FIRST PAGE: {(first + css) / 1024:.1f} KB compressed HTML + CSS "
                f"({(first + css + js) / 1024:.1f} KB with our script), before the scanner loads; "
                "budget 14 KB"
            )
        )

    # --- 2. A human-paced run --------------------------------------------------------------
    def human_run(self, *, pace: float, cps: float) -> None:
        from playwright.sync_api import sync_playwright

        chromium = chromium_path()
        with live_server() as url, sync_playwright() as p:
            browser, page = phone_page(p, chromium, url)
            hosts: set[str] = set()
            page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
            # One run at full speed first, as a server in use would have its templates compiled
            # and the browser its stylesheet cached.
            page.goto("/")
            self.walk(page, path="popular", pace=0, cps=1000)
            results = []
            for path, ship in (("popular", False), ("make-model", False), ("make-model", True)):
                page.goto("/")
                seconds, choices, chars = self.walk(page, path=path, pace=pace, cps=cps, ship=ship)
                results.append((path, ship, seconds, choices, chars))
            browser.close()
        foreign = hosts - {urlsplit(url).netloc}
        self.stdout.write(
            f"Requests to other hosts during the runs: {len(foreign)}"
            + (f" ({', '.join(sorted(foreign))})" if foreign else "")
        )
        self.stdout.write(
            f"Human-paced run ({pace:g} s per choice, {cps:g} characters per "
            "second), storefront footer link → confirmation page:"
        )
        for path, ship, seconds, choices, chars in results:
            human = choices * pace + chars / cps
            label = "via a popular-model tile" if path == "popular" else "via make → model"
            label += ", ship (ZIP + street typed)" if ship else ", drop-off"
            self.stdout.write(
                self.style.SUCCESS(
                    f"  RUN {label:54} {seconds:5.1f} s  ({choices} choices + {chars} characters "
                    f"= {human:.1f} s of the person, {seconds - human:.1f} s of the machine)"
                )
            )

    def walk(
        self, page, *, path: str, pace: float, cps: float, ship: bool = False
    ) -> tuple[float, int, int]:
        """Tap by tap, as a person would: wait until the next thing shows, take `pace` seconds
        to choose it, then tap; type at `cps`. The clock starts with the tap on the footer link
        and stops when the confirmation page shows."""
        person = Person(page, pace=pace, cps=cps)
        tap, type_into = person.tap, person.type_into

        footer = page.locator("footer >> text=Trade in your device")
        footer.wait_for(state="visible")
        start = time.monotonic()
        footer.click()
        if path == "popular":
            tap("#popular a")
            tap("#f-product label.choice")
        else:
            tap(".tiles a.tile")  # the first make
            tap("#models a.size")  # its first model and a storage size, in one tap
        tap("#f-screen label:has-text('Light scratches')")
        tap("#f-body label:has-text('Like new')")
        tap("#f-battery label:has-text('Good')")
        tap("#f-accessories label:has-text('Box only')")
        type_into("#id_imei", IMEI)
        type_into("#id_buyer_name", NAME)
        type_into("#id_buyer_email", EMAIL)
        if ship:  # "Ship it" is preselected: the ZIP, then the street; city and state fill in
            type_into("#id_postcode", ZIP)
            # Polled from here: the page's CSP forbids evaluating a string in it.
            expect(page.locator("#id_city")).not_to_have_value("")
            type_into("#id_address_line1", STREET)
        else:
            tap("#f-fulfilment label:has-text('Drop off')")
        tap("#f-payout_method label:has-text('Check')")
        tap("#submit")
        page.wait_for_url("**/trade-in/thanks/**")
        page.locator("h1").wait_for(state="visible")
        return time.monotonic() - start, person.choices, person.chars


@contextmanager
def live_server():
    """Django's live test server in a thread, sharing an in-memory SQLite connection if any."""
    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    for conn in shared.values():
        conn.inc_thread_sharing()
    allow = override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "127.0.0.1"])
    allow.enable()
    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override=shared)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()
        allow.disable()
        for conn in shared.values():
            conn.dec_thread_sharing()
