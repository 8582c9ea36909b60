"""Django's deployment checklist, CSRF, escaping of hostile text, and quiet logs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.helpers import buyer_post, form_url, staff_client, submission
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


def test_dashboard_login_is_throttled_after_repeated_failures(staff, settings):
    from django.core.cache import caches

    caches["shared"].clear()
    settings.LOGIN_FAILURES_PER_USER = "3/15m"
    browser = Client()
    for _ in range(4):
        page = browser.post(
            "/dashboard/login/?next=/dashboard/", {"username": "staff", "password": "wrong"}
        )
        assert "Too many failed" not in page.content.decode()
    refused = browser.post(
        "/dashboard/login/?next=/dashboard/", {"username": "staff", "password": "tradein-demo"}
    )
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in browser.session  # even the right password waits
    other = Client()  # another account from the same address is not locked yet
    from django.contrib.auth.models import User

    User.objects.create_user("other", password="pw-other-123", is_staff=True)
    ok = other.post(
        "/dashboard/login/?next=/dashboard/", {"username": "other", "password": "pw-other-123"}
    )
    assert ok.status_code == 302
    caches["shared"].clear()
    assert (
        browser.post(
            "/dashboard/login/?next=/dashboard/", {"username": "staff", "password": "tradein-demo"}
        ).status_code
        == 302
    )
