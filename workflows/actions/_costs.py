"""A unit's costs: the one rule, written onto the unit's row by the actions that change them.

A unit costs its payout (the amount owed or paid to its seller while the payout is pending,
failed or settled: a revised offer the buyer accepted included; declined, void or reversed, it
costs nothing), its shipping labels (inbound and return; a voided label costs nothing) and its
refurbishment entries (parts and labour). Margin = sale price − total cost (Unit.margin).

Every action that creates or changes one of those rows (accepting a trade-in, a revised offer
accepted, a payout declined, voided, reinstated or reversed, a label bought or voided, a
refurbishment entry) calls `_carry_costs` in its own transaction, after the write: the reports
then read the unit's columns (index-only at 1M units), and nothing else computes a cost.
tests/test_unit_costs.py checks the columns equal this rule and hand-written SQL after each.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from workflows.actions._common import Actor, record_event
from workflows.errors import InvalidInput, TransitionRefused
from workflows.formatting import money
from workflows.models import (
    EventKind,
    PayoutStatus,
    RefurbishmentCost,
    Unit,
    unit_can_refurbish,
)
from workflows.rules.parsers import clean_text

MONEY = DecimalField(max_digits=12, decimal_places=2)
# A payout counts as a cost while it is owed or paid.
OWED = [PayoutStatus.PENDING, PayoutStatus.FAILED, PayoutStatus.SETTLED]


def _carry_costs(units: QuerySet[Unit]) -> int:
    """Write payout_cost, label_cost, refurbishment_cost and total_cost of `units` from their
    rows, in one UPDATE (one unit after an action; every unit in migration 0030's backfill).

    The other models are taken from the units' own registry, so a migration can pass its
    historical Unit. The caller holds the transaction."""
    registry = units.model._meta.apps
    payouts = registry.get_model("workflows", "Payout")._default_manager
    labels = registry.get_model("workflows", "ShippingLabel")._default_manager
    refurbishments = registry.get_model("workflows", "RefurbishmentCost")._default_manager
    zero = Value(Decimal("0.00"), output_field=MONEY)

    owed = payouts.filter(trade_in_id=OuterRef("trade_in_id"), status__in=OWED).values("amount")
    bought = (
        labels.filter(trade_in_id=OuterRef("trade_in_id"), voided_at__isnull=True)
        .values("trade_in_id")
        .annotate(total=Sum("cost"))
        .values("total")
    )
    spent = (
        refurbishments.filter(unit_id=OuterRef("pk"))
        .values("unit_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    payout = Coalesce(Subquery(owed[:1], output_field=MONEY), zero)
    label = Coalesce(Subquery(bought, output_field=MONEY), zero)
    refurbishment = Coalesce(Subquery(spent, output_field=MONEY), zero)
    return units.update(
        payout_cost=payout,
        label_cost=label,
        refurbishment_cost=refurbishment,
        total_cost=payout + label + refurbishment,
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
