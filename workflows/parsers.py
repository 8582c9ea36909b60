"""Parsers of what people type: each returns the clean value or raises InvalidInput."""

from __future__ import annotations

from django.utils.translation import gettext as _
from stdnum import imei as stdnum_imei

from workflows.errors import InvalidInput


def normalize_imei(value: str) -> str:
    """The 15 digits of an IMEI typed with spaces or dashes, or scanned; InvalidInput unless
    it has exactly 15 digits and a valid check digit."""
    text = str(value).strip()
    if any(not (ch.isascii() and ch.isdigit()) and ch not in " -" for ch in text):
        raise InvalidInput(_("An IMEI has only digits."))
    digits = text.replace(" ", "").replace("-", "")
    if len(digits) != 15:
        raise InvalidInput(_("An IMEI has exactly 15 digits."))
    if not stdnum_imei.is_valid(digits):
        raise InvalidInput(_("This IMEI's last digit does not match; please check for typos."))
    return digits
