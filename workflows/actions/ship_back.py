"""Devices that must go back to their buyer: one record each (ShipBack), opened by every flow
that sends a device back, packed and shipped by staff with a tracking number, and closed only
when the carrier confirms delivery or the buyer collects it at the counter."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from workflows.actions._common import (
    Actor,
    Operation,
    authorize,
    lock_trade_in,
    record_event,
)
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    EventKind,
    ShipBack,
)
from workflows.rules.parsers import clean_text


def _lock(ship_back: ShipBack, actor: Actor) -> ShipBack:
    authorize(actor, Operation.SHIP_BACK)
    trade_in = lock_trade_in(ship_back.trade_in)
    # Only the ship-back's row (the label is joined nullable, and is the tracking sweep's).
    locked = ShipBack.objects.select_for_update(of=("self",)).select_related("label", "unit")
    ship_back = locked.get(pk=ship_back.pk)
    ship_back.trade_in = trade_in
    return ship_back


def _refuse_unless(ship_back: ShipBack, transition: str, what: str) -> None:
    if not can_proceed(getattr(ship_back, transition)):
        raise TransitionRefused(
            _("%(ref)s is %(status)s: it cannot be %(what)s.")
            % {
                "ref": ship_back.trade_in,
                "status": ship_back.get_status_display().lower(),
                "what": what,
            }
        )


@transaction.atomic(durable=True)
def ship_back_pack(*, ship_back: ShipBack, actor: Actor) -> ShipBack:
    """The device is boxed (with its return label on it, or at the counter for pickup)."""
    ship_back = _lock(ship_back, actor)
    _refuse_unless(ship_back, "pack", _("packed"))
    ship_back.pack()
    ship_back.packed_by = actor
    ship_back.save()
    record_event(
        ship_back.trade_in,
        kind=EventKind.SHIP_BACK_PACKED,
        actor=actor,
        note=_("Unit %s packed") % ship_back.unit.imei
        + (_(" for the buyer to collect at the counter") if ship_back.counter_pickup else ""),
    )
    return ship_back


@transaction.atomic(durable=True)
def ship_back_ship(
    *, ship_back: ShipBack, actor: Actor, tracking_number: str, carrier: str = ""
) -> ShipBack:
    """Handed to the carrier: stays on the list until the carrier confirms delivery."""
    ship_back = _lock(ship_back, actor)
    tracking_number = clean_text(tracking_number).replace(" ", "")
    if not tracking_number:
        raise InvalidInput(_("Enter the parcel's tracking number."))
    if len(tracking_number) > 80:
        raise InvalidInput(_("A tracking number is at most 80 characters."))
    if ship_back.counter_pickup:
        raise TransitionRefused(
            _("%s is collected at the counter, not shipped.") % ship_back.trade_in
        )
    _refuse_unless(ship_back, "ship", _("shipped"))
    ship_back.ship()
    ship_back.shipped_by = actor
    ship_back.tracking_number = tracking_number
    ship_back.carrier = clean_text(carrier)[:40] or ship_back.carrier
    ship_back.save()
    record_event(
        ship_back.trade_in,
        kind=EventKind.SHIP_BACK_SHIPPED,
        actor=actor,
        note=_("Shipped back, tracking %s") % tracking_number
        + (f" ({ship_back.carrier})" if ship_back.carrier else ""),
    )
    return ship_back


@transaction.atomic(durable=True)
def ship_back_collect(*, ship_back: ShipBack, actor: Actor, note: str = "") -> ShipBack:
    """The buyer collected the device at the counter (a drop-off trade-in)."""
    ship_back = _lock(ship_back, actor)
    _refuse_unless(ship_back, "collect", _("collected at the counter"))
    ship_back.collect()
    ship_back.closed_note = clean_text(note)
    ship_back.save()
    record_event(
        ship_back.trade_in,
        kind=EventKind.SHIP_BACK_COLLECTED,
        actor=actor,
        note=_("Unit %s handed to the buyer") % ship_back.unit.imei
        + (f": {ship_back.closed_note}" if ship_back.closed_note else ""),
    )
    return ship_back


@transaction.atomic(durable=True)
def ship_back_confirm_delivery(*, ship_back: ShipBack, actor: Actor, note: str) -> ShipBack:
    """Staff confirm a delivery the tracking sweep cannot see (a parcel sent without our
    label, or a carrier that does not report): only with a note saying how they know."""
    note = clean_text(note)
    if not note:
        raise InvalidInput(_("Say how you know it was delivered (e.g. the carrier's page)."))
    ship_back = _lock(ship_back, actor)
    _refuse_unless(ship_back, "deliver", _("confirmed delivered"))
    ship_back.deliver()
    ship_back.closed_note = note
    ship_back.save()
    record_event(
        ship_back.trade_in,
        kind=EventKind.SHIP_BACK_DELIVERED,
        actor=actor,
        note=_("Delivery to the buyer confirmed by hand: %s") % note,
    )
    return ship_back
