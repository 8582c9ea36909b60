"""gunicorn's logger (set in gunicorn.conf.py): its access log redacted like Django's lines
(backoffice.redaction), without the load balancer's probes, and JSON when LOG_FORMAT=json
(backoffice.logs.JsonFormatter)."""

from __future__ import annotations

import json
import os

from gunicorn.glogging import Logger as GunicornLogger

from backoffice.logs import JsonFormatter
from backoffice.redaction import redact

# Request and response headers that carry credentials are never logged, even if someone
# adds them to the access log format.
_SECRET_HEADERS = {"{cookie}i", "{authorization}i", "{x-csrftoken}i", "{set-cookie}o"}


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

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key in _SECRET_HEADERS or key.endswith("}e"):
                atoms[key] = "-"  # environ holds the raw query and cookies again
            elif isinstance(value, str):
                atoms[key] = redact(value)
                if _json_logs():
                    # Backslashes and control characters escaped for JSON; quotes are left to
                    # gunicorn's SafeAtoms, which escapes them (\") for every format.
                    escaped = json.dumps(atoms[key], ensure_ascii=False)[1:-1]
                    atoms[key] = escaped.replace('\\"', '"')
        return atoms


def _json_logs() -> bool:
    return os.getenv("LOG_FORMAT", "plain").strip().lower() == "json"
