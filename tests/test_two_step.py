"""Two-step sign-in, end to end through the real sign-in form and second-step pages."""

from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.twostep import issue_invite
from tests.helpers import PASSWORD, staff_client, totp_code

LOGIN = "/dashboard/login/?next=/dashboard/"
PAYOUTS = "/dashboard/payouts/"
VERIFY = "/dashboard/two-step/"
SETUP = "/dashboard/two-step/setup/"


def sign_in(client: Client, username: str, password: str = PASSWORD, ip: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone")


def second_step(client: Client, code: str, next_url: str = "/dashboard/", ip: str = "127.0.0.1"):
    return client.post(VERIFY, {"code": code, "next": next_url}, REMOTE_ADDR=ip)


def test_a_manager_with_the_password_only_is_refused_the_payouts_page(manager, make_trade_in):
    """The acceptance test: the password alone reaches no payout, list or record."""
    device = enrolled(manager)
    payout = make_trade_in("accepted").payout
    browser = Client()
    assert sign_in(browser, "manager").status_code == 302
    for url in (PAYOUTS, f"/dashboard/payouts/{payout.pk}/change/", "/dashboard/"):
        page = browser.get(url)
        assert page.status_code == 302, url
        assert page["Location"].startswith(f"{VERIFY}?next=")
    # Whatever the middleware, the admin site itself refuses the session.
    from django.contrib import admin

    request = browser.get(VERIFY).wsgi_request
    assert not admin.site.has_permission(request)
    assert str(payout.amount) not in browser.get(PAYOUTS, follow=True).content.decode()

    page = browser.get(f"{VERIFY}?next={PAYOUTS}")
    assert page.status_code == 200 and b"authenticator app" in page.content
    done = second_step(browser, totp_code(device), next_url=PAYOUTS)
    assert done.status_code == 302 and done["Location"] == PAYOUTS
    assert browser.get(PAYOUTS).status_code == 200


def test_an_admin_is_asked_too_and_staff_are_not(admin_user, staff):
    browser = Client()
    sign_in(browser, "admin")
    assert browser.get("/dashboard/auth/user/")["Location"].startswith(SETUP)
    clerk = Client()
    sign_in(clerk, "staff")
    assert clerk.get("/dashboard/").status_code == 200


def invite_path(user, **kwargs) -> str:
    link, _ = issue_invite(user, **kwargs)
    return relative(link)


def relative(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def test_first_sign_in_enrols_then_recovery_codes_work_once(manager, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code then the right one, within a second
    link = invite_path(manager)
    browser = Client()
    # The link first asks for the password, then comes back to itself.
    to_login = browser.get(link)["Location"]
    assert to_login.startswith("/dashboard/login/")
    signed = browser.post(to_login, {"username": "manager", "password": PASSWORD})
    assert signed["Location"] == link
    page = browser.get(link).content.decode()
    assert "data:image/svg+xml" in page  # the QR code, inline (CSP allows data: images)
    secret = re.search(r'id="two-step-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1)
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    import base64

    assert base64.b32decode(secret.replace(" ", "")) == device.bin_key
    # Not enrolled until a code proves the app has the key.
    assert browser.get("/dashboard/")["Location"].startswith(SETUP)
    wrong = browser.post(SETUP, {"code": "000000"}).content.decode()
    assert "not right" in wrong
    shown = browser.post(SETUP, {"code": totp_code(device)}).content.decode()
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", shown)
    assert len(codes) == 10
    assert browser.get("/dashboard/").status_code == 200
    # Codes are shown once: the account page only counts them.
    account = browser.get("/dashboard/two-step/account/").content.decode()
    assert "10 recovery codes left" in account and codes[0] not in account

    # Next sign-in, phone lost: a recovery code, once.
    lost_phone = Client()
    sign_in(lost_phone, "manager")
    assert second_step(lost_phone, codes[0].upper()).status_code == 302
    assert lost_phone.get(PAYOUTS).status_code == 200
    again = Client()
    sign_in(again, "manager")
    assert "not right" in second_step(again, codes[0]).content.decode()
    assert again.get(PAYOUTS).status_code == 302


def test_a_password_alone_cannot_enrol_a_manager_who_never_enrolled(manager, admin_user):
    """Someone who learnt a new manager's password cannot put their own phone on the account:
    the first enrolment needs the link an admin issued for that account."""
    attacker = Client()
    sign_in(attacker, "manager")
    assert attacker.get("/dashboard/")["Location"].startswith(f"{SETUP}?next=")
    page = attacker.get(SETUP)
    assert page.status_code == 403 and b"enrolment link" in page.content
    assert b"two-step-secret" not in page.content
    assert attacker.post(SETUP, {"code": "123456"}).status_code == 403
    # A link issued for someone else, a forged one, or one replaced by a newer link: refused.
    for_admin = invite_path(admin_user)
    assert attacker.get(for_admin).status_code == 403
    assert attacker.get(f"{SETUP}?invite=forged").status_code == 403
    old = invite_path(manager)
    invite_path(manager)  # issued again: the old link stops working
    assert attacker.get(old).status_code == 403
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()
    assert attacker.get("/dashboard/payouts/").status_code == 302


def test_an_enrolment_link_lapses(manager, settings):
    link = invite_path(manager)
    settings.TWO_STEP_INVITE_HOURS = 0
    browser = Client()
    sign_in(browser, "manager")
    assert browser.get(link).status_code == 403


def test_an_admin_issues_a_link_or_resets_a_lost_phone_and_it_is_logged(manager, admin_client):
    from django.contrib.admin.models import LogEntry

    page = f"/dashboard/two-step/invite/{manager.pk}/"
    user_page = admin_client.get(f"/dashboard/auth/user/{manager.pk}/change/").content.decode()
    assert page in user_page and "Not set up" in user_page
    issued = admin_client.post(page, {"do": "invite"}).content.decode()
    link = re.search(r'id="invite-link"[^>]*value="([^"]+)"', issued).group(1)
    assert "/dashboard/two-step/setup/?invite=" in link
    # The manager sets up a phone with it.
    browser = Client()
    sign_in(browser, "manager")
    setup_page = browser.get(relative(link)).content.decode()
    secret = re.search(r'id="two-step-secret"[^>]*>([A-Z2-7 ]+)<', setup_page).group(1)
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert browser.post(SETUP, {"code": totp_code(device)}).status_code == 200
    assert TOTPDevice.objects.get(pk=device.pk).confirmed and secret
    # The used link does not open a second enrolment.
    again = Client()
    sign_in(again, "manager")
    assert again.get(relative(link))["Location"].startswith(VERIFY)
    # Lost phone: the admin resets; the old app stops working, a new link is shown.
    assert "Reset two-step" in admin_client.get(page).content.decode()
    admin_client.post(page, {"do": "reset"})
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()
    messages = LogEntry.objects.filter(object_id=str(manager.pk)).values_list(
        "change_message", flat=True
    )
    assert set(messages) >= {
        "Enrolment link issued",
        "Two-step sign-in reset; enrolment link issued",
    }


def test_only_admins_issue_links(manager, staff):
    for someone in (staff, manager):  # a manager may not issue their own link either
        client = staff_client(someone)
        assert client.get(f"/dashboard/two-step/invite/{manager.pk}/").status_code == 403
        assert client.post(f"/dashboard/two-step/invite/{manager.pk}/").status_code == 403
    assert not TOTPDevice.objects.filter(user=manager, confirmed=False).exists()  # no link made


def test_the_command_prints_a_link(manager):
    out = StringIO()
    call_command("two_step_invite", "manager", stdout=out)
    assert "/dashboard/two-step/setup/?invite=" in out.getvalue()
    enrolled(manager)
    out = StringIO()
    call_command("two_step_reset", "manager", stdout=out)
    assert "devices removed" in out.getvalue() and "?invite=" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()


def test_a_password_alone_cannot_enrol_a_second_device(manager):
    """Someone holding only the password of an enrolled account cannot add their own app."""
    enrolled(manager)
    attacker = Client()
    sign_in(attacker, "manager")
    assert attacker.get(SETUP)["Location"].startswith(VERIFY)
    assert attacker.post(SETUP, {"code": "123456"})["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=manager).count() == 1


def test_wrong_codes_lock_both_steps(manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own back-off, out of this test's way
    device = enrolled(manager)
    browser = Client()
    sign_in(browser, "manager")
    assert second_step(browser, "111111").status_code == 200
    assert second_step(browser, "222222").status_code == 200
    locked = second_step(browser, "333333")
    assert locked.status_code == 429 and "Too many failed" in locked.content.decode()
    # The right code waits now, and so does the password step.
    assert second_step(browser, totp_code(device)).status_code == 429
    assert browser.get(PAYOUTS).status_code == 302
    fresh = Client()
    assert sign_in(fresh, "manager").status_code == 429
    assert "_auth_user_id" not in fresh.session
    # Elsewhere (the shop's own address) the manager still signs in.
    shop = Client()
    assert sign_in(shop, "manager", ip="192.0.2.10").status_code == 302
    assert second_step(shop, totp_code(device), ip="192.0.2.10").status_code == 302
    assert shop.get(PAYOUTS).status_code == 200


def test_the_right_password_does_not_clear_wrong_codes(manager, settings):
    """Otherwise each password sign-in would buy the guesser a fresh set of tries."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = enrolled(manager)
    for _ in range(2):
        browser = Client()
        assert sign_in(browser, "manager").status_code == 302
        second_step(browser, "999999")
    browser = Client()
    assert sign_in(browser, "manager").status_code == 302
    assert second_step(browser, "999998").status_code == 429
    assert second_step(browser, totp_code(device)).status_code == 429


def test_a_full_sign_in_clears_the_failures(manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = enrolled(manager)
    browser = Client()
    sign_in(browser, "manager", password="wrong")
    sign_in(browser, "manager")
    second_step(browser, "999999")
    assert second_step(browser, totp_code(device)).status_code == 302
    for _ in range(2):
        again = Client()
        sign_in(again, "manager")
        assert second_step(again, "999999").status_code == 200  # counted from zero again


def test_staff_may_turn_it_on_and_are_then_asked(staff):
    browser = Client()
    sign_in(browser, "staff")
    assert b"Two-step sign-in is off" in browser.get("/dashboard/two-step/account/").content
    browser.get(SETUP)
    device = TOTPDevice.objects.get(user=staff)
    browser.post(SETUP, {"code": totp_code(device)})
    assert TOTPDevice.objects.get(user=staff).confirmed
    later = Client()
    sign_in(later, "staff")
    assert later.get("/dashboard/trade-ins/")["Location"].startswith(VERIFY)
    assert second_step(later, totp_code(device)).status_code == 302
    assert later.get("/dashboard/trade-ins/").status_code == 200
    # Optional for staff: they may turn it off again (managers may not).
    later.post("/dashboard/two-step/account/", {"do": "off"})
    assert not TOTPDevice.objects.filter(user=staff).exists()


def test_a_manager_cannot_turn_it_off(manager):
    device = enrolled(manager)
    browser = Client()
    sign_in(browser, "manager")
    second_step(browser, totp_code(device))
    page = browser.get("/dashboard/two-step/account/").content.decode()
    assert "Turn off" not in page
    browser.post("/dashboard/two-step/account/", {"do": "off"})
    assert TOTPDevice.objects.filter(user=manager, confirmed=True).exists()


def test_next_is_kept_on_this_site_only(manager):
    device = enrolled(manager)
    browser = Client()
    sign_in(browser, "manager")
    done = second_step(browser, totp_code(device), next_url="https://evil.example/")
    assert done["Location"] == "/dashboard/"


@pytest.mark.django_db
def test_the_demo_accounts_sign_in_with_the_printed_code():
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("demo_totp", stdout=out)
    code = out.getvalue().split()[0]
    browser = Client()
    sign_in(browser, "manager")
    assert second_step(browser, code, next_url=PAYOUTS)["Location"] == PAYOUTS
    assert browser.get(PAYOUTS).status_code == 200
    # A deployment still carrying the public demo secret fails `check --deploy`.
    from backoffice.apps import demo_totp_secret_in_use

    errors = demo_totp_secret_in_use()
    assert errors and "admin, manager" in errors[0].msg
    call_command("two_step_reset", "manager", stdout=StringIO())
    call_command("two_step_reset", "admin", stdout=StringIO())
    assert demo_totp_secret_in_use() == []


def test_an_address_over_the_sign_in_limit_waits_at_the_second_step_too(manager, settings):
    settings.LOGIN_FAILURES_PER_IP = "3/15m"
    settings.AXES_FAILURE_LIMIT = 50
    device = enrolled(manager)
    for name in ("someone", "anyone", "noone", "nobody"):  # four usernames, one address
        sign_in(Client(), name, password="guess")
    browser = Client()
    assert sign_in(browser, "manager", ip="127.0.0.2").status_code == 302
    browser.defaults["REMOTE_ADDR"] = "127.0.0.1"  # the session moves to the limited address
    assert second_step(browser, totp_code(device)).status_code == 429


def test_a_code_works_once(manager):
    """A code seen over a shoulder (or in a proxy's log) does not open a second session."""
    device = enrolled(manager)
    code = totp_code(device)
    first, second = Client(), Client()
    sign_in(first, "manager")
    sign_in(second, "manager")
    assert second_step(first, code).status_code == 302
    assert "not right" in second_step(second, code).content.decode()
    assert second.get(PAYOUTS).status_code == 302
