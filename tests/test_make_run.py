"""Stopping the real `make run` stops the web server AND the worker within 10 s.

Each case starts `make run` in its own process group (as a terminal or a process manager does),
on a free port with its own VAR_DIR (so its own SQLite file and mail folder), waits until the
site answers and `manage.py qcluster` is running, sends the signal, and then looks through /proc
for any process of that run (every process that has the run's VAR_DIR in its environment,
whoever its parent is now). The install steps are the ones `make test` already made (`-o`
keeps make from re-running pip or npm for a newer timestamp); everything after them is the
real recipe.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integrations.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
VENDOR_STAMP = "buyer_portal/static/buyer_portal/vendor/.copied"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def processes_of_run(var_dir: Path) -> dict[int, str]:
    """Live processes started by this run: pid → command line."""
    marker = f"VAR_DIR={var_dir}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if state != "Z":
            found[int(entry.name)] = cmdline
    return found


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


# One test for the three ways to stop, run one after the other: two `make run`s at once (the
# cases spread over pytest-xdist's workers) would write the same collectstatic folder together.
CASES = [
    (signal.SIGTERM, True),  # a process manager stopping the service
    (signal.SIGINT, True),  # Ctrl-C in the terminal
    (signal.SIGTERM, False),  # `kill <make's pid>`
]


def test_stopping_make_run_stops_web_and_worker_within_10_s(tmp_path):
    for signum, to_group in CASES:
        var_dir = tmp_path / f"{signal.Signals(signum).name}-{'group' if to_group else 'make'}"
        var_dir.mkdir()
        stop_make_run(var_dir, signum, to_group)


def stop_make_run(tmp_path, signum, to_group) -> None:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "MAKEFLAGS", "MFLAGS")
    }
    env |= {"VAR_DIR": str(tmp_path), "PORT": str(port), "DEBUG": "True"}
    make = subprocess.Popen(
        ["make", "-o", ".venv/.installed", "-o", VENDOR_STAMP, "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # A fresh database each time: 34 migrations and the demo month before the site answers;
        # generous, as the suite's other worker shares the machine.
        deadline = time.monotonic() + 240
        while not (
            answers(port) and any("qcluster" in cmd for cmd in processes_of_run(tmp_path).values())
        ):
            assert make.poll() is None, "make run ended before the site answered"
            assert time.monotonic() < deadline, "make run did not start within 240 s"
            time.sleep(0.5)
        time.sleep(1)  # qcluster's workers and gunicorn's workers are up
        running = processes_of_run(tmp_path)
        assert any("gunicorn" in cmd for cmd in running.values())

        if to_group:
            os.killpg(make.pid, signum)
        else:
            os.kill(make.pid, signum)
        stopped_at = time.monotonic()
        while processes_of_run(tmp_path) and time.monotonic() - stopped_at < 10:
            time.sleep(0.2)
        left = processes_of_run(tmp_path)
        assert not left, f"still running 10 s after {signal.Signals(signum).name}: {left}"
        assert not answers(port)
    finally:
        for pid in processes_of_run(tmp_path):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        make.wait(timeout=10)


def test_when_the_web_server_cannot_start_the_worker_is_stopped_too(tmp_path):
    """gunicorn dies (its port is taken): `manage.py serve` stops qcluster and exits non-zero,
    rather than leaving a worker with no web server."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")
    }
    env |= {"VAR_DIR": str(tmp_path), "DEBUG": "True"}
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = subprocess.Popen(
            [python, "manage.py", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            assert serve.wait(timeout=60) != 0
            deadline = time.monotonic() + 10
            while processes_of_run(tmp_path) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not processes_of_run(tmp_path)
        finally:
            for pid in processes_of_run(tmp_path):
                os.kill(pid, signal.SIGKILL)
