"""Errors reach Sentry without personal data; LOG_FORMAT=json lines carry the request's id."""

from __future__ import annotations

import gzip
import importlib
import io
import json
import logging
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from django.test import Client
from pytest_httpserver import HTTPServer

from backoffice.logs import JsonFormatter
from workflows.links import status_token
from workflows.models import State

ROOT = Path(__file__).resolve().parent.parent
IMEI = "356938035643809"
EMAIL = "private.person@example.com"


def _body(request) -> str:
    data = request.get_data()
    encoding = request.headers.get("Content-Encoding", "")
    if encoding == "gzip":
        data = gzip.decompress(data)
    elif encoding == "deflate":
        data = zlib.decompress(data)
    elif encoding == "br":
        import brotli

        data = brotli.decompress(data)
    return data.decode()


@pytest.fixture
def sentry(httpserver: HTTPServer):
    """Sentry as settings start it with SENTRY_DSN, sending to a loopback recorder."""
    import sentry_sdk

    from backoffice.errors import init_sentry

    httpserver.expect_request("/api/1/envelope/").respond_with_json({"id": "recorded"})
    init_sentry(f"http://publickey@127.0.0.1:{httpserver.port}/1")
    yield httpserver
    sentry_sdk.get_client().close()
    sentry_sdk.init(dsn=None)


def test_an_error_reaches_sentry_without_imeis_emails_or_signed_links(
    sentry, make_trade_in, monkeypatch, settings
):
    import sentry_sdk

    settings.DEBUG = False
    trade_in = make_trade_in(State.QUOTED, buyer_email=EMAIL, imei=IMEI)
    token = status_token(trade_in)
    logging.getLogger("workflows").warning("looking at %s for %s", IMEI, EMAIL)  # a breadcrumb

    def broken(*args, **kwargs):
        raise RuntimeError(f"template blew up for {EMAIL} / {IMEI} / {token}")

    monkeypatch.setattr(importlib.import_module("buyer_portal.views.status"), "render", broken)
    response = Client(raise_request_exception=False).post(
        f"/trade-in/status/{token}/?q=Ada+Buyer&imei={IMEI}",
        {"email": EMAIL, "note": f"call me at {EMAIL} about {IMEI}", "token": token},
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)

    envelopes = [_body(request) for request, _ in sentry.log]
    events = [e for e in envelopes if '"type":"event"' in e.replace(" ", "")]
    assert events, f"nothing reached the Sentry endpoint: {envelopes}"
    sent = events[0]
    assert "RuntimeError" in sent and "template blew up for" in sent
    assert "/trade-in/status/" in sent  # the URL is there, the token is not
    for secret in (EMAIL, IMEI, token, token.split(":")[-1], "Ada Buyer", "Ada+Buyer"):
        assert secret not in sent, secret
    assert "[email]" in sent and "[imei]" in sent and "[token]" in sent


def test_sentry_is_off_unless_sentry_dsn_is_set():
    script = (
        "import sentry_sdk; c = sentry_sdk.get_client(); "
        "dc = c.options.get('data_collection') or {}; "
        "print(c.is_active(), dc.get('user_info'), (dc.get('cookies') or {}).get('mode'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    env.pop("SENTRY_DSN", None)
    off = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
    )
    assert off.stdout.splitlines()[-1].split() == ["False", "None", "None"], off.stderr[-2000:]
    env["SENTRY_DSN"] = "http://publickey@127.0.0.1:9/1"
    on = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
    )
    assert on.stdout.splitlines()[-1].split() == ["True", "False", "off"], on.stderr[-2000:]


