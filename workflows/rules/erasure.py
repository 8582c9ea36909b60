"""What anonymisation erases besides the order's own columns: the buyer's values where the
timeline and the payout-detail changes wrote them down (workflows.actions.compliance._anonymise).

The values are found, not guessed: the order's own, the old and new of each payout-detail
change, and what migration 0038 wrote of a device that held other details. Each is then
replaced wherever a note of the order's devices repeats it, so a note keeps what happened
("Buyer email: (erased) → (erased). Called back") and loses who it happened to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from workflows.models import Order

ERASED = "(erased)"

# The details that name or locate the buyer. The payout method, ship or drop-off and the
# country say nothing about who; a state alone ("IL") would also match inside ordinary words.
IDENTIFYING = (
    "buyer_name",
    "buyer_email",
    "buyer_phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postcode",
)
# Shorter values are not looked for in free text: "IL" is inside "Email".
_SHORTEST = 3
# Migration 0038's note on a device whose details differed from its order's first device.
_HELD_OTHERS = "this device held others: "


def erased_changes(changes: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """A payout-detail change's {field: {"old", "new"}} with the identifying values erased:
    which fields changed stays."""
    return {
        name: {"old": ERASED, "new": ERASED} if name in IDENTIFYING else values
        for name, values in changes.items()
    }


def identifying_values(
    order: Order, changes: Iterable[dict[str, dict[str, str]]], notes: Iterable[str]
) -> set[str]:
    """Every value that named or located the buyer of `order`, read before it is erased."""
    values = {getattr(order, name) for name in IDENTIFYING}
    for change in changes:
        for name in IDENTIFYING:
            if name in change:
                values |= {change[name]["old"], change[name]["new"]}
    for note in notes:
        values |= _held_others(note)
    return {value.strip() for value in values if len(value.strip()) >= _SHORTEST}


def erase_values(text: str, values: set[str]) -> str:
    """`text` with each of `values` (any case; the longest first, so an address is not cut
    by the city inside it) replaced by ERASED."""
    if not values or not text:
        return text
    pattern = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return re.sub(pattern, ERASED, text, flags=re.IGNORECASE)


def _held_others(note: str) -> set[str]:
    """The values in migration 0038's "this device held others: Label: old → new; …"."""
    if _HELD_OTHERS not in note:
        return set()
    labels = {_label(name) for name in IDENTIFYING}
    found = set()
    for part in note.split(_HELD_OTHERS, 1)[1].split("; "):
        label, _, change = part.partition(": ")
        if label in labels and " → " in change:
            found |= {value for value in change.split(" → ", 1) if value != "—"}
    return found


def _label(name: str) -> str:
    """The field's name as the notes write it (workflows.models.payouts.describe_detail_changes;
    migration 0038's LABELS)."""
    label = str(Order._meta.get_field(name).verbose_name)
    return re.sub(r"(\D)(\d)$", r"\1 \2", label[:1].upper() + label[1:])
