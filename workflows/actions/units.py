"""A unit's life in stock after grading: listed, sold, recycled, used for parts.

Every status change of a unit goes through `move_unit`, which keeps `Product.stock` equal to
the count of the product's units in STOCKED_STATUSES: it compares the unit's stocked-ness
before and after the transition instead of each caller remembering its +1 or -1.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed, has_transition_perm

from workflows.actions._common import Actor, Operation, authorize, record_event
from workflows.actions.compliance import refuse_if_on_hold
from workflows.actions.costs import _carry_costs
from workflows.actions.tradeins import _change_stock
from workflows.errors import InvalidInput, TransitionRefused
from workflows.formatting import money
from workflows.models import (
    Event,
    EventKind,
    RefurbishmentCost,
    SaleChannel,
    SaleLot,
    Unit,
    unit_can_refurbish,
)
from workflows.rules.compliance import hold_refusal
from workflows.rules.parsers import clean_text
from workflows.rules.permissions import allowed

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


MAX_AMOUNT = Decimal("100000")
CENT = Decimal("0.01")


def _amount(value: Decimal | str | None, *, what: str) -> Decimal:
    """A positive amount of money in cents, or InvalidInput naming `what`."""
    try:
        amount = Decimal(str(value).strip()).quantize(CENT)
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter the %s as an amount, like 120.00.") % what) from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise InvalidInput(
            _("The %(what)s must be more than 0 and at most %(max)s.")
            % {"what": what, "max": MAX_AMOUNT}
        )
    return amount


def _sale_day(sold_on: date | None) -> date:
    today = timezone.localdate()
    if sold_on is None:
        return today
    if sold_on > today:
        raise InvalidInput(_("A sale cannot be dated in the future."))
    return sold_on


def _channel(channel: str) -> str:
    if channel not in SaleChannel.values:
        raise InvalidInput(
            _("Choose where the unit was sold: %s.")
            % ", ".join(str(label).lower() for label in SaleChannel.labels)
        )
    return channel


def _sale_note(price: Decimal, channel: str, day: date, note: str) -> str:
    sale = f"{money(price)} ({SaleChannel(channel).label.lower()}, {day:%Y-%m-%d})"
    return sale + (f". {note}" if note else "")


@transaction.atomic(durable=True)
def unit_change_status(
    *,
    unit: Unit,
    actor: Actor,
    operation: str,
    note: str = "",
    price: Decimal | str | None = None,
    channel: str = "",
    sold_on: date | None = None,
) -> Unit:
    """List, unlist, sell, recycle or part out one unit (staff with the unit permission).

    Selling records the sale: its price (required, more than 0), channel and day (today
    unless said otherwise, never in the future)."""
    if operation not in OPERATIONS:
        raise TransitionRefused(_("Unknown operation on a unit: %s.") % operation)
    authorize(actor, Operation.MOVE_UNIT)
    unit = lock_unit(unit)
    note = clean_text(note)
    if operation == "sell":
        # The hold and the unit's status speak before the price: they are why it cannot go.
        refuse_if_on_hold(unit, "sell")
        _refuse_unless_sellable(unit)
        unit.sale_price = _amount(price, what=_("sale price"))
        unit.sale_channel = _channel(channel)
        unit.sold_on = _sale_day(sold_on)
        note = _sale_note(unit.sale_price, unit.sale_channel, unit.sold_on, note)
    move_unit(unit, OPERATIONS[operation][0], actor=actor, note=note)
    return unit


def _refuse_unless_sellable(unit: Unit) -> None:
    if not can_proceed(unit.sell):
        raise TransitionRefused(
            _("Unit %(imei)s is %(status)s: it cannot be sold.")
            % {"imei": unit.imei, "status": unit.get_status_display().lower()}
        )


def spread(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """A lot's price over its units: in proportion to each unit's weight (its payout), each
    share rounded down to the cent, the cents left over to the last unit, so the shares add
    up to the total exactly. Equal weights when none is above zero."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [Decimal(1)] * len(weights)
    whole = sum(weights)
    shares = [(total * w / whole).quantize(CENT, rounding=ROUND_DOWN) for w in weights[:-1]]
    return [*shares, total - sum(shares, Decimal(0))]


