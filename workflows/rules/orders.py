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


# What each undecided device still waits for, before its order's one payout may go: an offer
# to be answered, the device itself, a return case, the buyer's answer to a revised offer.
# Every other state is decided: received (owed), closed (paid), or ended with nothing owed.
PAYOUT_WAITS = {
    State.SUBMITTED: "%(ref)s has no offer yet.",
    State.QUOTED: "%(ref)s has an offer the buyer has not answered.",
    State.ACCEPTED: "%(ref)s has not arrived: receive it, or cancel it alone if it never comes.",
    State.REROUTED: "%(ref)s is in Returns: decide its return case first.",
    State.REOFFERED: "%(ref)s waits for the buyer's answer to a revised offer.",
}


# The same, as a list's column says it ("TI-000123-2 not arrived").
PAYOUT_WAITS_SHORT = {
    State.SUBMITTED: "no offer yet",
    State.QUOTED: "offer not answered",
    State.ACCEPTED: "not arrived",
    State.REROUTED: "in Returns",
    State.REOFFERED: "revised offer not answered",
}


def order_payout_wait(devices: Iterable[TradeIn]) -> str:
    """Why the order's one payout cannot go yet ("" when it can): it is settled once every
    device in the box is decided, so it pays the sum of the kept devices' final amounts."""
    for device in sorted(devices, key=lambda device: device.position):
        if wait := PAYOUT_WAITS.get(device.state):
            return (wait % {"ref": device.reference}) + " The order is paid in one payout."
    return ""
