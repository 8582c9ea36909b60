"""Ship-backs opened and advanced inside another action's transaction (a device returned after
inspection, the return label bought, the carrier's delivery): private helpers for the actions
in workflows.actions.inspection and .answers. Staff's own steps are workflows.actions.ship_back."""

from __future__ import annotations

from django.utils.translation import gettext as _

from workflows.actions._common import SYSTEM, record_event
from workflows.models import EventKind, ShipBack, ShipBackStatus, ShippingLabel, TradeIn, Unit
from workflows.rules.predicates import wants_pickup

# The carrier's word that the parcel reached the buyer (ShipEngine's status code).
DELIVERED = "DE"


def _ship_back_open(trade_in: TradeIn, unit: Unit, *, reason: str) -> ShipBack:
    """Inside the returning action: the device is due back; it goes on the "To ship back" list."""
    ship_back, _created = ShipBack.objects.get_or_create(
        trade_in=trade_in,
        defaults={"unit": unit, "counter_pickup": wants_pickup(trade_in), "reason": reason},
    )
    return ship_back


def _ship_back_label(trade_in: TradeIn, label: ShippingLabel) -> None:
    """Inside return_label_record: the return label is the ship-back's."""
    ShipBack.objects.filter(trade_in=trade_in, label__isnull=True).update(
        label=label, tracking_number=label.tracking_number, carrier=label.carrier
    )


def _ship_back_tracked(label: ShippingLabel, status_code: str, description: str) -> None:
    """Inside shipping_label_tracking_record: the carrier delivered the return parcel."""
    if status_code != DELIVERED:
        return
    # Only the ship-back's row: the staff actions lock the trade-in first, then this row.
    ship_back = (
        ShipBack.objects.select_for_update(of=("self",))
        .filter(label=label, status=ShipBackStatus.SHIPPED)
        .select_related("trade_in")
        .first()
    )
    if ship_back is None:
        return
    ship_back.deliver()
    ship_back.closed_note = description[:300]
    ship_back.save()
    record_event(
        ship_back.trade_in,
        kind=EventKind.SHIP_BACK_DELIVERED,
        actor=SYSTEM,
        note=_("The carrier delivered it to the buyer: %s") % description,
    )
