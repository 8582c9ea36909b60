"""How money and times read in what buyers receive (emails)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.dateformat import format as date_format


def money(amount: Decimal | str | None) -> str:
    """$1,250.00: the symbol, thousands separators and cents, as an amount owed is written."""
    if amount in (None, ""):
        return ""
    return f"{settings.CURRENCY_SYMBOL}{Decimal(amount):,.2f}"


def when(moment: datetime | None) -> str:
    """Dec. 3, 2026 at 4:25 p.m. in the shop's time zone. It ends with "p.m.", so the
    templates never put a full stop straight after it."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{date_format(local, 'N j, Y')} at {date_format(local, 'P')}"
