"""What never reaches a log: signed buyer links, IMEIs, email addresses and staff searches.

A signed offer, status or payout link works like a password for one trade-in, so a log line
that records it hands the trade-in to whoever reads the logs. `redact()` runs over every line
Django's loggers format (RedactingFormatter, set in settings.LOGGING) and over every atom of
gunicorn's access log (backoffice.gunicorn_logger, set in gunicorn.conf.py).
"""

from __future__ import annotations

import logging
import re

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
