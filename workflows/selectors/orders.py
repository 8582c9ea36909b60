"""The reads behind the staff pages of an order (issue 20): every device in the box, the
order's money, its timeline (the devices' events merged) and the rest of a box at the bench.
Each is a fixed number of queries however many devices the order holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum

from workflows.models import (
    OWED_STATUSES,
    Event,
    ImeiCheck,
    Order,
    Payout,
    PayoutStatus,
    SellerIdentity,
    State,
    TradeIn,
)
from workflows.rules.compliance import identity_required_before
from workflows.rules.orders import PAYOUT_WAITS, PAYOUT_WAITS_SHORT, order_payout_wait

# A payout in one of these is no longer owed: the device was cancelled, rerouted or returned.
NOT_OWED = [PayoutStatus.VOID, PayoutStatus.DECLINED]


def order_devices(order: Order) -> list[TradeIn]:
    """The order's devices by position, each with its product, payout and unit, and its IMEI
    checks newest first in `checks` (two queries)."""
    devices = list(
        TradeIn.objects.filter(order=order)
        .select_related("product__device_model__make", "payout", "unit", "order")
        .prefetch_related(
            Prefetch(
                "imei_checks",
                queryset=ImeiCheck.objects.order_by("-created_at", "-pk"),
                to_attr="checks",
            )
        )
        .order_by("position")
    )
    return devices


def latest_check(device: TradeIn) -> ImeiCheck | None:
    """The newest IMEI check of a device loaded by `order_devices` (no query)."""
    checks = getattr(device, "checks", None)
    if checks is None:
        return device.latest_imei_check()
    return checks[0] if checks else None


def device_flags(device: TradeIn) -> list[str]:
    """The red flags of the device's newest IMEI check, as its own panel names them."""
    check = latest_check(device)
    return check.red_flags if check else []


@dataclass(frozen=True)
class OrderTotals:
    devices: int
    offered: Decimal  # the current offer of every quoted device
    accepted: Decimal  # what we owe for the accepted devices, at their final amounts
    paid: Decimal  # settled payouts


def order_totals(order: Order) -> OrderTotals:
    """The order's money in one query. "Accepted" is every payout still owed or paid (a
    revised amount included); a cancelled, rerouted or returned device's payout is void or
    declined and counts for nothing."""
    zero = Decimal("0.00")
    row = TradeIn.objects.filter(order=order).aggregate(
        devices=Count("pk"),
        offered=Sum("offer_amount"),
        accepted=Sum(
            "payout__amount", filter=Q(payout__isnull=False) & ~Q(payout__status__in=NOT_OWED)
        ),
        paid=Sum("payout__amount", filter=Q(payout__status=PayoutStatus.SETTLED)),
    )
    return OrderTotals(
        devices=row["devices"],
        offered=row["offered"] or zero,
        accepted=row["accepted"] or zero,
        paid=row["paid"] or zero,
    )


# The order's timeline lists at most this many events (newest first); each device's own page
# keeps its whole history.
TIMELINE_LIMIT = 500


def order_timeline(order: Order, devices: Iterable[TradeIn]) -> list[tuple[Event, TradeIn]]:
    """The devices' events merged, newest first, each with its device (one query)."""
    by_id = {device.pk: device for device in devices}
    events = (
        Event.objects.filter(trade_in__order=order)
        .select_related("actor")
        .order_by("-created_at", "-pk")[:TIMELINE_LIMIT]
    )
    return [(event, by_id[event.trade_in_id]) for event in events if event.trade_in_id in by_id]


def state_summary(devices: Iterable[TradeIn]) -> str:
    """ "2 accepted, 1 declined": how many devices are in each state, in the state machine's
    order (no query for devices already loaded)."""
    counts = Counter(device.state for device in devices)
    return ", ".join(
        f"{counts[state]} {label.lower()}" for state, label in State.choices if counts[state]
    )


def order_size(outer: str = "order_id") -> Subquery:
    """How many devices the trade-in's order holds, as an annotation (no query per row);
    `outer` names the order's id from the annotated row ("trade_in__order_id" for a unit)."""
    return Subquery(
        TradeIn.objects.filter(order_id=OuterRef(outer))
        .order_by()
        .values("order_id")
        .annotate(n=Count("pk"))
        .values("n")
    )


@dataclass(frozen=True)
class BoxDevice:
    device: TradeIn
    received: bool  # arrived at the bench (received or anything after it)
    expected: bool  # accepted, not here yet: the bench asks about it


