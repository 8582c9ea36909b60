"""Logging filters and formats: one-line 4xx, a request id on every line, LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from django.core.signals import request_finished, request_started
from django.dispatch import receiver

from backoffice.redaction import redact


class OneLineClientErrors(logging.Filter):
    """A refused request (403: a staff member without the permission, a bad CSRF token) is
    expected traffic: log its one line ("Forbidden (Permission denied): /path"), without the
    traceback of the exception Django used to say no. Server errors keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


# --- A request id on every line ------------------------------------------------------------------

# The id of the request this thread (or task) is serving, set when Django starts a request and
# cleared when it finishes, so lines logged after the view (the 4xx/5xx line, the traceback) carry
# it too. None outside requests (the worker, commands).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# An incoming X-Request-ID (from nginx's $request_id or the load balancer) is kept when it looks
# like an id, never a place to smuggle text into our logs.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")


def request_id_from(environ: dict) -> str:
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    return incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex


@receiver(request_started)
def _request_started(sender, environ=None, scope=None, **kwargs) -> None:
    if environ is None and scope is not None:  # ASGI
        environ = {
            f"HTTP_{name.decode('latin-1').upper().replace('-', '_')}": value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
    REQUEST_ID.set(request_id_from(environ or {}))


@receiver(request_finished)
def _request_finished(sender, **kwargs) -> None:
    REQUEST_ID.set(None)


class RequestIdMiddleware:
    """Returns the request's id in the X-Request-ID response header (to quote in a support
    ticket, and for nginx's access log)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request_id = REQUEST_ID.get()
        if request_id is None:  # a request Django did not start (RequestFactory)
            request_id = request_id_from(request.META)
            REQUEST_ID.set(request_id)
        request.request_id = request_id
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """LOG_FORMAT=json: one JSON object per line, redacted like the plain lines."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            line["status"] = status
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["traceback"] = redact(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)
