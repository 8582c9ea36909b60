"""A unit's life in stock after grading: listed, sold, recycled, used for parts.

Every status change of a unit goes through `_move_unit` (workflows.actions._stock), which keeps
`Product.stock` equal to the count of the product's units in stock.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from workflows.actions._common import Actor, Operation, authorize
from workflows.actions._costs import CENT, _add_refurbishment_cost, _amount
from workflows.actions._stock import UNIT_EVENT, _lock_unit, _move_unit, _refuse_if_on_hold
from workflows.errors import InvalidInput, TransitionRefused
from workflows.formatting import money
from workflows.models import (
    RefurbishmentCost,
    SaleChannel,
    SaleLot,
    Unit,
)
from workflows.rules.compliance import hold_refusal
from workflows.rules.parsers import clean_text
from workflows.selectors.units import OPERATIONS

# The timeline rows a unit's moves write (its page lists them).
UNIT_EVENT_KINDS = frozenset(kind for kind in UNIT_EVENT.values() if kind)


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
    unit = _lock_unit(unit)
    note = clean_text(note)
    if operation == "sell":
        # The hold and the unit's status speak before the price: they are why it cannot go.
        _refuse_if_on_hold(unit, "sell")
        _refuse_unless_sellable(unit)
        unit.sale_price = _amount(price, what=_("sale price"))
        unit.sale_channel = _channel(channel)
        unit.sold_on = _sale_day(sold_on)
        note = _sale_note(unit.sale_price, unit.sale_channel, unit.sold_on, note)
    _move_unit(unit, OPERATIONS[operation][0], actor=actor, note=note)
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
    locked = [_lock_unit(unit) for unit in sorted(units, key=lambda u: u.pk)]
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
        _move_unit(unit, "sell", actor=actor, note=f"{what}, lot {lot.pk} of {money(total)}")
    return lot


@transaction.atomic(durable=True)
def unit_add_refurbishment_cost(
    *, unit: Unit, actor: Actor, amount: Decimal | str, note: str = ""
) -> RefurbishmentCost:
    """Parts or labour spent on a unit (on its page; the intake bench adds them with the
    grading, through the same helper); entries add up."""
    authorize(actor, Operation.ADD_REFURBISHMENT_COST)
    return _add_refurbishment_cost(_lock_unit(unit), actor=actor, amount=amount, note=note)
