"""Errors are logged with their traceback; signed links, IMEIs, emails and searches never are."""

from __future__ import annotations

import importlib
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core import signing
from django.test import Client

from backoffice.redaction import redact
from workflows.links import QUOTE_SALT, STATUS_SALT, quote_token, status_token
from workflows.models import State

ROOT = Path(__file__).resolve().parent.parent
IMEI = "356938035643809"
EMAIL = "private.person@example.com"


@pytest.fixture
def request_log():
    """What the django.request handler configured in settings writes."""
    # pytest adds its own capturing handlers: ours is the plain StreamHandler from settings.
    handlers = [
        h for h in logging.getLogger("django.request").handlers if type(h) is logging.StreamHandler
    ]
    assert handlers, "django.request has no handler: 500s would be logged nowhere"
    stream = io.StringIO()
    old = [handler.setStream(stream) for handler in handlers]
    yield stream
    for handler, previous in zip(handlers, old, strict=True):
        handler.setStream(previous)


def test_it_logs_every_500_with_its_traceback_and_without_personal_data(
    make_trade_in, settings, monkeypatch, request_log
):
    settings.DEBUG = False
    trade_in = make_trade_in(State.QUOTED, buyer_email=EMAIL, imei=IMEI)
    token = status_token(trade_in)

    def broken(*args, **kwargs):
        raise RuntimeError(f"template blew up for {EMAIL} / {IMEI} / {token}")

    # The status page's module (buyer_portal.views re-exports the view under the same name).
    monkeypatch.setattr(importlib.import_module("buyer_portal.views.status"), "render", broken)
    client = Client(raise_request_exception=False)
    response = client.get(f"/trade-in/status/{token}/?q={EMAIL}&imei={IMEI}")
    assert response.status_code == 500
    text = request_log.getvalue()
    assert "Internal Server Error: /trade-in/status/[token]/" in text
    assert "Traceback (most recent call last)" in text and "RuntimeError" in text
    for secret in (EMAIL, IMEI, token, token.split(":")[-1], "Ada Buyer"):
        assert secret not in text


def test_it_never_logs_the_token_of_a_refused_link(client, request_log, make_trade_in):
    token = quote_token(make_trade_in(State.QUOTED).latest_quote())
    bad = token[:-3] + "abc"
    assert client.get(f"/trade-in/offer/{bad}/").status_code in (200, 404)
    assert client.get(f"/trade-in/label/{token}x/").status_code == 404
    text = request_log.getvalue()
    assert token[:20] not in text and bad not in text


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("GET /trade-in/offer/eyJxIjo1fQ:1tXyZ:abcDEF123/accept/ HTTP/1.1", "/accept/"),
        ("GET /trade-in/payout-setup/eyJ0IjozfQ:abc/done/ HTTP/1.1", "/done/"),
        ("GET /dashboard/trade-ins/?q=ada%40example.com&state=quoted HTTP/1.1", "state=quoted"),
        ("GET /dashboard/intake/?imei=356938035643809 HTTP/1.1", "/dashboard/intake/"),
        ("GET /dashboard/payouts/?_changelist_filters=q%3Dbob%26o%3D1 HTTP/1.1", "%26o%3D1"),
        ("POST /trade-in/ (buyer .eyJhIjoxfQ:1t:sig) ada@example.com", "POST /trade-in/"),
    ],
)
def test_redact_removes_secrets_and_keeps_the_rest(line, kept):
    out = redact(line)
    assert kept in out
    for secret in ("eyJ", "ada", "356938035643809", "bob", "sig"):
        assert secret not in out, out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_access_log_of_make_run_redacts_links_imeis_and_searches(tmp_path):
    """gunicorn as `make run` starts it (gunicorn.conf.py), with its access log in a file."""
    port, log = free_port(), tmp_path / "access.log"
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DEBUG": "False"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "backoffice.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            str(log),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    status = signing.dumps({"t": 1}, salt=STATUS_SALT)
    offer = signing.dumps({"q": 1}, salt=QUOTE_SALT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/static/none", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        for path in (
            f"/trade-in/status/{status}/",
            f"/trade-in/offer/{offer}/decline/",
            f"/dashboard/trade-ins/?q={EMAIL}",
            f"/dashboard/intake/?imei={IMEI}",
        ):
            requests.get(
                base + path, headers={"Referer": f"{base}/trade-in/offer/{offer}/"}, timeout=30
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    text = log.read_text()
    assert text.count("\n") >= 5 and "/trade-in/status/[token]/" in text
    assert "/dashboard/intake/?imei=[redacted]" in text
    for secret in (status, offer, status.split(":")[-1], offer.split(":")[-1], EMAIL, IMEI):
        assert secret not in text


@pytest.mark.parametrize(
    "name", ["django.request", "django.security", "django-q", "axes", "workflows", "backoffice"]
)
def test_every_logger_that_can_see_personal_data_writes_through_the_redaction(name):
    from backoffice.redaction import RedactingFormatter

    logger = logging.getLogger(name)
    ours = [h for h in logger.handlers if type(h) is logging.StreamHandler]
    assert ours and all(isinstance(h.formatter, RedactingFormatter) for h in ours)
