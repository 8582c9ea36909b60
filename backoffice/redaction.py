"""What never reaches a log: signed buyer links, IMEIs, email addresses and staff searches.

A signed offer, status or payout link works like a password for one trade-in, so a log line
that records it hands the trade-in to whoever reads the logs. `redact()` runs over every line
Django's loggers format (RedactingFormatter, set in settings.LOGGING) and over every atom of
gunicorn's access log (RedactingGunicornLogger, set in gunicorn.conf.py).
"""

from __future__ import annotations

import json
import logging
import os
import re

from gunicorn.glogging import Logger as GunicornLogger
from gunicorn.glogging import SafeAtoms

# The path segment after /trade-in/<page>/ is a signed token on every buyer page that has one.
_TOKEN_IN_PATH = re.compile(r"(/trade-in/(?:thanks|status|label|offer|payout-setup)/)[^/?#\s\"']+")
# A Django-signed value anywhere else: base64 JSON ("eyJ...", "." first when compressed),
# a colon, the signature.
_SIGNED = re.compile(r"\.?eyJ[A-Za-z0-9_-]*(?::[A-Za-z0-9_-]+)+")
# Query parameters whose values are personal or secret, also inside an URL-encoded
# _changelist_filters (where "=" is %3D and "&" is %26).
SECRET_PARAMS = ("q", "imei", "email", "buyer_email", "buyer_name", "token", "code", "password")
_SECRET_PARAM = re.compile(
    rf"((?:^|[?&;=\s]|%26|%3F)(?:{'|'.join(SECRET_PARAMS)})"
    r"(?:=|%3D))(?:(?!%26)[^&\s\"'#])*",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
# An IMEI is 15 digits (16 with a software version); nothing else we log is that long a number.
_IMEI = re.compile(r"(?<![\d.])\d{14,16}(?![\d.])")


def redact(text: str) -> str:
    # Each pattern runs only where the text holds what it cannot match without (a path, a
    # status code or a timestamp, most of a log line's parts, skip four of the five).
    if "/trade-in/" in text:
        text = _TOKEN_IN_PATH.sub(r"\1[token]", text)
    if "eyJ" in text:
        text = _SIGNED.sub("[token]", text)
    if "=" in text or "%3" in text:
        text = _SECRET_PARAM.sub(r"\1[redacted]", text)
    if "@" in text or "%40" in text:
        text = _EMAIL.sub("[email]", text)
    return _IMEI.sub("[imei]", text)


class RedactingFormatter(logging.Formatter):
    """The usual line, traceback included, with redact() applied to all of it."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


# Request and response headers that carry credentials are never logged, even if someone
# adds them to the access log format.
_SECRET_HEADERS = {"{cookie}i", "{authorization}i", "{x-csrftoken}i", "{set-cookie}o"}


class _RedactedAtoms(SafeAtoms):
    """gunicorn's atoms as its access log reads them (case-insensitive headers, "-" when
    missing), each redacted on the way out: credential headers and the environ (which holds
    the raw query and cookies again) are "-", every other text atom goes through redact()."""

    def __init__(self, atoms: dict) -> None:
        # SafeAtoms escapes all fifty-odd atoms (every header, every environ key) up front; a
        # line's format reads a dozen, so each is redacted and escaped when it is read.
        dict.__init__(self, atoms)
        self.json = _json_logs()

    def __getitem__(self, key: str):
        name = key.lower() if key.startswith("{") else key
        if name in _SECRET_HEADERS or name.endswith("}e"):
            return "-"
        value = super().__getitem__(key)
        if not isinstance(value, str) or value == "-":
            return value
        value = redact(value)
        if self.json:
            # Backslashes and control characters escaped for JSON; quotes are left to the
            # escaping below (SafeAtoms'), which writes \" for every format.
            value = json.dumps(value, ensure_ascii=False)[1:-1].replace('\\"', '"')
        return value.replace('"', '\\"')


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's access log, with every atom (request line, path, query, referer) redacted,
    and without the load balancer's probes (/healthz, /readyz: one line per node every few
    seconds would bury the requests that matter)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if _json_logs():
            # gunicorn's own lines (start, workers, errors) as JSON too; the access lines are
            # JSON by their format (gunicorn.conf.py).
            from backoffice.logs import JsonFormatter

            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if environ.get("PATH_INFO") in ("/healthz", "/readyz"):
            return
        super().access(resp, req, environ, request_time)

    atoms_wrapper_class = _RedactedAtoms


def _json_logs() -> bool:
    return os.getenv("LOG_FORMAT", "plain").strip().lower() == "json"
