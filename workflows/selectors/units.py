"""What a unit's page and the units list offer: the FSM's and the police hold's answers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from django_fsm import can_proceed, has_transition_perm

from workflows.models import Unit
from workflows.rules.compliance import hold_refusal
from workflows.rules.permissions import Operation, allowed

# The operations staff run from a unit's page and in bulk from the units list:
# name -> (Unit transition, what the timeline and the messages call it).
OPERATIONS: dict[str, tuple[str, str]] = {
    "list": ("list_for_sale", gettext_lazy("listed for sale")),
    "unlist": ("unlist", gettext_lazy("taken off sale")),
    "sell": ("sell", gettext_lazy("sold")),
    "recycle": ("recycle", gettext_lazy("recycled")),
    "parts": ("use_for_parts", gettext_lazy("used for parts")),
}


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
