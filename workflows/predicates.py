"""The preconditions of the actions, each in one place. The actions refuse when one does
not hold; the staff pages ask the same functions to decide which buttons to show."""

from __future__ import annotations

from django.conf import settings

from workflows.models import Fulfilment, TradeIn


def wants_pickup(trade_in: TradeIn) -> bool:
    """Local buyers get drop-off instructions instead of a shipping label."""
    postcode = trade_in.postcode.strip().upper()
    return trade_in.fulfilment == Fulfilment.PICKUP or postcode in {
        p.upper() for p in settings.LOCAL_PICKUP_POSTCODES
    }