@pytest.fixture
def json_log(settings):
    """The console handler from settings, with LOG_FORMAT=json's formatter, into a buffer."""
    handlers = [
        handler
        for name in ("django.request", "workflows")
        for handler in logging.getLogger(name).handlers
        if type(handler) is logging.StreamHandler
    ]
    assert handlers
    stream = io.StringIO()
    saved = [(handler, handler.setStream(stream), handler.formatter) for handler in handlers]
    for handler in handlers:
        handler.setFormatter(JsonFormatter())
    yield stream
    for handler, old_stream, formatter in saved:
        handler.setStream(old_stream)
        handler.setFormatter(formatter)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_the_request_id_from_the_header(
    json_log, make_trade_in, monkeypatch, settings
):
    settings.DEBUG = False
    trade_in = make_trade_in(State.QUOTED, buyer_email=EMAIL, imei=IMEI)
    token = status_token(trade_in)
    json_log.truncate(0)
    json_log.seek(0)

    def broken(*args, **kwargs):
        logging.getLogger("workflows").warning("rendering for %s", EMAIL)
        raise RuntimeError(f"blew up for {IMEI} / {token}")

    monkeypatch.setattr(importlib.import_module("buyer_portal.views.status"), "render", broken)
    client = Client(raise_request_exception=False)
    response = client.get(f"/trade-in/status/{token}/", HTTP_X_REQUEST_ID="lb-4f2a9c01-77")
    assert response.status_code == 500
    assert response["X-Request-ID"] == "lb-4f2a9c01-77"
    lines = _lines(json_log)
    # The view's own line and django.request's 500 with its traceback, after the view.
    assert {line["logger"] for line in lines} >= {"workflows", "django.request"}
    assert all(line["request_id"] == "lb-4f2a9c01-77" for line in lines), lines
    error = next(line for line in lines if line["logger"] == "django.request")
    assert "RuntimeError" in error["traceback"] and error["status"] == 500
    text = json_log.getvalue()
    for secret in (EMAIL, IMEI, token):
        assert secret not in text

    # No header, or one that is not an id: a fresh id, one per request.
    json_log.truncate(0)
    json_log.seek(0)
    first = client.get(f"/trade-in/status/{token}/", HTTP_X_REQUEST_ID='x" injected\n{')
    second = client.get(f"/trade-in/status/{token}/")
    ids = {first["X-Request-ID"], second["X-Request-ID"]}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)
    assert {line["request_id"] for line in _lines(json_log)} == ids


def test_lines_outside_a_request_have_no_request_id(json_log):
    logging.getLogger("workflows").warning("a task ran for %s", EMAIL)
    (line,) = _lines(json_log)
    assert line["request_id"] is None and line["message"] == "a task ran for [email]"


def test_log_format_json_is_what_settings_configure():
    script = "import logging; logging.getLogger('workflows').warning('hello %s', '356938035643809')"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backoffice.settings", "LOG_FORMAT": "json"}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
    )
    (line,) = [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{")]
    assert line["message"] == "hello [imei]" and line["request_id"] is None
    env["LOG_FORMAT"] = "jsn"
    typo = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, text=True, capture_output=True
    )
    assert typo.returncode != 0 and "LOG_FORMAT" in typo.stderr


def test_gunicorn_writes_json_lines_with_the_request_id(tmp_path):
    """gunicorn as `make run` starts it, LOG_FORMAT=json: every line it prints is JSON."""
    import signal
    import time
    import urllib.error
    import urllib.request

    from tests.integrations.conftest import free_port

    port = free_port()
    env = {**os.environ, "VAR_DIR": str(tmp_path), "LOG_FORMAT": "json"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            *("-c", "gunicorn.conf.py", "backoffice.wsgi", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "1"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        request = urllib.request.Request(
            f'{base}/static/none?imei={IMEI}&x="quoted"',
            headers={"X-Request-ID": "edge-12345678", "User-Agent": 'odd\\agent"}{'},
        )
        try:
            urllib.request.urlopen(request, timeout=10)
        except urllib.error.HTTPError as error:
            assert error.headers["X-Request-ID"] == "edge-12345678"
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert len(access) == 1, out
    assert access[0]["request_id"] == "edge-12345678" and access[0]["status"] == 404
    assert '"quoted"' in access[0]["request"] and IMEI not in out
    assert access[0]["user_agent"] == 'odd\\agent"}{'
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # "Booting worker", etc.
