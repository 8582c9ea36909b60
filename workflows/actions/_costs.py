"""A unit's costs: the one rule, written onto the unit's row by the actions that change them.

A unit costs its payout (the amount owed or paid to its seller while the payout is pending,
failed or settled: a revised offer the buyer accepted included; declined, void or reversed, it
costs nothing), its shipping labels (inbound and return; a voided label costs nothing) and its
refurbishment entries (parts and labour). Margin = sale price − total cost (Unit.margin).

Labels, precisely:
- A return label (to the buyer) is its own device's.
- The labels to the shop are the box's: an order's one label (kept on its first accepted
  device, workflows.models.shipping) carries every device of the box. The box is the order's
  units that are not void, i.e. its accepted devices, whatever happened to them after they
  arrived (graded, sold, rerouted, returned), but not a device cancelled because it never
  came (its unit is void). The box's unvoided labels to the shop, summed in cents, are split
  across those n units: each gets the cents ÷ n, rounded down, and the first (cents mod n)
  units by position in the order one cent more. The parts add up to the labels exactly
  ($7.51 over two units: 3.76 and 3.75), and a one-device order keeps its label whole.
- A box with no unit left in it (every device cancelled) keeps each label on its own
  device's unit, until the label is voided: a label bought stays a cost somewhere.
So the units' label costs always add up to the unvoided labels' costs.

Every action that creates or changes one of those rows (accepting a trade-in, a revised offer
accepted, a payout declined, voided, reinstated or reversed, a label bought or voided, a
refurbishment entry) calls `_carry_costs` in its own transaction, after the write: the reports
then read the unit's columns (index-only at 1M units), and nothing else computes a cost. What
changes a box (a unit created or voided, a label to the shop bought or voided) re-carries every
unit of the order (`_carry_box_costs`): the other units' shares change with it.
tests/test_unit_costs.py checks the columns equal this rule and hand-written SQL after each.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Round
from django.utils.translation import gettext as _

from workflows.actions._common import Actor, record_event
from workflows.actions._orders import _lock_order
from workflows.errors import InvalidInput, TransitionRefused
from workflows.formatting import money
from workflows.models import (
    Direction,
    EventKind,
    PayoutStatus,
    RefurbishmentCost,
    TradeIn,
    Unit,
    UnitStatus,
    unit_can_refurbish,
)
from workflows.rules.parsers import clean_text

MONEY = DecimalField(max_digits=12, decimal_places=2)
INTEGER = IntegerField()
# A payout counts as a cost while it is owed or paid.
OWED = [PayoutStatus.PENDING, PayoutStatus.FAILED, PayoutStatus.SETTLED]


def _total(rows: QuerySet, field: str, output_field) -> Subquery:
    """One aggregate over `rows` as a subquery (no GROUP BY: one row, NULL when none)."""
    function = "COUNT" if field == "pk" else "SUM"
    total = rows.order_by().annotate(total=Func(F(field), function=function)).values("total")
    return Subquery(total, output_field=output_field)


def _carry_costs(units: QuerySet[Unit]) -> int:
    """Write payout_cost, label_cost, refurbishment_cost and total_cost of `units` from their
    rows by the rule above, in one UPDATE (the units of one order after an action; every unit
    in a migration's backfill).

    The rows are locked first, in pk order: an action re-carrying one of them at this moment
    (another device of the box) commits before our UPDATE reads, so the last write has seen
    every change. The other models are taken from the units' own registry, so a migration can
    pass its historical Unit. The caller holds the transaction."""
    registry = units.model._meta.apps
    payouts = registry.get_model("workflows", "Payout")._default_manager
    labels = registry.get_model("workflows", "ShippingLabel")._default_manager
    refurbishments = registry.get_model("workflows", "RefurbishmentCost")._default_manager
    trade_ins = registry.get_model("workflows", "TradeIn")
    zero = Value(Decimal("0.00"), output_field=MONEY)
    list(units.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))

    owed = payouts.filter(trade_in_id=OuterRef("trade_in_id"), status__in=OWED).values("amount")
    unvoided = labels.filter(voided_at__isnull=True)
    spent = (
        refurbishments.filter(unit_id=OuterRef("pk"))
        .values("unit_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )

    # The box of a unit: the units of its order (before orders, migration 0035, each device
    # travelled alone), those not void, and of them the ones up to its position.
    ordered = any(field.name == "order" for field in trade_ins._meta.get_fields())
    in_box = {"trade_in__order__devices" if ordered else "trade_in": OuterRef("trade_in_id")}
    boxed = units.model._default_manager.filter(**in_box).exclude(status=UnitStatus.VOID)
    up_to_me = boxed
    if ordered:
        mine = trade_ins._default_manager.filter(pk=OuterRef(OuterRef("trade_in_id")))
        up_to_me = boxed.filter(trade_in__position__lte=Subquery(mine.values("position")))
    n, rank = _total(boxed, "pk", INTEGER), _total(up_to_me, "pk", INTEGER)
    to_shop = unvoided.filter(direction=Direction.TO_SHOP)
    box_cents = Cast(
        Round(Coalesce(_total(to_shop.filter(**in_box), "cost", MONEY), zero) * 100), INTEGER
    )
    # cents ÷ n rounded down, plus one for the first (cents mod n) ranks: (cents + n − rank) ÷ n.
    share = Cast((box_cents + n - rank) / n, MONEY) * Value(Decimal("0.01"), output_field=MONEY)

    def own(direction: str) -> Coalesce:
        device = unvoided.filter(trade_in_id=OuterRef("trade_in_id"), direction=direction)
        return Coalesce(_total(device, "cost", MONEY), zero)

    label = own(Direction.TO_BUYER) + Case(
        When(~Q(status=UnitStatus.VOID) & Q(trade_in__isnull=False), then=share),
        When(~Exists(boxed), then=own(Direction.TO_SHOP)),
        default=zero,
        output_field=MONEY,
    )
    payout = Coalesce(Subquery(owed[:1], output_field=MONEY), zero)
    refurbishment = Coalesce(Subquery(spent, output_field=MONEY), zero)
    return units.update(
        payout_cost=payout,
        label_cost=label,
        refurbishment_cost=refurbishment,
        total_cost=payout + label + refurbishment,
    )


def _carry_box_costs(trade_in: TradeIn) -> int:
    """Re-carry every unit of the trade-in's order, after a change to its box (a unit created
    or voided, a label to the shop bought or voided): each unit's share of the label changes.

    Locks the order row first (after the caller's trade-in: the lock order of
    workflows.actions._orders._lock_order). Prevents: two such changes to one box at once
    each locking the other's units, and each writing shares that miss the other's change."""
    _lock_order(trade_in.order_id)
    return _carry_costs(Unit.objects.filter(trade_in__order_id=trade_in.order_id))


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
