"""Playwright driving Debian's Chromium against Django's live server.

Chromium's own download cannot work here, so we launch /usr/bin/chromium with the flags
this machine needs (no background networking: its connections are refused here).
"""

from __future__ import annotations

import base64
import os
import shutil
from urllib.parse import urlsplit

import pytest
from django.core.cache import caches

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)
ARTIFACTS = os.environ.get("BROWSER_ARTIFACTS", "test-artifacts")

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if CHROMIUM is None:
                item.add_marker(pytest.mark.skip(reason="Debian's chromium is not installed"))


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, settings):
    """The live server's address; emailed links point at it too."""
    settings.SITE_URL = live_server.url
    # The submit rate limit counts in the database cache, which a test's flush leaves behind.
    caches["shared"].clear()
    return live_server.url


@pytest.fixture
def desktop(chromium, site):
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, base_url=site)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(chromium, site):
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        user_agent=PHONE_UA,
        base_url=site,
    )
    page = context.new_page()
    yield page
    context.close()


def login(page, username: str, password: str = "tradein-demo") -> None:
    """The sign-in form, then the second step for managers and admins: enrolment the first
    time (through the enrolment link an admin would give them; the key read off the page, as an
    authenticator app would), a code after that."""
    page.goto("/dashboard/login/?next=/dashboard/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if "/two-step/setup/" in page.url:
        from django.contrib.auth.models import User
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from backoffice.twostep import issue_invite
        from tests.helpers import totp_code

        # The first enrolment takes the link an admin issues (the password alone cannot).
        link = urlsplit(issue_invite(User.objects.get(username=username))[0])
        page.goto(f"{link.path}?{link.query}")
        secret = page.inner_text("#two-step-secret").replace(" ", "")
        device = TOTPDevice(key=base64.b32decode(secret).hex())
        device.refresh_from_db = lambda: None  # not saved: the page's key only
        page.fill("#id_code", totp_code(device))
        page.click("#two-step-form button[type=submit]")
        page.get_by_text("I have kept them").click()
    elif "/two-step/" in page.url:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from tests.helpers import totp_code

        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.fill("#id_code", totp_code(device))
        page.click("#two-step-form button[type=submit]")
    page.wait_for_url("**/dashboard/")


def screenshot(page, name: str) -> None:
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"), full_page=True)
