"""The intake checklist: what staff must answer about every device before it is graded, and
what follows from the answers. Read-only rules; the actions in workflows.actions.inspection
enforce them and the bench form asks them."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflows.errors import InvalidInput
from workflows.models import (
    SELLABLE_GRADES,
    Accessories,
    Battery,
    Body,
    Grade,
    Screen,
    TradeIn,
)

YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]
LOCK = [("off", gettext_lazy("Off")), ("on", gettext_lazy("On"))]


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    choices: list[tuple[str, str]]
    # The trade-in field the buyer answered, or the answer every device is expected to have.
    disclosed_field: str = ""
    expected: str = ""


CHECKLIST: list[Item] = [
    Item("powers_on", gettext_lazy("Powers on"), YES_NO, expected="yes"),
    Item(
        "activation_lock",
        gettext_lazy("Activation lock / Find My / FRP"),
        LOCK,
        expected="off",
    ),
    Item("screen", gettext_lazy("Screen"), Screen.choices, disclosed_field="screen"),
    Item("body", gettext_lazy("Body"), Body.choices, disclosed_field="body"),
    Item("battery", gettext_lazy("Battery health"), Battery.choices, disclosed_field="battery"),
    Item(
        "accessories",
        gettext_lazy("Accessories"),
        Accessories.choices,
        disclosed_field="accessories",
    ),
]
ITEMS = {item.key: item for item in CHECKLIST}


def parse_checklist(data: dict[str, str] | None) -> dict[str, str]:
    """Every item answered with one of its choices, or InvalidInput naming what is missing."""
    data = data or {}
    missing = [str(item.label) for item in CHECKLIST if not data.get(item.key)]
    if missing:
        raise InvalidInput(
            _("Answer every item of the intake checklist. Missing: %s.") % ", ".join(missing)
        )
    for item in CHECKLIST:
        if data[item.key] not in {value for value, _label in item.choices}:
            raise InvalidInput(
                _("%(item)s: %(value)r is not one of its answers.")
                % {"item": item.label, "value": data[item.key]}
            )
    return {item.key: data[item.key] for item in CHECKLIST}


def _label(item: Item, value: str) -> str:
    return str(dict(item.choices).get(value, value or "—"))


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    disclosed: str
    found: str
    differs: bool


def expected_answer(trade_in: TradeIn, item: Item) -> str:
    return getattr(trade_in, item.disclosed_field) if item.disclosed_field else item.expected


def compare(trade_in: TradeIn, found: dict) -> list[Row]:
    """The as-found record beside what the buyer disclosed, one row per checklist item.

    Records from before the checklist (booleans) read as "not recorded".
    """
    rows = []
    for item in CHECKLIST:
        value = found.get(item.key)
        recorded = isinstance(value, str) and value != ""
        disclosed = expected_answer(trade_in, item)
        rows.append(
            Row(
                key=item.key,
                label=str(item.label),
                disclosed=_label(item, disclosed)
                if item.disclosed_field
                else _("%s (expected)") % _label(item, disclosed),
                found=_label(item, value) if recorded else _("not recorded"),
                differs=recorded and value != disclosed,
            )
        )
    return rows


def differences(trade_in: TradeIn, found: dict[str, str]) -> list[dict[str, str]]:
    """What was found that the buyer did not disclose, as a revised offer lists it."""
    return [
        {"item": row.key, "label": row.label, "disclosed": row.disclosed, "found": row.found}
        for row in compare(trade_in, found)
        if row.differs
    ]


def sellable_blockers(found: dict[str, str]) -> list[str]:
    """Why a device cannot be graded sellable (it goes to a revised offer or a return)."""
    blockers = []
    if found.get("powers_on") == "no":
        blockers.append(_("it does not power on"))
    if found.get("activation_lock") == "on":
        blockers.append(_("activation lock / Find My / FRP is on"))
    return blockers


def check_grade(found: dict[str, str], grade: str) -> None:
    """The one rule for grades: a blocked device can only be graded D (parts or repair)."""
    if grade not in Grade.values:
        raise InvalidInput(_("Choose a grade."))
    blockers = sellable_blockers(found)
    if blockers and grade in SELLABLE_GRADES:
        raise InvalidInput(
            _(
                "This device cannot be graded sellable: %s. Grade it D in a revised offer, "
                "or send it back."
            )
            % " and ".join(blockers)
        )


def checklist_as_disclosed(trade_in: TradeIn) -> dict[str, str]:
    """A checklist that finds the device exactly as the buyer described it."""
    return {item.key: expected_answer(trade_in, item) for item in CHECKLIST}
