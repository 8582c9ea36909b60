"""Two-step sign-in in Chromium: enrolment from the QR page, a code at the next sign-in, under
the staff Content-Security-Policy, laid out like Unfold's sign-in page."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from backoffice.twostep import issue_invite
from tests.browser.conftest import screenshot
from tests.browser.test_csp import violations, watch
from tests.helpers import totp_code

pytestmark = pytest.mark.django_db(transaction=True)


def password(page, username: str) -> None:
    page.goto("/dashboard/login/?next=/dashboard/payouts/")
    page.fill("#id_username", username)
    page.fill("#id_password", "tradein-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_a_manager_enrols_then_signs_in_with_a_code(desktop, manager):
    console = watch(desktop)
    password(desktop, "manager")
    # The password alone cannot set up the second step: it takes the admin's enrolment link.
    assert "/dashboard/two-step/setup/" in desktop.url
    assert "enrolment link" in desktop.inner_text("#two-step-status")
    screenshot(desktop, "two-step-needs-link")
    link = urlsplit(issue_invite(manager)[0])
    desktop.goto(f"{link.path}?{link.query}")
    assert "/dashboard/two-step/setup/?invite=" in desktop.url
    # Unfold's sign-in layout (body.login), the QR code drawn, the key typed-out beside it.
    assert desktop.locator("body.login").count() == 1
    assert desktop.evaluate("document.querySelector('img[src^=\"data:image/svg\"]').naturalWidth")
    screenshot(desktop, "two-step-setup")
    secret = desktop.inner_text("#two-step-secret").replace(" ", "")
    app = TOTPDevice(key=base64.b32decode(secret).hex())
    app.refresh_from_db = lambda: None
    desktop.fill("#id_code", totp_code(app))
    desktop.click("#two-step-form button[type=submit]")
    assert desktop.locator("#recovery-codes li").count() == 10
    screenshot(desktop, "two-step-recovery-codes")
    desktop.get_by_text("I have kept them").click()
    desktop.wait_for_url("**/dashboard/")
    assert violations(desktop, console) == []

    # Signed out, back in: the password alone stops at the code page.
    desktop.context.clear_cookies()
    password(desktop, "manager")
    assert "/dashboard/two-step/?next=" in desktop.url
    assert desktop.locator("body.login").count() == 1
    screenshot(desktop, "two-step-verify")
    desktop.fill("#id_code", "000000")
    desktop.click("#two-step-form button[type=submit]")
    # The click only starts the POST: wait for the page it answers with, not the one it left.
    expect(desktop.get_by_text("That code is not right")).to_be_visible()
    device = TOTPDevice.objects.get(user=manager, confirmed=True)
    desktop.wait_for_timeout(1100)  # django-otp's one-second back-off after a wrong code
    desktop.fill("#id_code", totp_code(device))
    desktop.click("#two-step-form button[type=submit]")
    desktop.wait_for_url("**/dashboard/payouts/")
    desktop.goto("/dashboard/two-step/account/")
    assert "Two-step sign-in is on" in desktop.inner_text("#two-step-status")
    assert violations(desktop, console) == []
