"""What the trade-in page's workflow panel shows, read for one person: the label and its
problems, the payout and whose job settling it is, a payout-details change and who may ask
or decide it, the inspection. Read-only; the forms are the front end's
(backoffice.admin.tradein_panel)."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.models import (
    ChangeStatus,
    Direction,
    Payout,
    PayoutDetailChange,
    RevisedOffer,
    ShipBack,
    ShippingLabel,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    TradeIn,
)
from workflows.rules.inspection import compare
from workflows.rules.payout_details import (
    details_change_decidable_by,
    details_change_reach,
    details_change_request_refusal,
)
from workflows.rules.permissions import Operation
from workflows.rules.permissions import allowed as may
from workflows.rules.predicates import payout_settleable, wants_pickup


@dataclass(frozen=True)
class Shipping:
    label: ShippingLabel | None  # the buyer's label to us (a ship-back has its own card)
    ship_back: ShipBack | None
    waiting: bool  # accepted, to be shipped, and no label yet
    problem: SideEffect | None  # why the carrier refused the label, while it is waiting
    can_fix: bool  # this person may correct the address and ask again


def shipping(trade_in: TradeIn, user: object) -> Shipping:
    label = trade_in.labels.filter(voided_at__isnull=True, direction=Direction.TO_SHOP).first()
    ship_back = ShipBack.objects.filter(trade_in=trade_in).select_related("label").first()
    waiting = trade_in.state == State.ACCEPTED and label is None and not wants_pickup(trade_in)
    problem = (
        SideEffect.objects.filter(
            trade_in=trade_in, kind=SideEffectKind.CREATE_LABEL, status=SideEffectStatus.FAILED
        )
        .order_by("-created_at")
        .first()
        if waiting
        else None
    )
    can_fix = problem is not None and may(user, Operation.RETRY_LABEL)
    return Shipping(label, ship_back, waiting, problem, can_fix)


@dataclass(frozen=True)
class PayoutCard:
    settleable: Payout | None  # this person may settle it now
    status_shown: Payout | None  # shown to those who cannot settle: where it stands
    waits_for_manager: bool  # settleable, by someone else


def payout_card(trade_in: TradeIn, user: object) -> PayoutCard:
    payout = getattr(trade_in, "payout", None)
    if payout is None:
        return PayoutCard(None, None, False)
    may_settle = may(user, Operation.SETTLE_PAYOUT)
    settleable = payout_settleable(payout)
    return PayoutCard(
        settleable=payout if may_settle and settleable else None,
        status_shown=None if may_settle else payout,
        waits_for_manager=settleable,
    )


@dataclass(frozen=True)
class DetailsChange:
    pending: PayoutDetailChange | None  # waiting for a manager (asked on any device of the order)
    can_request: bool  # this person may ask for a change now
    can_decide: bool  # this person may approve or reject the pending one
    # In an order of several devices: the devices the pending change (or one asked here)
    # would be written onto now; empty for an order of one.
    applies_to: list[TradeIn]


def details_change(trade_in: TradeIn, user: object) -> DetailsChange:
    """Payout details after acceptance (workflows.rules.payout_details, which the actions ask).
    One change waits per order: the page of each of its devices shows it."""
    pending = (
        PayoutDetailChange.objects.filter(
            trade_in__order_id=trade_in.order_id, status=ChangeStatus.PENDING
        )
        .select_related("trade_in", "requested_by")
        .first()
    )
    payout = getattr(trade_in, "payout", None)
    # A device not accepted yet has no payout: asked on it, a change is about the order's
    # accepted devices (details_change_request_refusal decides).
    can_request = (
        pending is None
        and may(user, Operation.REQUEST_DETAILS_CHANGE)
        and not details_change_request_refusal(trade_in, payout)
    )
    can_decide = (
        pending is not None
        and may(user, Operation.DECIDE_DETAILS_CHANGE)
        and details_change_decidable_by(pending, user)
    )
    applies_to = []
    if pending is not None or can_request:
        applies_to = details_change_devices(pending.trade_in if pending else trade_in)
    return DetailsChange(pending, can_request, can_decide, applies_to)


def details_change_devices(opened: TradeIn) -> list[TradeIn]:
    """The devices of an order of several that a change asked on `opened` would be written
    onto now (the approval writes onto the same, read again under lock); [] for an order of
    one, whose change is about that device alone."""
    devices = list(TradeIn.objects.filter(order_id=opened.order_id).order_by("position"))
    if len(devices) < 2:
        return []
    payouts = {p.trade_in_id: p for p in Payout.objects.filter(trade_in__in=devices)}
    return details_change_reach(opened, devices, payouts)


@dataclass(frozen=True)
class Inspection:
    rows: list  # the as-found checklist beside the disclosure (workflows.rules.inspection)
    photos: list
    revised_offer: RevisedOffer | None  # the latest


def inspection(trade_in: TradeIn) -> Inspection | None:
    """None until the device was inspected at the intake bench."""
    unit = getattr(trade_in, "unit", None)
    if unit is None or not unit.as_found:
        return None
    return Inspection(
        rows=compare(trade_in, unit.as_found),
        photos=list(trade_in.photos.all()),
        revised_offer=trade_in.revised_offers.first(),
    )


def order_detail_change(trade_in: TradeIn, change_id: int) -> PayoutDetailChange | None:
    """A payout-details change asked on this device or another device of its order."""
    return PayoutDetailChange.objects.filter(
        trade_in__order_id=trade_in.order_id, pk=change_id
    ).first()
