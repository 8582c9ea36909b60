"""django-q2 tasks: the side effects the actions scheduled, and the periodic sweeps.

Every side effect is an outbox row (workflows.models.SideEffect). A task claims the row,
does the outside work, and records success or failure on the trade-in's timeline. A failure
is retried with backoff by the sweep; nothing the person did is rolled back.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from workflows import emails
from workflows.actions import SYSTEM, trade_in_auto_quote, trade_in_cancel, trade_in_expire
from workflows.actions import stripe as stripe_actions
from workflows.actions._common import record_event, schedule
from workflows.errors import DomainError
from workflows.integrations import imei as imei_integration
from workflows.integrations import payments
from workflows.integrations import shipping as shipping_integration
from workflows.integrations.http import IntegrationError, ProviderRefused, TemporaryError
from workflows.models import (
    ImeiCheck,
    ImeiCheckStatus,
    Payout,
    PayoutStatus,
    Quote,
    ShippingLabel,
    SideEffect,
    SideEffectStatus,
    State,
    StoreCredit,
    StripeAccount,
    TradeIn,
)

log = logging.getLogger("workflows")

# Stripe keeps an idempotency key for 24 hours; we stop trusting it a little earlier.
IDEMPOTENCY_WINDOW = timedelta(hours=20)
# A claimed row is not picked up by anybody else for this long (a crashed worker's row
# becomes due again after it).
LEASE = timedelta(minutes=5)


# --- handlers: each does one kind of work and returns a note for the timeline -------------------
# A handler raises to fail: TemporaryError (and anything unexpected) is retried with backoff,
# ProviderRefused is not (see workflows.integrations.http).
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


def _cached_imei_result(check: ImeiCheck, provider_name: str) -> ImeiCheck | None:
    since = timezone.now() - timedelta(seconds=settings.IMEI_CHECK_CACHE_SECONDS)
    return (
        ImeiCheck.objects.filter(
            imei=check.imei,
            provider=provider_name,
            checked_at__gte=since,
            status__in=[ImeiCheckStatus.CLEAN, ImeiCheckStatus.FLAGGED, ImeiCheckStatus.UNKNOWN],
        )
        .exclude(pk=check.pk)
        .order_by("-checked_at")
        .first()
    )


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


def _handle_imei_check(effect: SideEffect) -> str:
    check = ImeiCheck.objects.select_related("trade_in__product__device_model__make").get(
        pk=effect.payload["check_id"]
    )
    provider = imei_integration.get_provider()
    cached = None
    if provider.cacheable and not effect.payload.get("force"):
        cached = _cached_imei_result(check, provider.name)
    if cached is not None:
        result = imei_integration.ImeiResult(**{f: getattr(cached, f) for f in RESULT_FIELDS})
    else:
        try:
            result = provider.check(check.imei, resume_id=effect.payload.get("resume_id", ""))
        except imei_integration.StillProcessing as exc:
            # Ask for this check's answer next time instead of paying for a new check.
            effect.payload["resume_id"] = exc.check_id
            effect.save(update_fields=["payload"])
            raise
    if result.status == ImeiCheckStatus.ERROR:
        raise RuntimeError(result.detail or "IMEI check failed")
    for name in RESULT_FIELDS:
        setattr(check, name, getattr(result, name))
    check.model_mismatch = imei_integration.model_mismatch(
        check.trade_in.product.device_model, result.reported_model
    )
    check.provider = provider.name
    check.checked_at = timezone.now()
    check.save()
    TradeIn.objects.filter(pk=check.trade_in_id).update(
        imei_status=check.status, model_mismatch=check.model_mismatch
    )
    flags = ", ".join(check.red_flags)
    note = f"IMEI check ({provider.name}): {check.get_status_display()}" + (
        f" - {flags}" if flags else ""
    )
    if check.model_mismatch:
        note += (
            f". MODEL MISMATCH: the buyer chose {check.trade_in.product.device_model}, "
            f"the service reports {result.reported_model}"
        )
    if cached is not None:
        note += f" (cached result of {cached.checked_at:%Y-%m-%d %H:%M})"
    return note


def _give_up_imei_check(effect: SideEffect, error: str) -> None:
    # The check is over without an answer: say so instead of leaving it "pending" forever.
    ImeiCheck.objects.filter(pk=effect.payload["check_id"]).update(
        status=ImeiCheckStatus.ERROR, detail=error[:2000], checked_at=timezone.now()
    )
    if effect.trade_in_id:
        latest = effect.trade_in.latest_imei_check()
        if latest is not None and latest.pk == effect.payload["check_id"]:
            TradeIn.objects.filter(pk=effect.trade_in_id).update(imei_status=ImeiCheckStatus.ERROR)


def _handle_shipping_label(effect: SideEffect) -> str:
    trade_in = effect.trade_in
    if trade_in.state != State.ACCEPTED:
        return f"No label needed: trade-in is {trade_in.get_state_display().lower()}"
    label = trade_in.labels.filter(voided_at__isnull=True).first()
    if label is None:
        provider = shipping_integration.get_provider()
        made = provider.create_label(
            trade_in, idempotency_key=effect.key.replace(":", "-"), is_retry=effect.attempts > 1
        )
        label = ShippingLabel.objects.create(
            trade_in=trade_in,
            provider=provider.name,
            label_id=made.label_id,
            tracking_number=made.tracking_number,
            carrier=made.carrier,
            pdf=made.pdf,
            is_sample=provider.is_demo,
        )
    with transaction.atomic():
        schedule(
            "email",
            key=f"email:accepted:{trade_in.pk}",
            trade_in=trade_in,
            template="accepted_label",
        )
    return (
        f"Shipping label {label.label_id} created ({label.provider}), "
        f"tracking {label.tracking_number}"
    )


def _label_provider(label: ShippingLabel) -> shipping_integration.ShippingProvider:
    if label.is_sample:
        return shipping_integration.SampleShippingProvider()
    provider = shipping_integration.get_provider()
    if provider.name != label.provider:
        raise ProviderRefused(
            f"Label {label.label_id} was made by {label.provider}, which is "
            f"not configured now: void it there by hand."
        )
    return provider


def _handle_void_label(effect: SideEffect) -> str:
    voided = []
    for label in effect.trade_in.labels.filter(voided_at__isnull=True):
        _label_provider(label).void_label(label.label_id)
        label.voided_at = timezone.now()
        label.save(update_fields=["voided_at"])
        voided.append(label.label_id)
    return f"Shipping label voided: {', '.join(voided) or 'none'}"


def _handle_stripe_onboarding(effect: SideEffect) -> str:
    """Give the buyer a Stripe connected account and email them the link to set it up."""
    payout = Payout.objects.select_related("trade_in").get(pk=effect.payload["payout_id"])
    trade_in = payout.trade_in
    if payout.status != PayoutStatus.PENDING:
        return f"No Stripe setup needed: payout is {payout.get_status_display().lower()}"
    provider = payments.get_provider()
    email = trade_in.buyer_email.lower()
    account = StripeAccount.objects.filter(provider=provider.name, email=email).first()
    if account is None:
        account_id = provider.create_account(
            email=email,
            country=settings.STRIPE_CONNECT_COUNTRY,
            # One key per buyer: two payouts to the same buyer at once make one account.
            idempotency_key=f"account-{hashlib.sha256(email.encode()).hexdigest()[:32]}",
        )
        account, _created = StripeAccount.objects.get_or_create(
            provider=provider.name, email=email, defaults={"account_id": account_id}
        )
    if account.payouts_enabled:  # finished onboarding meanwhile
        with transaction.atomic():
            stripe_actions.schedule_transfer(payout)
        return f"Stripe account {account.account_id} is ready; transfer scheduled"
    with transaction.atomic():
        schedule(
            "email",
            key=f"email:stripe-onboarding:{effect.pk}",
            trade_in=trade_in,
            template="stripe_onboarding",
        )
    return f"Stripe account {account.account_id} created; setup link emailed to the buyer"


def _handle_stripe_transfer(effect: SideEffect) -> str:
    payout = Payout.objects.select_related("trade_in").get(pk=effect.payload["payout_id"])
    if payout.status != PayoutStatus.PENDING or payout.attempt != effect.payload["attempt"]:
        return f"No transfer: payout is {payout.get_status_display().lower()}"
    account = stripe_actions.ready_account(payout.trade_in.buyer_email)
    if account is None:
        raise ProviderRefused("The buyer's Stripe account cannot receive payouts yet.")
    provider = payments.get_provider()
    group = f"payout-{payout.pk}"
    try:
        transfer_id = None
        if timezone.now() - effect.created_at > IDEMPOTENCY_WINDOW:
            # Stripe forgets an idempotency key after 24 hours; then only the list can tell
            # whether an earlier try got through.
            transfer_id = provider.find_transfer(transfer_group=group)
        transfer_id = transfer_id or provider.transfer(
            account_id=account.account_id,
            amount=payout.amount,
            currency=payout.currency,
            idempotency_key=payout.idempotency_key,
            transfer_group=group,
            metadata={"payout_id": str(payout.pk), "trade_in": payout.trade_in.reference or ""},
        )
    except ProviderRefused as exc:
        stripe_actions.payout_stripe_refused(payout=payout, reason=str(exc))
        raise
    except Exception as exc:
        # No answer: the payout stays pending, with the reason, until a retry gets one.
        Payout.objects.filter(pk=payout.pk, status=PayoutStatus.PENDING).update(
            failure_reason=f"{exc}; retrying with the same idempotency key"
        )
        raise
    stripe_actions.payout_settle_stripe(
        payout=payout, transfer_id=transfer_id, account_id=account.account_id
    )
    return (
        f"Stripe transfer {transfer_id}: {payout.amount} {payout.currency} to "
        f"{account.account_id} ({provider.name})"
    )


def _give_up_stripe_transfer(effect: SideEffect, error: str) -> None:
    Payout.objects.filter(pk=effect.payload["payout_id"], status=PayoutStatus.PENDING).update(
        failure_reason=f"{error}. Gave up retrying: send it again from the payout; the same "
        f"idempotency key is used, so the buyer cannot be paid twice."
    )


HANDLERS: dict[str, Callable[[SideEffect], str]] = {
    "email": _handle_email,
    "imei_check": _handle_imei_check,
    "shipping_label": _handle_shipping_label,
    "void_label": _handle_void_label,
    "stripe_onboarding": _handle_stripe_onboarding,
    "stripe_transfer": _handle_stripe_transfer,
}
# What to record when a side effect will not be tried again.
GIVE_UP: dict[str, Callable[[SideEffect, str], None]] = {
    "imei_check": _give_up_imei_check,
    "stripe_transfer": _give_up_stripe_transfer,
}


def _after_imei_check(effect: SideEffect) -> None:
    # A clean check may be all a submission needs: the manager's quoting policy decides.
    check = ImeiCheck.objects.get(pk=effect.payload["check_id"])
    latest = effect.trade_in.latest_imei_check()
    if latest is not None and latest.pk == check.pk:
        trade_in_auto_quote(trade_in=effect.trade_in)


# What follows a success, after it is on the timeline.
AFTER: dict[str, Callable[[SideEffect], None]] = {
    "imei_check": _after_imei_check,
}


def _describe(effect: SideEffect) -> str:
    template = effect.payload.get("template")
    return f"{effect.kind} ({template})" if template else effect.kind


def run_side_effects(side_effect_ids: list[int]) -> list[str]:
    """The task an action's commit queues: its outbox rows, in the order they were written."""
    return [run_side_effect(pk) for pk in side_effect_ids]


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
    if effect.kind in AFTER:
        AFTER[effect.kind](effect)
    return note