def rest_of_box(trade_in: TradeIn) -> list[BoxDevice]:
    """At the bench: the other devices of the scanned device's order, which are already in
    and which are still expected (one query; none for a one-device order whose size was
    annotated by `order_size`)."""
    if getattr(trade_in, "order_size", None) == 1:
        return []
    others = (
        TradeIn.objects.filter(order_id=trade_in.order_id)
        .exclude(pk=trade_in.pk)
        .select_related("product__device_model__make", "order")
        .order_by("position")
    )
    return [
        BoxDevice(
            device=other,
            received=other.received_at is not None,
            expected=other.state == State.ACCEPTED,
        )
        for other in others
    ]


@dataclass(frozen=True)
class OrderPayout:
    """What the next settlement of a payout's order pays: the owed lines of its received
    devices (this payout's among them), first device first, and their sum. `wait` says why
    it cannot go yet ("" when it can); `several`: the order holds more than one device."""

    lines: list[Payout]
    total: Decimal
    wait: str
    several: bool

    @property
    def lead(self) -> Payout | None:
        """The line a Stripe transfer is asked, keyed and answered for."""
        return self.lines[0] if self.lines else None


def order_payout(payout: Payout) -> OrderPayout:
    """The order payout `payout` is part of (one query). For a one-device order, the payout
    itself whenever it is owed."""
    return order_payout_of(
        TradeIn.objects.filter(order_id=payout.trade_in.order_id)
        .select_related("payout")
        .order_by("position")
    )


def order_payout_of(devices: Iterable[TradeIn]) -> OrderPayout:
    """The same, from an order's devices already loaded with their payouts (no query)."""
    devices = sorted(devices, key=lambda device: device.position)
    lines = []
    for device in devices:
        line = getattr(device, "payout", None)
        if line is not None and line.status in OWED_STATUSES and device.state == State.RECEIVED:
            line.trade_in = device
            lines.append(line)
    several = len(devices) > 1
    return OrderPayout(
        lines=lines,
        total=sum((line.amount for line in lines), Decimal("0.00")),
        wait=order_payout_wait(devices) if several else "",
        several=several,
    )


def settled_together(payout: Payout) -> list[Payout]:
    """The lines one settlement paid with `payout`: its order's, under its reference, first
    device first (one query; just `payout` for a one-device order or an unsettled one)."""
    if payout.status not in (PayoutStatus.SETTLED, PayoutStatus.REVERSED):
        return [payout]
    return list(
        Payout.objects.filter(
            trade_in__order_id=payout.trade_in.order_id,
            settlement_reference=payout.settlement_reference,
            status=payout.status,
        )
        .select_related("trade_in__product__device_model__make")
        .order_by("trade_in__position")
    )


def with_payout_wait(payouts: QuerySet[Payout]) -> QuerySet[Payout]:
    """Each payout with what it may wait for, in SQL (for the payouts list; payout_wait reads
    it): `waiting_on` and `waiting_state`, the first device of its order (by position) still
    undecided (rules.orders.PAYOUT_WAITS: the order is paid once, itself included), and
    `has_seller_id`, whether the order's seller ID is recorded."""
    undecided = TradeIn.objects.filter(
        order_id=OuterRef("trade_in__order_id"), state__in=list(PAYOUT_WAITS)
    ).order_by("position")
    return payouts.annotate(
        waiting_on=Subquery(undecided.values("reference")[:1]),
        waiting_state=Subquery(undecided.values("state")[:1]),
        has_seller_id=Exists(
            SellerIdentity.objects.filter(trade_in__order_id=OuterRef("trade_in__order_id"))
        ),
    )


def payout_waits(payouts: Iterable[Payout]) -> dict[int, str]:
    """What each owed payout of a list page waits for, by pk ("" when a manager can pay it
    now), in one query."""
    owed = [payout.pk for payout in payouts if payout.status in OWED_STATUSES]
    return {p.pk: payout_wait(p) for p in with_payout_wait(Payout.objects.filter(pk__in=owed))}


def payout_wait(payout: Payout) -> str:
    """What an owed payout annotated by with_payout_wait waits for before a manager can pay
    it, in a few words ("TI-000123-2 not arrived", "seller's ID"), or "" (ready, or not owed).
    The payout's page says it in full (order_payout)."""
    if payout.status not in OWED_STATUSES:
        return ""
    if payout.waiting_state:
        return f"{payout.waiting_on} {PAYOUT_WAITS_SHORT[payout.waiting_state]}"
    if identity_required_before("payout") and not payout.has_seller_id:
        return "seller's ID"
    return ""


def payouts_ready_to_pay(payouts: QuerySet[Payout], *, ready: bool = True) -> QuerySet[Payout]:
    """The owed payouts a manager can pay now (`ready`), or those that wait (payout_wait says
    for what), in SQL: the payouts list's filter."""
    can_pay = Q(waiting_state__isnull=True)
    if identity_required_before("payout"):
        can_pay &= Q(has_seller_id=True)
    owed = with_payout_wait(payouts).filter(status__in=OWED_STATUSES)
    return owed.filter(can_pay) if ready else owed.exclude(can_pay)
