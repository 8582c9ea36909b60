"""How money and times read, written once for every page, admin column, email and PDF.

`money` is the one money format (the buyer portal's filter, the back office's columns and
templates, the emails and the receipt PDF call it); `when` the one way an email names a
moment, with its time zone, since a buyer may not live in the shop's. `neutralise` keeps a
text cell of a CSV or XLSX we write from running as a formula (every export and the police
report).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.dateformat import format as date_format


def money(amount: Decimal | str | float | None) -> str:
    """$1,250.00: the symbol, thousands separators and cents, as an amount owed is written."""
    if amount in (None, ""):
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}{settings.CURRENCY_SYMBOL}{abs(value):,.2f}"


# The decimal fields that hold money (the others are ratios and percentages), by name: the
# back office shows every one of them through `money` (backoffice.money_display).
MONEY_FIELDS = frozenset(
    {
        "amount",
        "original_amount",
        "balance",
        "balance_after",
        "suggested_offer",
        "offer_amount",
        "base_price",
        "auto_quote_cap",
        "manager_amount",
    }
)


def is_money_field(field: object) -> bool:
    return isinstance(field, models.DecimalField) and field.name in MONEY_FIELDS


def zone_name(moment: datetime) -> str:
    """The zone's abbreviation where it has one (CST, UTC), else its offset (UTC+04:00)."""
    name = moment.tzname() or ""
    if name.isalpha():
        return name
    offset = moment.strftime("%z")  # +0400
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else settings.TIME_ZONE


def when(moment: datetime | None) -> str:
    """Dec 3, 2026, 4:25 PM CST: in the shop's time zone, named. It ends with the zone, never
    with "p.m.", so a sentence's full stop after it never makes "p.m.."."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{date_format(local, 'M j, Y')}, {date_format(local, 'g:i A')} {zone_name(local)}"


# A cell a spreadsheet would run as a formula (or a DDE command): it starts, perhaps after
# spaces, with = + - @ (or their full-width forms, which some Excel locales accept), or with a
# tab or line break. Buyers type their own names, so such a text cell gets a leading apostrophe
# (OWASP's advice): spreadsheets then show it as text. backoffice.resources runs the same
# pattern in PostgreSQL for the COPY export.
FORMULA_PATTERN = "^[ \u00a0]*[=+@\t\r\n\uff1d\uff0b\uff0d\uff20-]"
_FORMULA = re.compile(FORMULA_PATTERN)


def neutralise(value: object) -> object:
    """The value a spreadsheet shows as typed, never evaluates. Numbers and dates pass."""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value