def _record_failure(effect: SideEffect, exc: Exception) -> str:
    error = f"{exc}" if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
    error = error[:2000]
    backoff = settings.SIDE_EFFECT_BACKOFF
    refused = isinstance(exc, ProviderRefused)
    if refused or effect.attempts >= settings.SIDE_EFFECT_MAX_ATTEMPTS:
        effect.status = SideEffectStatus.FAILED
        outcome = (
            "not retried: the service refused; fix the cause, then retry"
            if refused
            else "gave up; retry it from the side effects list"
        )
    else:
        delay = backoff[min(effect.attempts - 1, len(backoff) - 1)]
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:  # the service said when: never sooner
            delay = max(delay, math.ceil(retry_after))
        effect.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        outcome = f"retrying in {delay} s"
    effect.last_error = error
    effect.save(update_fields=["status", "next_attempt_at", "last_error"])
    # The key and a short reason without personal data (no addresses, no emails) for the log.
    log.warning(
        "side effect %s failed (attempt %s): %s; %s",
        effect.key,
        effect.attempts,
        getattr(exc, "safe", type(exc).__name__),
        outcome,
    )
    if effect.trade_in_id:
        record_event(
            effect.trade_in,
            kind=effect.kind,
            actor=SYSTEM,
            is_failure=True,
            note=f"{_describe(effect)} failed (attempt {effect.attempts}): {error}; {outcome}",
        )
    if effect.status == SideEffectStatus.FAILED and effect.kind in GIVE_UP:
        GIVE_UP[effect.kind](effect, error)
    return f"failed: {error}"


