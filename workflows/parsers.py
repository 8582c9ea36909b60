"""Parsers of what people type: each returns the clean value or raises InvalidInput."""

from __future__ import annotations

import re
import unicodedata

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


# Bidirectional overrides, embeddings and isolates make "Ada<RLO>moc.elpmaxe" read as another
# name in the queue, an email or a spreadsheet; zero-width characters make two names that look
# the same compare different (and hide text from a search). Neither belongs in a name, an
# address or a reason, and control characters never do.
_INVISIBLE = re.compile(
    "[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u180e"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)


def clean_text(value: str) -> str:
    """NFC-normalised, without bidi controls, zero-width or control characters, trimmed.

    Line breaks and tabs stay (reasons and notes may have several lines).
    """
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", str(value))).strip()
