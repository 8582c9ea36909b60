"""A buyer's basket: several devices in one submission (one order)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.utils.translation import gettext as _

# What each device of a basket has of its own; everything else on the form (the buyer, the
# address, ship or drop-off, the payout method) is asked once for the whole basket.
DEVICE_FIELDS = ("product", "screen", "body", "battery", "accessories", "imei")


def repeated_imei(imeis: Sequence[str]) -> tuple[int, int] | None:
    """The positions (from 1) of the first IMEI that is in the basket twice, or None."""
    seen: dict[str, int] = {}
    for position, imei in enumerate(imeis, start=1):
        if imei in seen:
            return seen[imei], position
        seen[imei] = position
    return None


def repeated_imei_message(first: int, second: int) -> str:
    return _(
        "Devices %(first)d and %(second)d have the same IMEI. Each phone has its own: please "
        "check the IMEI of one of them."
    ) % {"first": first, "second": second}


def basket_full(count: int) -> bool:
    """`count` devices already in the basket: may one more go in?"""
    return count >= settings.BASKET_MAX_DEVICES


def basket_full_message() -> str:
    return _(
        "A trade-in holds at most %(n)d devices. Send these first, then start another "
        "trade-in for the rest."
    ) % {"n": settings.BASKET_MAX_DEVICES}
