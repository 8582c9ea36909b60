"""Logging filters."""

from __future__ import annotations

import logging


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