@transaction.atomic(durable=True)
def unit_sell_lot(
    *,
    units: list[Unit],
    actor: Actor,
    total: Decimal | str,
    sold_on: date | None = None,
    note: str = "",
) -> SaleLot:
    """Sell several units together for one price (wholesale). One deal: if any unit cannot
    be sold (police hold, status, grade), none is, and the refusal names each one."""
    authorize(actor, Operation.MOVE_UNIT)
    if not units:
        raise InvalidInput(_("Select the units in the lot."))
    total = _amount(total, what=_("lot price"))
    day = _sale_day(sold_on)
    note = clean_text(note)
    # Locked in id order: two lots built at once from overlapping selections cannot deadlock.
    locked = [lock_unit(unit) for unit in sorted(units, key=lambda u: u.pk)]
    refused = []
    for unit in locked:
        why = hold_refusal(unit, "sell")
        if not why and not can_proceed(unit.sell):
            why = _("Unit %(imei)s is %(status)s: it cannot be sold.") % {
                "imei": unit.imei,
                "status": unit.get_status_display().lower(),
            }
        if why:
            refused.append(why)
    if refused:
        raise TransitionRefused(_("Nothing was sold. ") + " ".join(refused))
    if total < CENT * len(locked):
        raise InvalidInput(_("The lot price must be at least one cent per unit."))
    lot = SaleLot.objects.create(
        total=total,
        currency=settings.CURRENCY,
        sold_on=day,
        note=note,
        sold_by=None if isinstance(actor, str) else actor,
    )
    shares = spread(total, [unit.payout_cost for unit in locked])
    for unit, share in zip(locked, shares, strict=True):
        unit.sale_price, unit.sale_channel = share, SaleChannel.WHOLESALE
        unit.sold_on, unit.sale_lot = day, lot
        what = _sale_note(share, SaleChannel.WHOLESALE, day, "")
        move_unit(unit, "sell", actor=actor, note=f"{what}, lot {lot.pk} of {money(total)}")
    return lot


@transaction.atomic(durable=True)
def unit_add_refurbishment_cost(
    *, unit: Unit, actor: Actor, amount: Decimal | str, note: str = ""
) -> RefurbishmentCost:
    """Parts or labour spent on a unit (on its page; the intake bench adds them with the
    grading, through the same helper); entries add up."""
    authorize(actor, Operation.ADD_REFURBISHMENT_COST)
    return _add_refurbishment_cost(lock_unit(unit), actor=actor, amount=amount, note=note)


def _add_refurbishment_cost(
    unit: Unit, *, actor: Actor, amount: Decimal | str, note: str = ""
) -> RefurbishmentCost:
    """One refurbishment entry on a locked unit, and the unit's costs after it. The caller
    holds the transaction and has checked the permission."""
    if not unit_can_refurbish(unit):
        raise TransitionRefused(
            _("Unit %(imei)s is %(status)s: it is not the shop's to refurbish.")
            % {"imei": unit.imei, "status": unit.get_status_display().lower()}
        )
    cost = RefurbishmentCost.objects.create(
        unit=unit,
        amount=_amount(amount, what=_("refurbishment cost")),
        note=clean_text(note)[:200],
        added_by=None if isinstance(actor, str) else actor,
    )
    _carry_costs(Unit.objects.filter(pk=unit.pk))
    if unit.trade_in_id is not None:
        record_event(
            unit.trade_in,
            kind=EventKind.REFURBISHMENT_COST_ADDED,
            actor=actor,
            note=f"Unit {unit.imei}: {money(cost.amount)}"
            + (f", {cost.note}" if cost.note else ""),
        )
    return cost


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
