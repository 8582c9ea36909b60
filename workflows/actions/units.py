"""A unit's life in stock after grading: listed, sold, recycled, used for parts.

Every status change of a unit goes through `move_unit`, which keeps `Product.stock` equal to
the count of the product's units in STOCKED_STATUSES: it compares the unit's stocked-ness
before and after the transition instead of each caller remembering its +1 or -1.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed, has_transition_perm

from workflows.actions._common import Actor, Operation, authorize, record_event
from workflows.actions.compliance import refuse_if_on_hold
from workflows.actions.tradeins import _change_stock
from workflows.compliance import hold_refusal
from workflows.errors import TransitionRefused
from workflows.models import Event, EventKind, Unit
from workflows.parsers import clean_text
from workflows.permissions import allowed

# The operations staff run from a unit's page and in bulk from the units list:
# name -> (Unit transition, what the timeline and the messages call it).
OPERATIONS: dict[str, tuple[str, str]] = {
    "list": ("list_for_sale", gettext_lazy("listed for sale")),
    "unlist": ("unlist", gettext_lazy("taken off sale")),
    "sell": ("sell", gettext_lazy("sold")),
    "recycle": ("recycle", gettext_lazy("recycled")),
    "parts": ("use_for_parts", gettext_lazy("used for parts")),
}


# The timeline row each Unit transition writes.
UNIT_EVENT = {
    "list_for_sale": EventKind.UNIT_LISTED,
    "unlist": EventKind.UNIT_UNLISTED,
    "sell": EventKind.UNIT_SOLD,
    "recycle": EventKind.UNIT_RECYCLED,
    "use_for_parts": EventKind.UNIT_USED_FOR_PARTS,
    "return_to_buyer": EventKind.UNIT_RETURNED,
    "restock": EventKind.UNIT_RESTOCKED,
}


def lock_unit(unit: Unit) -> Unit:
    # Only the unit's row: its trade-in is locked first by the callers that change it.
    locked = Unit.objects.select_for_update(of=("self",)).select_related("trade_in")
    return locked.get(pk=unit.pk)


def move_unit(unit: Unit, transition: str, *, actor: Actor, note: str = "") -> Event | None:
    """Run one Unit transition on a locked unit; stock follows; the trade-in's timeline says so.

    The caller holds the transaction and the unit's row lock. The police hold is asked here,
    the one place every unit move passes (the unit page, bulk actions, return cases, revised
    offers, direct calls).
    """
    refuse_if_on_hold(unit, transition)
    method = getattr(unit, transition)
    if not can_proceed(method):
        raise TransitionRefused(
            _("Unit %(imei)s is %(status)s: it cannot be %(what)s.")
            % {
                "imei": unit.imei,
                "status": unit.get_status_display().lower(),
                "what": transition.replace("_", " "),
            }
        )
    before, was_stocked = unit.status, unit.is_stocked
    method()
    unit.status_changed_at = timezone.now()
    unit.save()
    delta = int(unit.is_stocked) - int(was_stocked)
    if delta:
        _change_stock(unit.product_id, delta)
    if unit.trade_in_id is None:
        return None
    return record_event(
        unit.trade_in,
        kind=UNIT_EVENT[transition],
        actor=actor,
        from_state=before,
        to_state=unit.status,
        note=f"Unit {unit.imei}" + (f": {note}" if note else ""),
    )


@transaction.atomic(durable=True)
def unit_change_status(*, unit: Unit, actor: Actor, operation: str, note: str = "") -> Unit:
    """List, unlist, sell, recycle or part out one unit (staff with the unit permission)."""
    if operation not in OPERATIONS:
        raise TransitionRefused(_("Unknown operation on a unit: %s.") % operation)
    authorize(actor, Operation.MOVE_UNIT)
    unit = lock_unit(unit)
    move_unit(unit, OPERATIONS[operation][0], actor=actor, note=clean_text(note))
    return unit


def available_operations(unit: Unit, user: object) -> list[tuple[str, str]]:
    """The operations the unit's page offers: the FSM's and the police hold's answers, never
    restated (a held unit shows the hold, not a button that would be refused)."""
    if not allowed(user, Operation.MOVE_UNIT):
        return []
    return [
        (name, label)
        for name, (transition, label) in OPERATIONS.items()
        if can_proceed(getattr(unit, transition))
        and has_transition_perm(getattr(unit, transition), user)
        and not hold_refusal(unit, transition)
    ]
