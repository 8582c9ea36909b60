"""The worker's heartbeat: every `manage.py qcluster` beats into the shared cache while its
sentinel lives, and /readyz (backoffice.health) says when no worker was seen lately. django-q2's
own Stat lives in the per-process cache here, and a scheduled task would beat only once a
minute."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.db import connections

logger = logging.getLogger(__name__)

WORKER_SEEN_KEY = "health:worker-seen"


def beat() -> None:
    caches["shared"].set(
        WORKER_SEEN_KEY, {"at": time.time(), "host": socket.gethostname(), "pid": os.getpid()}, None
    )


def heartbeat_interval() -> float:
    """Three beats inside READY_WORKER_SEEN_MINUTES, and at least one a minute."""
    return max(0.5, min(60.0, settings.READY_WORKER_SEEN_MINUTES * 60 / 3))


def start_heartbeat(sentinel) -> threading.Thread:
    """Beat from `manage.py qcluster`'s main process while its sentinel (the process that keeps
    the workers alive) runs. Not a daemon: it ends when the sentinel does, promptly."""

    def run() -> None:
        interval = heartbeat_interval()
        next_beat = 0.0
        while sentinel.is_alive():
            if time.monotonic() >= next_beat:
                try:
                    beat()
                except Exception:  # noqa: BLE001 - readyz reports the missing beats
                    logger.warning("worker heartbeat failed", exc_info=True)
                finally:
                    connections.close_all()
                next_beat = time.monotonic() + interval
            time.sleep(0.2)

    thread = threading.Thread(target=run, name="readyz-heartbeat")
    thread.start()
    return thread
