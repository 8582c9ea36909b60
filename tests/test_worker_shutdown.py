"""`manage.py qcluster` stops within 10 s of a SIGTERM, mid-send, and loses or repeats no mail.

The worker runs as it does in production: its own process, its own database (a SQLite file
made for this test), mail through a real SMTP server on loopback that takes a while to accept
each message, so the signal arrives while an email is on the wire.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.integrations.conftest import Inbox, free_port

ROOT = Path(__file__).resolve().parent.parent
SEED = """
import uuid
from tests.factories import load_deductions
from tests.helpers import submission
from tests.factories import ProductFactory
from workflows import actions
load_deductions()
product = ProductFactory()
for i in range(8):
    actions.trade_in_submit(submission=submission(product), submission_key=uuid.uuid4().hex)
# Their own tasks were lost (say the broker restarted): the periodic sweep finds the rows,
# all in one task, as it does after any outage.
from django.utils import timezone
from django_q.models import OrmQ, Schedule
OrmQ.objects.all().delete()
Schedule.objects.filter(func="workflows.tasks.run_due_side_effects").update(next_run=timezone.now())
"""
REPORT = """
import json
from workflows.models import SideEffect
print(json.dumps([[e.key, e.kind, e.status, e.attempts] for e in SideEffect.objects.all()]))
"""
SWEEP = """
from django.utils import timezone
from workflows.models import SideEffect
from workflows.tasks import run_due_side_effects
SideEffect.objects.filter(status="pending").update(next_attempt_at=timezone.now())
run_due_side_effects()
"""


@pytest.fixture
def slow_smtp():
    inbox = Inbox(delay=1.5)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


# Its own processes and its own SQLite file whatever DATABASE_URL says: once per CI run is
# enough, in the PostgreSQL run (tests/conftest.py skips it on SQLite).
@pytest.mark.postgres_only
def test_it_stops_within_10_s_of_sigterm_and_every_mail_goes_out_once(tmp_path, slow_smtp):
    inbox, port = slow_smtp
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "False",
        "EMAIL_TIMEOUT": "5",
        "Q_WORKERS": "1",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "--noinput", "-v0")
    manage("createcachetable")
    manage("shell", "-c", SEED)
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert inbox.messages, "the worker sent nothing"
        cluster.send_signal(signal.SIGTERM)  # the first mail is on the wire right now
        signalled = time.monotonic()
        cluster.wait(timeout=30)
        stopped_after = time.monotonic() - signalled
    finally:
        if cluster.poll() is None:
            cluster.kill()
    assert stopped_after < 10, f"qcluster took {stopped_after:.1f} s to stop"

    rows = [
        row
        for row in json.loads(manage("shell", "-c", REPORT).strip().splitlines()[-1])
        if row[1] == "send_email"
    ]
    assert len(rows) == 8
    sent_before_restart = len(inbox.messages)
    assert {status for _key, _kind, status, _n in rows} <= {"done", "pending"}
    assert sum(status == "done" for _key, _kind, status, _n in rows) == sent_before_restart
    assert sent_before_restart < 8  # it stopped mid-way, the rest waits

    manage("shell", "-c", SWEEP)  # what the next worker's sweep does
    rows = [
        row
        for row in json.loads(manage("shell", "-c", REPORT).strip().splitlines()[-1])
        if row[1] == "send_email"
    ]
    assert [status for _key, _kind, status, _n in rows] == ["done"] * 8
    ids = [message["Message-ID"] for message in inbox.messages]
    assert len(ids) == len(set(ids)) == 8  # every mail once
