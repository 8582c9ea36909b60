"""gunicorn's settings for `make run` (and any `gunicorn -c gunicorn.conf.py` in production).

The access log redacts signed buyer links, IMEIs, emails and search terms (backoffice.redaction).
"""

logger_class = "backoffice.redaction.RedactingGunicornLogger"
accesslog = "-"
# A request still running after a SIGTERM gets this long to finish before the worker is killed.
graceful_timeout = 10
