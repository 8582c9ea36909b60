"""Django's deployment checklist, CSRF, escaping of hostile text, and quiet logs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.helpers import buyer_post, form_url, staff_client, submission, verify_second_step
from workflows import actions
from workflows.links import quote_token, status_token
from workflows.models import State, TradeIn

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "k3J9-vQ2mX8pL5nR7tW1yB4cF6hD0gZ2sA9eU3iO7jK5qM1xN-p8Lw2Rt6Yz",
    "ALLOWED_HOSTS": "tradein.example.com",
    "SECURE_COOKIES": "True",
    "SECURE_SSL_REDIRECT": "True",
    "SECURE_HSTS_SECONDS": "31536000",
    "BEHIND_TLS_PROXY": "True",
    "ID_ENCRYPTION_KEYS": "8sQbbXb3Pj0m3zHq5T1dKJ0e4X0v4v7mY2m0fKpQ9cM=",
}
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_check_deploy_is_clean_under_the_documented_production_settings():
    env = {**os.environ, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    for name in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"):  # test-only settings
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_about_the_demo_id_encryption_key():
    env = {**os.environ, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    for name in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "ID_ENCRYPTION_KEYS"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "workflows.W001" in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["DEBUG", "SECURE_COOKIES"])
def test_it_refuses_to_start_with_a_boolean_setting_it_cannot_read(name):
    env = {**os.environ, name: "ture", "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"{name}='ture' is not a boolean" in result.stderr


def test_every_post_needs_a_csrf_token(make_trade_in, staff):
    quoted = make_trade_in(State.QUOTED)
    accepted = make_trade_in(State.ACCEPTED)
    browser = Client(enforce_csrf_checks=True)
    token = quote_token(quoted.latest_quote())
    for url, data in [
        (form_url(quoted.product), {}),
        (f"/trade-in/offer/{token}/accept/", {}),
        (f"/trade-in/offer/{token}/decline/", {"reason": "Other"}),
    ]:
        assert browser.post(url, data).status_code == 403, url
    desk = Client(enforce_csrf_checks=True)
    desk.force_login(staff)
    for url, data in [
        (reverse("admin:intake_bench"), {"trade_in": accepted.pk, "grade": "A"}),
        (reverse("admin:workflows_tradein_workflow", args=[quoted.pk, "decline"]), {"reason": "x"}),
    ]:
        assert desk.post(url, data).status_code == 403, url
    assert quoted.__class__.objects.get(pk=quoted.pk).state == State.QUOTED
    assert accepted.__class__.objects.get(pk=accepted.pk).state == State.ACCEPTED


def test_hostile_text_is_escaped_in_the_admin_the_buyer_pages_and_the_emails(
    client, product, staff, drain
):
    response = buyer_post(client, product, buyer_name=HOSTILE, address_line1=HOSTILE, city=HOSTILE)
    assert response.status_code == 302
    trade_in = TradeIn.objects.get()
    drain()
    actions.trade_in_quote(trade_in=trade_in, actor=staff, amount="100", note=HOSTILE)
    drain()
    quote = trade_in.latest_quote()
    actions.trade_in_decline(trade_in=trade_in, actor=actions.BUYER, quote=quote, reason=HOSTILE)
    drain()
    queue = staff_client(staff).get("/dashboard/trade-ins/", {"q": trade_in.reference})
    assert "<script>alert" not in queue.content.decode()
    pages = [
        staff_client(staff)
        .get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
        .content.decode(),
        client.get(f"/trade-in/status/{status_token(trade_in)}/").content.decode(),
        *[alt[0] for m in mail.outbox for alt in m.alternatives],
    ]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page
    # The plain-text emails carry the text as typed: it is not HTML there.
    assert any(HOSTILE in m.body for m in mail.outbox)


def test_no_personal_data_reaches_the_logs(product, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    from workflows.tasks import run_due_side_effects

    sub = submission(product, buyer_name="Private Person", buyer_email="private@example.com")
    with caplog.at_level(logging.DEBUG):
        trade_in = actions.trade_in_submit(submission=sub, submission_key="pii")
        run_due_side_effects()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "failed" in text  # the outage is logged...
    for secret in ("Private Person", "private@example.com", trade_in.imei, "1 Main St"):
        assert secret not in text  # ...without who it was for


@pytest.mark.parametrize("guess", ["1", "TI-000001", "eyJ0IjoxfQ", "eyJ0IjoxfQ:1abcde:xyz"])
def test_buyers_cannot_guess_another_buyers_page(client, make_trade_in, guess):
    make_trade_in(State.QUOTED)
    for path in ("status", "offer", "label"):
        assert client.get(f"/trade-in/{path}/{guess}/").status_code == 404


LOGIN = "/dashboard/login/?next=/dashboard/"


def sign_in(client, username: str, password: str, ip: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_dashboard_login_is_throttled_after_repeated_failures(staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    browser = Client()
    for attempt in range(1, 4):
        page = sign_in(browser, "staff", "wrong")
        assert ("Too many failed" in page.content.decode()) == (attempt == 3)
    refused = sign_in(browser, "staff", "tradein-demo")
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in browser.session  # even the right password waits
    from django.contrib.auth.models import User

    User.objects.create_user("other", password="pw-other-123", is_staff=True)
    # Another account from the same address is not locked.
    assert sign_in(Client(), "other", "pw-other-123").status_code == 302
    # The same account from its usual address is not locked by failures elsewhere.
    assert sign_in(Client(), "staff", "tradein-demo", ip="10.0.0.7").status_code == 302
    call_command("axes_reset_username", "staff", verbosity=0)
    assert sign_in(browser, "staff", "tradein-demo").status_code == 302


@pytest.mark.parametrize("spelling", ["ｓｔａｆｆ", "STAFF", "Staff", "ｓtaff"])
def test_a_locked_user_stays_locked_under_another_spelling(staff, settings, spelling):
    """Django signs `ｓｔａｆｆ` in as `staff` (NFKC): the lockout must see the same name."""
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        sign_in(Client(), "staff", "wrong")
    browser = Client()
    refused = sign_in(browser, spelling, "tradein-demo")
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in browser.session


def test_failures_under_other_spellings_count_for_the_same_user(staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for spelling in ("ｓｔａｆｆ", "Staff", "staff"):
        sign_in(Client(), spelling, "wrong")
    assert "Too many failed" in sign_in(Client(), "staff", "tradein-demo").content.decode()


def test_an_attacker_elsewhere_cannot_lock_the_manager_out_of_the_shop(manager, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(30):
        sign_in(Client(), "manager", "guess", ip="203.0.113.9")
    attacker = Client()
    assert (
        "Too many failed"
        in sign_in(attacker, "manager", "tradein-demo", ip="203.0.113.9").content.decode()
    )
    assert "_auth_user_id" not in attacker.session
    shop = Client()
    assert sign_in(shop, "manager", "tradein-demo", ip="192.0.2.10").status_code == 302
    verify_second_step(shop, manager)
    assert shop.get("/dashboard/").status_code == 200
