"""The preconditions of the actions, each in one place. The actions refuse when one does
not hold; the staff pages ask the same functions to decide which buttons to show."""

from __future__ import annotations

from django.conf import settings

from workflows.models import Fulfilment, TradeIn


def wants_pickup(trade_in: TradeIn) -> bool:
    """The buyer chose drop-off. A local postcode never decides it for them: the form asks."""
    return trade_in.fulfilment == Fulfilment.PICKUP


def near_shop(postcode: str) -> bool:
    """A postcode close enough to the shop that the form offers drop-off instead of a label."""
    return postcode.strip().upper()[:5] in {p.upper() for p in settings.LOCAL_PICKUP_POSTCODES}
