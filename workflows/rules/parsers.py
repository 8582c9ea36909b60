"""Parsers of what people type: each returns the clean value or raises InvalidInput."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _
from stdnum import imei as stdnum_imei
from stdnum import luhn

from workflows.errors import InvalidInput

# What buyers paste around the digits: spaces (NFKC makes a no-break space one), dashes of
# every kind, and dots.
_IMEI_SEPARATORS = set(" -.\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_IMEI_LABEL = re.compile(r"^imei\s*(sv)?\s*(no\.?|number)?\s*[:#]?\s*", re.IGNORECASE)


def normalize_imei(value: str) -> str:
    """The 15 digits of an IMEI, from what buyers copy from a phone or its box; InvalidInput
    saying what is wrong otherwise. The same rules are in portal.js (typing and scanning).

    Accepted: spaces, dashes and dots anywhere; full-width digits and other scripts' digits
    (Arabic-Indic ...), read after NFKC; a leading "IMEI:" label; the IMEI/SVN form Samsung's
    *#06# shows (`356303485329443/01`); the 16-digit IMEISV (its first 14 digits are the IMEI
    without check digit); the 14 digits without check digit (the check digit is computed).
    Refused with its name: an MEID (14 hexadecimal characters, or 18 decimal digits), the
    identifier of CDMA-only phones."""
    text = _IMEI_LABEL.sub("", unicodedata.normalize("NFKC", str(value)).strip())
    compact = "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() else ch
        for ch in text
        if ch not in _IMEI_SEPARATORS
    )
    with_svn = re.fullmatch(r"(\d{15})/\d{2}", compact)
    if with_svn:
        compact = with_svn.group(1)
    if (
        re.fullmatch(r"[0-9A-Fa-f]{14}", compact)
        and not compact.isdigit()
        or (compact.isdigit() and len(compact) == 18)
    ):
        raise InvalidInput(
            _(
                "This is an MEID, the number of a CDMA phone, not an IMEI. Please enter "
                "the 15-digit IMEI (dial *#06# or see Settings → About)."
            )
        )
    if not compact.isdigit():
        raise InvalidInput(_("An IMEI has only digits."))
    if len(compact) in (14, 16):
        # Without check digit, or the IMEISV (14 digits + a 2-digit software version).
        compact = compact[:14] + luhn.calc_check_digit(compact[:14])
    if len(compact) != 15:
        raise InvalidInput(_("An IMEI has exactly 15 digits."))
    if not stdnum_imei.is_valid(compact):
        raise InvalidInput(_("This IMEI's last digit does not match; please check for typos."))
    return compact


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
