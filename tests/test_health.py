"""/healthz and /readyz for the load balancer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import caches
from django.utils import timezone

from backoffice import health
from tests.integrations.conftest import free_port
from workflows.models import SideEffect, SideEffectStatus
from workflows.tasks import heartbeat

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker_seen(db):
    heartbeat.beat()
    yield
    caches["shared"].delete(health.WORKER_SEEN_KEY)


def test_healthz_is_alive_without_the_database(client, settings):
    """No `db` fixture: any query would fail this test."""
    settings.SECURE_SSL_REDIRECT = True  # the balancer probes over plain HTTP
    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")  # a node's address
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "Set-Cookie" not in response and "Content-Security-Policy" not in response


def test_readyz_is_green_when_everything_answers(client, worker_seen, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/readyz", HTTP_HOST="10.0.0.5")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "storage", "outbox", "worker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies


def test_readyz_is_red_without_a_worker(client, db):
    caches["shared"].delete(health.WORKER_SEEN_KEY)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_readyz_is_red_when_the_worker_was_last_seen_too_long_ago(client, db, settings):
    settings.READY_WORKER_SEEN_MINUTES = 5
    caches["shared"].set(health.WORKER_SEEN_KEY, {"at": time.time() - 301}, None)
    worker = client.get("/readyz").json()["checks"]["worker"]
    assert worker["ok"] is False and worker["seen_seconds_ago"] >= 300


def test_readyz_is_red_when_a_due_side_effect_waits_too_long(
    client, worker_seen, make_trade_in, settings
):
    settings.READY_MAX_OUTBOX_AGE_MINUTES = 15
    make_trade_in()
    # A retry scheduled for later is the outbox's business, not the balancer's.
    SideEffect.objects.update(
        status=SideEffectStatus.PENDING, next_attempt_at=timezone.now() + timedelta(hours=6)
    )
    assert client.get("/readyz").status_code == 200
    late = SideEffect.objects.first()
    late.next_attempt_at = timezone.now() - timedelta(minutes=16)
    late.save()
    response = client.get("/readyz")
    assert response.status_code == 503
    outbox = response.json()["checks"]["outbox"]
    assert outbox["ok"] is False and outbox["oldest_due_seconds"] >= 16 * 60


def test_readyz_is_green_before_the_first_photo_made_the_folder(
    client, worker_seen, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")  # a fresh `make run`: var/media not yet made
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["storage"]["ok"] is True


def test_readyz_is_red_when_the_storage_cannot_be_written(client, worker_seen, settings, tmp_path):
    (tmp_path / "a-file").write_text("")  # the folder cannot be made under a file, even by root
    settings.MEDIA_ROOT = str(tmp_path / "a-file" / "media")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == {
        "ok": False,
        "error": "PermissionError",
        "ms": response.json()["checks"]["storage"]["ms"],
    }


def test_readyz_names_a_failure_without_its_details(client, worker_seen, monkeypatch):
    def broken():
        raise ConnectionError("could not reach cache at 10.1.2.3:6379 password=hunter2")

    monkeypatch.setitem(health.CHECKS, "cache", broken)
    body = client.get("/readyz")
    assert body.status_code == 503
    assert body.json()["checks"]["cache"]["error"] == "ConnectionError"
    assert "10.1.2.3" not in body.content.decode()


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except (urllib.error.URLError, ConnectionError):
        return 0, {}


def _wait_for(url: str, status: int, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    seen = None
    while time.monotonic() < deadline:
        seen = _get(url)
        if seen[0] == status:
            return seen[1]
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer {status} within {seconds} s: {seen}")


def test_readyz_turns_red_when_the_worker_stops_and_green_when_it_is_back(tmp_path):
    """gunicorn and `manage.py qcluster` as in production, on one SQLite file."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "Q_WORKERS": "1",
        "READY_WORKER_SEEN_MINUTES": "0.1",  # 6 s: a beat every 2 s
    }
    (tmp_path / "media").mkdir()
    for args in (("migrate", "--noinput", "-v0"), ("createcachetable",)):
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True
        )
        assert done.returncode == 0, done.stderr[-3000:]
    port = free_port()
    web = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "backoffice.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def worker() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    readyz = f"http://127.0.0.1:{port}/readyz"
    cluster = worker()
    try:
        body = _wait_for(readyz, 200, 90)
        assert body["checks"]["worker"]["ok"] is True
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(timeout=30)
        body = _wait_for(readyz, 503, 30)
        assert body["checks"]["worker"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True
        cluster = worker()
        _wait_for(readyz, 200, 90)
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, {"status": "ok"})
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/trade-in/", timeout=10):
            pass
    finally:
        for process in (cluster, web):
            process.send_signal(signal.SIGTERM)
        for process in (cluster, web):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    log = web.stdout.read()
    # The probes stay out of the access log; other requests are in it.
    assert '"GET /trade-in/' in log
    assert "/readyz" not in log and "/healthz" not in log


def test_readyz_is_red_when_the_storage_does_not_answer(client, worker_seen, monkeypatch):
    """Shared storage (S3 and the like) that refuses or times out: this node cannot show photos."""
    from django.core.files.storage import default_storage

    def refused(name):
        raise TimeoutError("storage did not answer")

    monkeypatch.setattr(default_storage, "exists", refused)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["error"] == "TimeoutError"
