"""What the outside systems answered. A task asks the service (outside any transaction: a slow
service must not hold a lock), then calls one of these to record the answer under a lock."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from workflows.actions._common import SYSTEM, lock_trade_in, record_event, schedule
from workflows.actions._costs import _carry_box_costs
from workflows.actions._lifecycle import _auto_quote
from workflows.actions._returns import _ship_back_tracked
from workflows.integrations.imei import ImeiResult, model_mismatch
from workflows.models import (
    Email,
    EventKind,
    ImeiCheck,
    ImeiCheckStatus,
    ShippingLabel,
    SideEffectKind,
    State,
    TradeIn,
)
from workflows.rules.redflags import duplicate_holder, inconclusive, red_flags

# The fields of an IMEI check that hold the service's answer.
RESULT_FIELDS = (
    "status",
    "blacklisted",
    "lost_stolen",
    "finance_locked",
    "carrier",
    "sim_lock",
    "activation_lock",
    "reported_model",
    "detail",
    "raw",
)


def _copy_if_latest(trade_in: TradeIn, check: ImeiCheck, flags: list[str]) -> bool:
    """The queue shows a copy of the latest check's answer. An older check answering late
    (a re-run was asked meanwhile) must not overwrite what the newer one said."""
    latest = trade_in.latest_imei_check()
    if latest is None or latest.pk != check.pk:
        return False
    # A red flag stands while any does, also one an earlier check raised (workflows.rules.redflags);
    # a check that could not decide stays "unknown"/"error" unless something else is flagged.
    flagged = [f for f in flags if f not in inconclusive(check)]
    trade_in.imei_status = ImeiCheckStatus.FLAGGED if flagged else check.status
    trade_in.model_mismatch = check.model_mismatch
    trade_in.save(update_fields=["imei_status", "model_mismatch", "updated_at"])
    return True


@transaction.atomic(durable=True)
def imei_check_record(*, check: ImeiCheck, result: ImeiResult, provider_name: str) -> ImeiCheck:
    """The IMEI service answered this check."""
    # Lock order everywhere: trade-in first. A re-run scheduled at this moment waits here.
    trade_in = lock_trade_in(check.trade_in)
    check = ImeiCheck.objects.select_for_update().get(pk=check.pk)
    for name in RESULT_FIELDS:
        setattr(check, name, getattr(result, name))
    check.model_mismatch = model_mismatch(trade_in.product.device_model, result.reported_model)
    check.provider = provider_name
    check.checked_at = timezone.now()
    if check.status == ImeiCheckStatus.FLAGGED and not check.provider_flags:
        check.status = ImeiCheckStatus.CLEAN  # a cached check flagged only as a duplicate
    # One device, one live trade-in: another open trade-in or stocked unit with this IMEI is
    # a red flag like the blocklist's.
    check.duplicate_of = duplicate_holder(trade_in)
    if check.duplicate_of:
        check.status = ImeiCheckStatus.FLAGGED
    check.save()
    # The red flags of this answer, worked out once for the queue's copy and the policy.
    flags = red_flags(trade_in, duplicate_of=check.duplicate_of)
    if _copy_if_latest(trade_in, check, flags):
        # A clean answer may be all a submission needs: the manager's quoting policy decides.
        _auto_quote(trade_in, flags)
    return check


@transaction.atomic(durable=True)
def imei_check_give_up(*, check: ImeiCheck, error: str) -> ImeiCheck:
    """The check is over without an answer: say so instead of leaving it "pending" forever."""
    trade_in = lock_trade_in(check.trade_in)
    check = ImeiCheck.objects.select_for_update().get(pk=check.pk)
    check.status = ImeiCheckStatus.ERROR
    check.detail = error[:2000]
    check.checked_at = timezone.now()
    check.save(update_fields=["status", "detail", "checked_at"])
    _copy_if_latest(trade_in, check, red_flags(trade_in))
    return check


@transaction.atomic(durable=True)
def shipping_label_record(
    *,
    trade_in: TradeIn,
    provider_name: str,
    is_sample: bool,
    label_id: str,
    tracking_number: str,
    carrier: str,
    pdf: bytes,
    cost: Decimal | None = None,
    cost_currency: str = "",
) -> ShippingLabel:
    """The carrier sold us a label (at `cost`, kept for the unit's margin). If the trade-in
    was cancelled while we were buying it, the label is voided at once (a label nobody uses
    still costs money)."""
    trade_in = lock_trade_in(trade_in)
    label = ShippingLabel.objects.create(
        trade_in=trade_in,
        provider=provider_name,
        label_id=label_id,
        tracking_number=tracking_number,
        carrier=carrier,
        pdf=pdf,
        is_sample=is_sample,
        cost=cost,
        cost_currency=cost_currency,
    )
    _carry_box_costs(trade_in)  # the box's units share it
    if trade_in.state != State.ACCEPTED:
        schedule(
            SideEffectKind.VOID_LABEL,
            key=f"void-label:{trade_in.pk}:{label.pk}",
            trade_in=trade_in,
        )
        return label
    _schedule_label_email(trade_in)
    return label


def _schedule_label_email(trade_in: TradeIn) -> None:
    # One key per trade-in: however often it is scheduled, the buyer gets it once.
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:accepted:{trade_in.pk}",
        trade_in=trade_in,
        template=Email.ACCEPTED_LABEL,
    )


@transaction.atomic(durable=True)
def shipping_label_email(*, trade_in: TradeIn) -> None:
    """A label bought by an earlier attempt whose email was not scheduled: schedule it."""
    _schedule_label_email(trade_in)


@transaction.atomic(durable=True)
def shipping_label_voided(*, label: ShippingLabel) -> ShippingLabel:
    label = ShippingLabel.objects.select_for_update().get(pk=label.pk)
    if label.voided_at is None:
        label.voided_at = timezone.now()
        label.save(update_fields=["voided_at"])
        _carry_box_costs(label.trade_in)
    return label


@transaction.atomic(durable=True)
def shipping_label_tracking_record(
    *, label: ShippingLabel, status_code: str, description: str
) -> bool:
    """The carrier said where the parcel is. Returns whether that is news (then it goes on
    the timeline; the same answer polled again does not)."""
    label = ShippingLabel.objects.select_for_update().select_related("trade_in").get(pk=label.pk)
    news = (status_code, description) != (label.tracking_status, label.tracking_detail)
    label.tracking_status, label.tracking_detail = status_code, description
    label.tracking_error = ""
    label.tracking_updated_at = timezone.now()
    label.save(
        update_fields=[
            "tracking_status",
            "tracking_detail",
            "tracking_error",
            "tracking_updated_at",
        ]
    )
    if news:
        record_event(
            label.trade_in,
            kind=EventKind.TRACKING_UPDATED,
            actor=SYSTEM,
            is_failure=status_code == "EX",
            note=f"Tracking {label.tracking_number}: {description}",
        )
    # A return parcel the carrier delivered leaves the "To ship back" list.
    _ship_back_tracked(label, status_code, description)
    return news


@transaction.atomic(durable=True)
def shipping_label_tracking_failed(*, label: ShippingLabel, error: str) -> None:
    """Asked, if not answered: the next poll starts with the parcels after this one. One
    timeline row per new problem, not per poll."""
    label = ShippingLabel.objects.select_for_update().select_related("trade_in").get(pk=label.pk)
    label.tracking_updated_at = timezone.now()
    update = ["tracking_updated_at"]
    if error != label.tracking_error:
        label.tracking_error = error[:2000]
        update.append("tracking_error")
        record_event(
            label.trade_in,
            kind=EventKind.TRACKING_UPDATED,
            actor=SYSTEM,
            is_failure=True,
            note=f"Tracking {label.tracking_number} could not be read: {error}",
        )
    label.save(update_fields=update)
