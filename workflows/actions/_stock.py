"""Stock and units, inside the caller's transaction: private helpers the actions share.

Every status change of a unit goes through `_move_unit`, which keeps `Product.stock` equal to
the count of the product's units in STOCKED_STATUSES: it compares the unit's stocked-ness
before and after the transition instead of each caller remembering its +1 or -1. `Unit.status`
is protected, so no other code can set it.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from workflows.actions._common import Actor, record_event
from workflows.errors import TransitionRefused
from workflows.models import Event, EventKind, Product, Unit
from workflows.rules.compliance import hold_refusal

# The timeline row each Unit transition writes. None: the trade-in's own transition (receive,
# accept a revised offer, cancel, reroute) is the row that says it.
UNIT_EVENT: dict[str, EventKind | None] = {
    "list_for_sale": EventKind.UNIT_LISTED,
    "unlist": EventKind.UNIT_UNLISTED,
    "sell": EventKind.UNIT_SOLD,
    "recycle": EventKind.UNIT_RECYCLED,
    "use_for_parts": EventKind.UNIT_USED_FOR_PARTS,
    "return_to_buyer": EventKind.UNIT_RETURNED,
    "restock": EventKind.UNIT_RESTOCKED,
    "grade_as_sellable": None,
    "void": None,
    "send_to_returns": None,
}

# What a refusal calls a transition where its name does not read as a past participle.
_WHAT = {"send_to_returns": "sent to Returns", "grade_as_sellable": "graded", "void": "voided"}


def _lock_product(product_id: int) -> Product:
    # Two trade-ins of the same product accepted or cancelled at once must not lose an update.
    return Product.objects.select_for_update().get(pk=product_id)


def _change_stock(product_id: int, delta: int) -> None:
    product = _lock_product(product_id)
    if product.stock + delta < 0:
        raise TransitionRefused(_("Stock of %(product)s is already 0.") % {"product": product})
    Product.objects.filter(pk=product_id).update(stock=F("stock") + delta)


def _lock_unit(unit: Unit) -> Unit:
    # Only the unit's row: its trade-in is locked first by the callers that change it.
    locked = Unit.objects.select_for_update(of=("self",)).select_related("trade_in")
    return locked.get(pk=unit.pk)


def _refuse_if_on_hold(unit: Unit, transition: str) -> None:
    """Raise if the police hold refuses this Unit transition (workflows.rules.compliance)."""
    refusal = hold_refusal(unit, transition)
    if refusal:
        raise TransitionRefused(refusal)


def _move_unit(unit: Unit, transition: str, *, actor: Actor, note: str = "") -> Event | None:
    """Run one Unit transition on a locked unit; stock follows; the trade-in's timeline says so.

    The caller holds the transaction and the unit's row lock. The police hold is asked here,
    the one place every unit move passes (the unit page, bulk actions, return cases, revised
    offers, cancelling and rerouting).
    """
    _refuse_if_on_hold(unit, transition)
    method = getattr(unit, transition)
    if not can_proceed(method):
        raise TransitionRefused(
            _("Unit %(imei)s is %(status)s: it cannot be %(what)s.")
            % {
                "imei": unit.imei,
                "status": unit.get_status_display().lower(),
                "what": _WHAT.get(transition, transition.replace("_", " ")),
            }
        )
    before, was_stocked = unit.status, unit.is_stocked
    method()
    unit.status_changed_at = timezone.now()
    unit.save()
    delta = int(unit.is_stocked) - int(was_stocked)
    if delta:
        _change_stock(unit.product_id, delta)
    kind = UNIT_EVENT[transition]
    if unit.trade_in_id is None or kind is None:
        return None
    return record_event(
        unit.trade_in,
        kind=kind,
        actor=actor,
        from_state=before,
        to_state=unit.status,
        note=f"Unit {unit.imei}" + (f": {note}" if note else ""),
    )
