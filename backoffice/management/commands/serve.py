"""`manage.py serve`: the web server and the worker as one process to start and to stop.

`make run` execs it. It starts gunicorn and `manage.py qcluster` as children, each in its own
process group, and stays their parent:

- SIGTERM, SIGINT or SIGHUP to this process (or to the whole process group of `make run`, which
  is what Ctrl-C and a process manager send) is passed on as SIGTERM to both, so each stops the
  way it stops in production (gunicorn finishes its requests, the worker its side effect);
- when either child ends by itself, the other is stopped too: a web server without its worker
  (or the reverse) is not left running half a shop;
- whatever of a child's process group (gunicorn's workers, qcluster's pusher, monitor and
  workers) is still alive STOP_GRACE seconds after the stop is killed, so everything is gone
  within 10 s of the signal;
- should this process lose its parent (make killed with SIGKILL), it stops the children as well.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

# gunicorn's graceful_timeout and the worker's own SHUTDOWN_GRACE (7 s) fit inside it; the
# kill that follows leaves time before the 10 s a process manager waits.
STOP_GRACE = 8.5
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Command(BaseCommand):
    help = "Run the web server (gunicorn) and the worker (qcluster) together; stop both together."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, bind: str, workers: int, **options) -> None:
        stop_signal: list[int] = []

        def on_signal(signum, frame) -> None:
            stop_signal.append(signum)

        for signum in STOP_SIGNALS:
            signal.signal(signum, on_signal)

        manage = str(Path(settings.BASE_DIR) / "manage.py")
        bin_dir = Path(sys.executable).parent
        gunicorn = bin_dir / "gunicorn"
        web_cmd = [
            str(gunicorn) if gunicorn.exists() else sys.executable,
            *([] if gunicorn.exists() else ["-m", "gunicorn"]),
            "-c",
            str(Path(settings.BASE_DIR) / "gunicorn.conf.py"),
            "backoffice.wsgi",
            "--bind",
            bind,
            "--workers",
            str(workers),
        ]
        parent = os.getppid()
        children: list[subprocess.Popen] = []
        try:
            # process_group=0: a signal to make's group reaches us alone; we decide what each
            # child gets (qcluster must see one SIGTERM, not one from the terminal and ours).
            children.append(subprocess.Popen([sys.executable, manage, "qcluster"], process_group=0))
            if not stop_signal:
                children.append(subprocess.Popen(web_cmd, process_group=0))
            while not stop_signal:
                if any(child.poll() is not None for child in children):
                    break
                if os.getppid() != parent:
                    break
                time.sleep(0.2)
        finally:
            self._stop(children)
        ended = [child.returncode for child in children if child.returncode]
        if stop_signal:
            self.stdout.write(
                f"Stopped web server and worker ({signal.Signals(stop_signal[0]).name})."
            )
        elif ended:
            self.stderr.write("A child process ended; stopped the other one as well.")
            sys.exit(1)

    def _stop(self, children: list[subprocess.Popen]) -> None:
        for child in children:
            if child.poll() is None:
                try:
                    os.kill(child.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_GRACE
        for child in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left in each child's group (a hung worker, an orphaned grandchild).
        for child in children:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if child.poll() is None:
                child.wait()
