"""The hourly tracking sweep follows a parcel going back to its buyer too: a device shipped
back stays on "To ship back" until ShipEngine reports it delivered (loopback ShipEngine,
every request held against its published spec)."""

from __future__ import annotations

from tests.helpers import refresh
from tests.integrations.test_shipengine import sells_labels, track
from workflows import actions
from workflows.models import Direction, EventKind, ShipBack, ShipBackStatus, State
from workflows.tasks import poll_tracking


def test_the_sweep_marks_a_shipped_return_delivered(shipengine, make_trade_in, drain, staff):
    sells_labels(shipengine, [])
    trade_in = make_trade_in(State.REOFFERED)
    actions.revised_offer_decline(offer=trade_in.revised_offers.get())
    drain()
    ship_back = ShipBack.objects.get(trade_in=trade_in)
    assert ship_back.label == trade_in.labels.get(direction=Direction.TO_BUYER)

    # Not asked about before it was handed to the carrier.
    track(shipengine, "DE", "Delivered")
    assert poll_tracking() == 0
    assert refresh(ship_back).status == ShipBackStatus.TO_PACK

    actions.ship_back_pack(ship_back=ship_back, actor=staff)
    actions.ship_back_ship(ship_back=ship_back, actor=staff, tracking_number="9405511899223197")
    track(shipengine, "IT", "In Transit", "Departed USPS Facility")
    assert poll_tracking() == 1
    assert refresh(ship_back).status == ShipBackStatus.SHIPPED
    track(shipengine, "DE", "Delivered", "Delivered, In/At Mailbox")
    assert poll_tracking() == 1
    assert refresh(ship_back).status == ShipBackStatus.DELIVERED
    assert trade_in.events.filter(kind=EventKind.SHIP_BACK_DELIVERED).exists()
    assert poll_tracking() == 0  # delivered: no longer asked