# --- periodic sweeps (scheduled by migration 0002) --------------------------------------------
def run_due_side_effects(limit: int = 200) -> int:
    """Run pending outbox rows whose time has come: retries, and any whose enqueue was lost."""
    due = list(
        SideEffect.objects.filter(
            status=SideEffectStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
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
                trade_in=trade_in,
                actor=SYSTEM,
                reason=f"Device did not arrive within {settings.ARRIVAL_WINDOW_DAYS} days",
            )
            count += 1
        except DomainError:  # received at the bench a moment ago
            pass
    return count


def poll_tracking(limit: int = 500) -> int:
    """Ask the carrier where each parcel on its way to us is; changes go on the timeline."""
    provider = shipping_integration.get_provider()
    labels = (
        ShippingLabel.objects.filter(
            provider=provider.name, voided_at__isnull=True, trade_in__state=State.ACCEPTED
        )
        .exclude(tracking_status="DE")  # delivered: the intake bench takes it from here
        # Never-polled labels first, then the longest unasked: each parcel gets its turn.
        .select_related("trade_in")
        .order_by(F("tracking_updated_at").asc(nulls_first=True), "pk")[:limit]
    )
    changed = 0
    for label in labels:
        try:
            tracking = provider.track(label.label_id)
        except IntegrationError as exc:
            log.warning("tracking %s failed: %s", label.label_id, exc.safe)
            # Asked, if not answered: the next poll starts with the parcels after this one.
            label.tracking_updated_at = timezone.now()
            update = ["tracking_updated_at"]
            if str(exc) != label.tracking_error:  # one timeline row per new problem, not per poll
                label.tracking_error = str(exc)[:2000]
                update.append("tracking_error")
                record_event(
                    label.trade_in,
                    kind="tracking",
                    actor=SYSTEM,
                    is_failure=True,
                    note=f"Tracking {label.tracking_number} could not be read: {exc}",
                )
            label.save(update_fields=update)
            if isinstance(exc, TemporaryError):
                # The carrier is down or slow: waiting out its timeout for every parcel would
                # run past the task's time limit. The next hourly poll tries again.
                break
            continue
        if tracking is None:
            continue
        news = (tracking.status_code, tracking.description) != (
            label.tracking_status,
            label.tracking_detail,
        )
        label.tracking_status, label.tracking_detail = tracking.status_code, tracking.description
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
            changed += 1
            record_event(
                label.trade_in,
                kind="tracking",
                actor=SYSTEM,
                is_failure=tracking.status_code == "EX",
                note=f"Tracking {label.tracking_number}: {tracking.description}",
            )
    return changed
