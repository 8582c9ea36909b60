"""gunicorn's settings for `make run` (and any `gunicorn -c gunicorn.conf.py` in production).

The access log redacts signed buyer links, IMEIs, emails and search terms, and leaves out the
load balancer's /healthz and /readyz (backoffice.gunicorn_logger). LOG_FORMAT=json makes every line,
access and gunicorn's own, one JSON object (the access line with the request's id).
"""

import os

logger_class = "backoffice.gunicorn_logger.RedactingGunicornLogger"
accesslog = "-"
# A request still running after a SIGTERM gets this long to finish before the worker is killed.
graceful_timeout = 10

if os.getenv("LOG_FORMAT", "plain").strip().lower() == "json":
    # The request id is the X-Request-ID our middleware returns; the logger escapes each value.
    access_log_format = (
        '{"time": "%(t)s", "level": "INFO", "logger": "gunicorn.access", "request_id": '
        '"%({x-request-id}o)s", "remote": "%(h)s", "request": "%(r)s", "status": %(s)s, '
        '"bytes": "%(b)s", "duration_ms": %(M)s, "referer": "%(f)s", "user_agent": "%(a)s"}'
    )
