"""Health for the load balancer: `/healthz` (alive) and `/readyz` (ready for traffic).

Both are answered by HealthMiddleware, first in MIDDLEWARE: before the host check (a balancer
probes by the node's address, which ALLOWED_HOSTS does not list), the HTTPS redirect, sessions,
sign-in, CSRF and CSP. gunicorn leaves them out of its access log (backoffice.gunicorn_logger).

/healthz touches nothing: the process answers. /readyz asks, each timed, as JSON:

- database: `SELECT 1`;
- cache: a write and a read in the shared cache (rate limits, the worker's heartbeat);
- storage: the default storage answers (an `exists()`; a local folder must be writable);
- outbox: the side effect that has waited longest since it was due (workflows' SideEffect,
  pending, next attempt passed) has waited under READY_MAX_OUTBOX_AGE_MINUTES. Rows waiting for
  a later retry are not late: a failing mail server is the outbox's job, not the balancer's;
- worker: a django-q2 cluster was seen in the last READY_WORKER_SEEN_MINUTES. Every
  `manage.py qcluster` beats (workflows.tasks.heartbeat) into the shared cache while its
  sentinel lives:
  django-q2's own Stat lives in the per-process cache here, and a scheduled task would beat
  only once a minute.

Any failed check gives 503. A failure names the exception's class only (the page is public);
the log has the rest.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from workflows.models import SideEffect, SideEffectStatus
from workflows.tasks.heartbeat import WORKER_SEEN_KEY

logger = logging.getLogger(__name__)

HEALTH_PATHS = ("/healthz", "/readyz")


def _json(body: dict, status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(body), content_type="application/json", status=status)
    response["Cache-Control"] = "no-store"
    # A 503 here is an answer, not a server error: django.request does not log it again.
    response._has_been_logged = True
    return response


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def check_cache() -> dict:
    cache = caches["shared"]
    probe = f"{socket.gethostname()}:{os.getpid()}:{time.time()}"
    cache.set("health:probe", probe, 30)
    if cache.get("health:probe") is None:
        raise RuntimeError("the cache kept nothing")
    return {}


def check_storage() -> dict:
    default_storage.exists("health-probe")  # S3 and the like: a request that must answer
    if isinstance(default_storage, FileSystemStorage):
        # A missing folder "exists" nothing without an error: ask for what uploads need. The
        # first upload makes the folder (a fresh `make run` has none yet), so make it here too.
        try:
            os.makedirs(default_storage.location, exist_ok=True)
        except OSError as exc:
            raise PermissionError("the storage folder cannot be made") from exc
        if not os.access(default_storage.location, os.W_OK):
            raise PermissionError("the storage folder is not writable")
    return {}


def check_outbox() -> dict:
    now = timezone.now()
    oldest = (
        SideEffect.objects.filter(status=SideEffectStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    waited = (now - oldest).total_seconds() if oldest else 0.0
    limit = timedelta(minutes=settings.READY_MAX_OUTBOX_AGE_MINUTES).total_seconds()
    result = {"oldest_due_seconds": round(waited), "limit_seconds": round(limit)}
    if waited >= limit:
        raise LateError(result)
    return result


def check_worker() -> dict:
    seen = caches["shared"].get(WORKER_SEEN_KEY)
    limit = timedelta(minutes=settings.READY_WORKER_SEEN_MINUTES).total_seconds()
    if not seen:
        raise LateError({"seen_seconds_ago": None, "limit_seconds": round(limit)})
    ago = max(0.0, time.time() - seen["at"])
    result = {"seen_seconds_ago": round(ago, 1), "limit_seconds": round(limit)}
    if ago >= limit:
        raise LateError(result)
    return result


class LateError(Exception):
    """A check that answered, with a number past its limit."""

    def __init__(self, detail: dict) -> None:
        super().__init__(detail)
        self.detail = detail


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "cache": check_cache,
    "storage": check_storage,
    "outbox": check_outbox,
    "worker": check_worker,
}


def readiness() -> tuple[bool, dict]:
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            result = {"ok": True, **check()}
        except LateError as late:
            result = {"ok": False, **late.detail}
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            logger.warning("readyz: %s check failed: %r", name, exc)
            result = {"ok": False, "error": type(exc).__name__}
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = result
    return all(result["ok"] for result in results.values()), results


class HealthMiddleware:
    """First in MIDDLEWARE: /healthz and /readyz skip everything after it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz":
            return _json({"status": "ok"})
        if request.path_info == "/readyz":
            ok, checks = readiness()
            return _json({"status": "ok" if ok else "fail", "checks": checks}, 200 if ok else 503)
        return self.get_response(request)
