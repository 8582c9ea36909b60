"""django-q2 tasks: the side effects the actions scheduled, and the periodic sweeps.

Every side effect is an outbox row (workflows.models.SideEffect). A task claims the row,
does the outside work, and records success or failure on the trade-in's timeline. A failure
is retried with backoff by the sweep; nothing the person did is rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from workflows import emails
from workflows.actions import SYSTEM, trade_in_cancel, trade_in_expire
from workflows.actions._common import record_event, schedule
from workflows.errors import DomainError
from workflows.integrations import imei as imei_integration
from workflows.integrations import shipping as shipping_integration
from workflows.models import (
    ImeiCheck,
    ImeiCheckStatus,
    Quote,
    ShippingLabel,
    SideEffect,
    SideEffectStatus,
    State,
    StoreCredit,
    TradeIn,
)

log = logging.getLogger("workflows")

# A claimed row is not picked up by anybody else for this long (a crashed worker's row
# becomes due again after it).
LEASE = timedelta(minutes=5)


# --- handlers: each does one kind of work and returns a note for the timeline -------------------
def _handle_email(effect: SideEffect) -> str:
    trade_in = effect.trade_in
    template = effect.payload["template"]
    if template in ("quote", "counter_quote"):
        quote = Quote.objects.get(pk=effect.payload["quote_id"])
        subject = emails.quote(trade_in, quote, counter=template == "counter_quote")
    elif template == "accepted_label":
        label = trade_in.labels.filter(voided_at__isnull=True).first()
        subject = emails.accepted_label(trade_in, label)
    elif template == "store_credit":
        credit = StoreCredit.objects.get(pk=effect.payload["store_credit_id"])
        subject = emails.store_credit(trade_in, credit)
    else:
        subject = getattr(emails, template)(trade_in)
    return f"Email sent: {subject}"


def _handle_imei_check(effect: SideEffect) -> str:
    check = ImeiCheck.objects.get(pk=effect.payload["check_id"])
    provider = imei_integration.get_provider()
    result = provider.check(check.imei)
    if result.status == ImeiCheckStatus.ERROR:
        raise RuntimeError(result.detail or "IMEI check failed")
    for field in ("status", "blacklisted", "lost_stolen", "finance_locked", "carrier",
                  "sim_lock", "activation_lock", "reported_model", "detail", "raw"):
        setattr(check, field, getattr(result, field))
    check.provider = provider.name
    check.checked_at = timezone.now()
    check.save()
    TradeIn.objects.filter(pk=check.trade_in_id).update(imei_status=check.status)
    flags = ", ".join(check.red_flags)
    return f"IMEI check ({provider.name}): {check.get_status_display()}" + (
        f" - {flags}" if flags else ""
    )


def _handle_shipping_label(effect: SideEffect) -> str:
    trade_in = effect.trade_in
    if trade_in.state != State.ACCEPTED:
        return f"No label needed: trade-in is {trade_in.get_state_display().lower()}"
    label = trade_in.labels.filter(voided_at__isnull=True).first()
    if label is None:
        provider = shipping_integration.get_provider()
        made = provider.create_label(trade_in, idempotency_key=effect.key)
        label = ShippingLabel.objects.create(
            trade_in=trade_in, provider=provider.name, label_id=made.label_id,
            tracking_number=made.tracking_number, carrier=made.carrier, pdf=made.pdf,
            is_sample=provider.is_demo,
        )
    with transaction.atomic():
        schedule("email", key=f"email:accepted:{trade_in.pk}", trade_in=trade_in,
                 template="accepted_label")
    return f"Shipping label {label.label_id} created ({label.provider}), tracking {label.tracking_number}"


def _handle_void_label(effect: SideEffect) -> str:
    provider = shipping_integration.get_provider()
    voided = []
    for label in effect.trade_in.labels.filter(voided_at__isnull=True):
        provider.void_label(label.label_id)
        label.voided_at = timezone.now()
        label.save(update_fields=["voided_at"])
        voided.append(label.label_id)
    return f"Shipping label voided: {', '.join(voided) or 'none'}"


HANDLERS: dict[str, Callable[[SideEffect], str]] = {
    "email": _handle_email,
    "imei_check": _handle_imei_check,
    "shipping_label": _handle_shipping_label,
    "void_label": _handle_void_label,
}


def _describe(effect: SideEffect) -> str:
    template = effect.payload.get("template")
    return f"{effect.kind} ({template})" if template else effect.kind


def run_side_effect(side_effect_id: int) -> str:
    """Claim one due outbox row and do its work once. Safe to call twice at once."""
    now = timezone.now()
    claimed = SideEffect.objects.filter(
        pk=side_effect_id, status=SideEffectStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return "not due"
    effect = SideEffect.objects.select_related("trade_in").get(pk=side_effect_id)
    try:
        note = HANDLERS[effect.kind](effect)
    except Exception as exc:  # any failure of an outside system: record it and retry later
        return _record_failure(effect, exc)
    effect.status = SideEffectStatus.DONE
    effect.done_at = timezone.now()
    effect.last_error = ""
    effect.save(update_fields=["status", "done_at", "last_error"])
    if effect.trade_in_id:
        record_event(effect.trade_in, kind=effect.kind, actor=SYSTEM, note=note)
    return note


def _record_failure(effect: SideEffect, exc: Exception) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    backoff = settings.SIDE_EFFECT_BACKOFF
    if effect.attempts >= settings.SIDE_EFFECT_MAX_ATTEMPTS:
        effect.status = SideEffectStatus.FAILED
        outcome = "gave up; retry it from the side effects list"
    else:
        delay = backoff[min(effect.attempts - 1, len(backoff) - 1)]
        effect.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        outcome = f"retrying in {delay} s"
    effect.last_error = error
    effect.save(update_fields=["status", "next_attempt_at", "last_error"])
    # The key and exception name only: no addresses or other personal data in the log.
    log.warning("side effect %s failed (attempt %s): %s; %s",
                effect.key, effect.attempts, type(exc).__name__, outcome)
    if effect.trade_in_id:
        record_event(effect.trade_in, kind=effect.kind, actor=SYSTEM, is_failure=True,
                     note=f"{_describe(effect)} failed (attempt {effect.attempts}): {error}; {outcome}")
    return f"failed: {error}"


# --- periodic sweeps (scheduled by migration 0002) --------------------------------------------
def run_due_side_effects(limit: int = 200) -> int:
    """Run pending outbox rows whose time has come: retries, and any whose enqueue was lost."""
    due = list(
        SideEffect.objects.filter(
            status=SideEffectStatus.PENDING, next_attempt_at__lte=timezone.now()
        ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        run_side_effect(pk)
    return len(due)


def expire_lapsed_quotes() -> int:
    count = 0
    for trade_in in TradeIn.objects.filter(state=State.QUOTED):
        quote = trade_in.latest_quote()
        if quote and quote.is_lapsed:
            try:
                trade_in_expire(trade_in=trade_in)
                count += 1
            except DomainError:  # answered by the buyer a moment ago
                pass
    return count


def cancel_unarrived_devices() -> int:
    cutoff = timezone.now() - timedelta(days=settings.ARRIVAL_WINDOW_DAYS)
    count = 0
    for trade_in in TradeIn.objects.filter(state=State.ACCEPTED, accepted_at__lt=cutoff):
        try:
            trade_in_cancel(
                trade_in=trade_in, actor=SYSTEM,
                reason=f"Device did not arrive within {settings.ARRIVAL_WINDOW_DAYS} days",
            )
            count += 1
        except DomainError:  # received at the bench a moment ago
            pass
    return count
