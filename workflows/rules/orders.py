"""What an order of several devices is ready for: asked by the actions that quote and decline
(to send one offer email per order) and by the order's offer page. Pure reads, no writes."""

from __future__ import annotations

from collections.abc import Iterable

from workflows.models import Order, State, TradeIn


def is_multi_device(order: Order | None) -> bool:
    """An order of one is today's trade-in: it keeps its own quote email and label."""
    return order is not None and order.devices.count() > 1


def order_ready_to_offer(devices: Iterable[TradeIn]) -> bool:
    """Every device is decided for quoting and at least one has an offer waiting.

    Decided: quoted, or ended (declined, by staff or for a red flag; expired; or already
    answered and on its way). Only a device still waiting for its first quote (submitted)
    holds the email back."""
    states = [device.state for device in devices]
    return bool(states) and State.SUBMITTED not in states and State.QUOTED in states


def order_offer_quote_ids(devices: Iterable[TradeIn]) -> list[int] | None:
    """The newest quote of each quoted device, in the order's order, when the order is ready
    to offer (what its one email and its one link offer); else None."""
    devices = sorted(devices, key=lambda device: device.position)
    if not order_ready_to_offer(devices):
        return None
    return [device.latest_quote().pk for device in devices if device.state == State.QUOTED]
