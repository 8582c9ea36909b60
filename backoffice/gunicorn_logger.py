"""gunicorn's logger (set in gunicorn.conf.py): its access log redacted like Django's lines
(backoffice.redaction), without the load balancer's probes, and JSON when LOG_FORMAT=json
(backoffice.logs.JsonFormatter)."""

from __future__ import annotations

import json
import os

from gunicorn.glogging import Logger as GunicornLogger
from gunicorn.glogging import SafeAtoms

from backoffice.logs import JsonFormatter
from backoffice.redaction import redact

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
            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if environ.get("PATH_INFO") in ("/healthz", "/readyz"):
            return
        super().access(resp, req, environ, request_time)

    atoms_wrapper_class = _RedactedAtoms


def _json_logs() -> bool:
    return os.getenv("LOG_FORMAT", "plain").strip().lower() == "json"
