"""The outbox handlers: each does one kind of work and returns a note for the timeline.

A handler raises to fail: TemporaryError (and anything unexpected) is retried with backoff,
ProviderRefused is not (see workflows.integrations.http).

Over 400 lines on purpose: every handler the outbox dispatches to, in one table (HANDLERS), so
what each side effect does and how it fails is read in one place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from workflows.actions import stripe as stripe_actions
from workflows.actions.answers import (
    RESULT_FIELDS,
    imei_check_give_up,
    imei_check_record,
    shipping_label_email,
    shipping_label_record,
    shipping_label_voided,
)
from workflows.actions.inspection import return_label_record
from workflows.actions.outbox import side_effect_remember
from workflows.documents import emails
from workflows.formatting import money
from workflows.integrations import imei as imei_integration
from workflows.integrations import payments
from workflows.integrations import shipping as shipping_integration
from workflows.integrations.http import ProviderRefused, TemporaryError
from workflows.models import (
    Direction,
    Email,
    ImeiCheck,
    ImeiCheckStatus,
    Order,
    Payout,
    PayoutDetailChange,
    PayoutStatus,
    Quote,
    RevisedOffer,
    ShippingLabel,
    SideEffect,
    SideEffectKind,
    State,
    StoreCredit,
)
from workflows.rules import redflags
from workflows.selectors import order_box_weight, ready_payee, stripe_account_for
from workflows.selectors.orders import order_payout
from workflows.tasks.compliance import give_up_police_report, handle_police_report

# Stripe keeps an idempotency key for 24 hours; we stop trusting it a little earlier.
IDEMPOTENCY_WINDOW = timedelta(hours=20)


def _quote_email(effect: SideEffect, *, counter: bool) -> str:
    quote = Quote.objects.get(pk=effect.payload["quote_id"])
    return emails.quote(effect.trade_in, quote, counter=counter)


def _accepted_label_email(effect: SideEffect) -> str:
    label = effect.trade_in.labels.filter(
        direction=Direction.TO_SHOP, voided_at__isnull=True
    ).first()
    return emails.accepted_label(effect.trade_in, label)


def _store_credit_email(effect: SideEffect) -> str:
    credit = StoreCredit.objects.get(pk=effect.payload["store_credit_id"])
    return emails.store_credit(effect.trade_in, credit)


def _revised_offer(effect: SideEffect) -> RevisedOffer:
    return RevisedOffer.objects.get(pk=effect.payload["revised_offer_id"])


def _return_label_email(effect: SideEffect) -> str:
    labels = effect.trade_in.labels.filter(direction=Direction.TO_BUYER, voided_at__isnull=True)
    return emails.return_label(effect.trade_in, labels.first())


# The payload's "template" is an Email; anything else is a bug and fails loudly (ValueError).
EMAILS: dict[Email, Callable[[SideEffect], str]] = {
    Email.RECEIVED: lambda effect: emails.received(effect.trade_in),
    Email.STAFF_NEW_SUBMISSION: lambda effect: emails.staff_new_submission(effect.trade_in),
    Email.QUOTE: lambda effect: _quote_email(effect, counter=False),
    Email.COUNTER_QUOTE: lambda effect: _quote_email(effect, counter=True),
    Email.ACCEPTED_LABEL: _accepted_label_email,
    Email.ACCEPTED_PICKUP: lambda effect: emails.accepted_pickup(effect.trade_in),
    Email.DECLINED: lambda effect: emails.declined(effect.trade_in),
    Email.CANCELLED: lambda effect: emails.cancelled(effect.trade_in),
    Email.REROUTED: lambda effect: emails.rerouted(effect.trade_in),
    Email.PAYOUT_SENT: lambda effect: emails.payout_sent(effect.trade_in),
    Email.STRIPE_ONBOARDING: lambda effect: emails.stripe_onboarding(effect.trade_in),
    Email.STORE_CREDIT: _store_credit_email,
    Email.EMAIL_CHANGED: lambda effect: emails.email_changed(
        effect.trade_in,
        old_email=effect.payload["old_email"],
        new_email=effect.payload["new_email"],
    ),
    Email.PAYOUT_DETAILS_CHANGED: lambda effect: emails.payout_details_changed(
        effect.trade_in,
        PayoutDetailChange.objects.get(pk=effect.payload["change_id"]),
        effect.payload.get("device_ids"),
    ),
    Email.PURCHASE_RECEIPT: lambda effect: emails.purchase_receipt(effect.trade_in),
    Email.REVISED_OFFER: lambda effect: emails.revised_offer(
        effect.trade_in, _revised_offer(effect)
    ),
    Email.REVISED_OFFER_ACCEPTED: lambda effect: emails.revised_offer_accepted(
        effect.trade_in, _revised_offer(effect)
    ),
    Email.RETURN_LABEL: _return_label_email,
    Email.RETURN_PICKUP: lambda effect: emails.return_pickup(effect.trade_in),
    Email.ORDER_RECEIPT: lambda effect: emails.order_receipt(
        effect.trade_in, Order.objects.get(pk=effect.payload["order_id"])
    ),
    Email.ORDER_OFFER: lambda effect: emails.order_offer(
        effect.trade_in,
        Order.objects.get(pk=effect.payload["order_id"]),
        effect.payload["quote_ids"],
    ),
}
assert set(EMAILS) == set(Email), "every Email has its handler"


def _handle_email(effect: SideEffect) -> str:
    with emails.for_outbox_row(effect.key):
        subject = EMAILS[Email(effect.payload["template"])](effect)
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


def _handle_imei_check(effect: SideEffect) -> str:
    check = ImeiCheck.objects.select_related("trade_in__product__device_model__make").get(
        pk=effect.payload["check_id"]
    )
    provider = imei_integration.get_provider(timeout=effect.payload.get("timeout"))
    cached = None
    # The shop's own blocklist is asked first, whichever provider: an entry added a minute
    # ago wins over a cached (or a paid) "clean".
    blocked = imei_integration.blocklist_result(check.imei, provider.name)
    if blocked is None and provider.cacheable and not effect.payload.get("force"):
        cached = _cached_imei_result(check, provider.name)
    if blocked is not None:
        result = blocked
    elif cached is not None:
        result = imei_integration.ImeiResult(**{f: getattr(cached, f) for f in RESULT_FIELDS})
    else:
        try:
            result = provider.check(
                check.imei,
                resume_id=effect.payload.get("resume_id", ""),
                make=check.trade_in.product.device_model.make.name,
            )
        except imei_integration.StillProcessing as exc:
            # Ask for this check's answer next time instead of paying for a new check.
            side_effect_remember(effect=effect, resume_id=exc.check_id)
            raise
    if result.status == ImeiCheckStatus.ERROR:
        raise RuntimeError(result.detail or "IMEI check failed")
    check = imei_check_record(check=check, result=result, provider_name=provider.name)
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
    # The same list the answer was recorded with (its duplicate is the one stored on the check).
    flags_now = redflags.red_flags(check.trade_in, duplicate_of=check.duplicate_of)
    earlier = [f for f in flags_now if f not in check.red_flags]
    earlier = [f for f in earlier if f not in redflags.inconclusive(check)]
    if earlier:
        note += ". Still a red flag until a manager overrides it: " + ", ".join(earlier)
    return note


def _give_up_imei_check(effect: SideEffect, error: str) -> None:
    check = ImeiCheck.objects.select_related("trade_in").get(pk=effect.payload["check_id"])
    imei_check_give_up(check=check, error=error)


def _buy_label(
    effect: SideEffect, record: Callable[..., ShippingLabel], **options
) -> tuple[ShippingLabel, shipping_integration.Label]:
    """Buy the effect's label from the shipping provider (the outbox key is its idempotency
    key, so a retry buys one label) and keep it through `record`, the action for its
    direction (to the shop, or back to the buyer: `to_buyer=True`)."""
    provider = shipping_integration.get_provider()
    made = provider.create_label(
        effect.trade_in,
        idempotency_key=effect.key.replace(":", "-"),
        is_retry=effect.attempts > 1,
        **options,
    )
    label = record(
        trade_in=effect.trade_in,
        provider_name=provider.name,
        is_sample=provider.is_demo,
        label_id=made.label_id,
        tracking_number=made.tracking_number,
        carrier=made.carrier,
        pdf=made.pdf,
        cost=made.cost,
        cost_currency=made.cost_currency,
    )
    return label, made


def _handle_shipping_label(effect: SideEffect) -> str:
    trade_in = effect.trade_in
    # Cancelled (or otherwise moved on) before the label was bought: buy none. A label bought
    # anyway would cost money and, bought after the cancel voided the others, stay unvoided.
    if trade_in.state != State.ACCEPTED:
        return f"No label needed: trade-in is {trade_in.get_state_display().lower()}"
    label = trade_in.labels.filter(voided_at__isnull=True).first()
    note = ""
    options = {}
    if "order_id" in effect.payload:
        # One box for an order's accepted devices (workflows.actions.orders): the label is
        # the first one's, weighed for every device still accepted; declined ones stay home.
        options["weight_grams"] = order_box_weight(effect.payload["order_id"])
    if label is None:
        label, made = _buy_label(effect, shipping_label_record, **options)
        # e.g. the address ShipEngine corrected: staff see what the label says.
        note = f". {made.note}" if made.note else ""
    else:
        shipping_label_email(trade_in=trade_in)
    return (
        f"Shipping label {label.label_id} created ({label.provider}), "
        f"tracking {label.tracking_number}{note}"
    )


def _handle_return_label(effect: SideEffect) -> str:
    """The label that sends a device back to its buyer (shop to buyer); the action that
    records it emails the buyer."""
    trade_in = effect.trade_in
    label = trade_in.labels.filter(direction=Direction.TO_BUYER, voided_at__isnull=True).first()
    if label is None:
        label, _made = _buy_label(effect, return_label_record, to_buyer=True)
    return (
        f"Return label {label.label_id} created ({label.provider}), "
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
        shipping_label_voided(label=label)
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
    account = stripe_account_for(email)
    if account is None:
        account_id = provider.create_account(
            email=email,
            country=settings.STRIPE_CONNECT_COUNTRY,
            # One key per buyer: two payouts to the same buyer at once make one account.
            idempotency_key=f"account-{hashlib.sha256(email.encode()).hexdigest()[:32]}",
        )
    else:
        account_id = account.account_id
    account = stripe_actions.stripe_onboarding_record(
        payout=payout,
        email=email,
        account_id=account_id,
        email_key=f"email:stripe-onboarding:{effect.pk}",
    )
    if account.payouts_enabled and payout.payee_account_id == account.pk:
        return f"Stripe account {account.account_id} is ready; transfer scheduled"
    return f"Stripe account {account.account_id} created; setup link emailed to the buyer"


def _handle_stripe_transfer(effect: SideEffect) -> str:
    """One transfer for the order payout the effect's payout leads: the sum of its order's
    owed lines (one line for a one-device order), under one key per order payout."""
    payout = Payout.objects.select_related("trade_in").get(pk=effect.payload["payout_id"])
    if payout.status != PayoutStatus.PENDING or payout.attempt != effect.payload["attempt"]:
        return f"No transfer: payout is {payout.get_status_display().lower()}"
    account = ready_payee(payout)
    if account is None:
        raise ProviderRefused("The buyer's Stripe account cannot receive payouts yet.")
    paying = order_payout(payout)
    if paying.wait or payout not in paying.lines:
        # A device of the box went back to Returns (or on) after the manager asked to pay:
        # nothing is sent; the payout fails with the reason, and a manager pays again later.
        stripe_actions.payout_stripe_refused(
            payout=payout, reason=paying.wait or "This payout is no longer owed."
        )
        return f"No transfer: {paying.wait or 'payout no longer owed'}"
    provider = payments.get_provider()
    group = payout.transfer_group(order_of_several=paying.several)
    try:
        transfer_id = None
        if timezone.now() - effect.created_at > IDEMPOTENCY_WINDOW:
            # Stripe forgets an idempotency key after 24 hours; then only the list can tell
            # whether an earlier try got through.
            transfer_id = provider.find_transfer(transfer_group=group)
        transfer_id = transfer_id or provider.transfer(
            account_id=account.account_id,
            amount=paying.total,
            currency=payout.currency,
            idempotency_key=payout.transfer_key(order_of_several=paying.several),
            transfer_group=group,
            metadata={
                "payout_id": str(payout.pk),
                "trade_in": payout.trade_in.reference or "",
                "order": payout.trade_in.order.reference,
                "devices": str(len(paying.lines)),
            },
        )
    except ProviderRefused as exc:
        stripe_actions.payout_stripe_refused(payout=payout, reason=str(exc))
        raise
    except Exception as exc:
        # No answer: the payout stays pending, with the reason, until a retry gets one.
        stripe_actions.payout_transfer_unanswered(
            payout=payout, reason=f"{exc}; retrying with the same idempotency key"
        )
        raise
    stripe_actions.payout_settle_stripe(
        payout=payout,
        transfer_id=transfer_id,
        account_id=account.account_id,
        line_ids=[line.pk for line in paying.lines],
    )
    return (
        f"Stripe transfer {transfer_id}: {money(paying.total)} to "
        f"{account.account_id} ({provider.name})"
    )


def _give_up_stripe_transfer(effect: SideEffect, error: str) -> None:
    stripe_actions.payout_transfer_unanswered(
        payout=Payout.objects.select_related("trade_in").get(pk=effect.payload["payout_id"]),
        reason=f"{error}. Gave up retrying: send it again from the payout; the same "
        f"idempotency key is used, so the buyer cannot be paid twice.",
    )


def _handle_check_stripe_account(effect: SideEffect) -> str:
    state = payments.get_provider().retrieve_account(effect.payload["account_id"])
    stripe_actions.stripe_account_update(
        account_id=state.account_id,
        payouts_enabled=state.payouts_enabled,
        details_submitted=state.details_submitted,
    )
    enabled = "enabled" if state.payouts_enabled else "not enabled yet"
    return f"Stripe account {state.account_id}: payouts {enabled}"


def _handle_match_bank_payout(effect: SideEffect) -> str:
    """A kept `payout.*` event: ask Stripe again which transfers the bank payout carried.
    A refusal is retried too (a rotated key gets fixed); only Stripe's listing is an answer."""
    event = effect.payload["event"]
    try:
        carried = payments.get_provider().transfers_in_bank_payout(
            account_id=str(event.get("account") or ""),
            payout_id=str(event["data"]["object"].get("id")),
        )
    except ProviderRefused as exc:
        raise TemporaryError(
            f"{exc} (check STRIPE_SECRET_KEY); asked again later", safe=exc.safe, status=exc.status
        ) from None
    outcome = stripe_actions.stripe_event_apply(event=event, carried_transfers=carried)
    return f"Stripe {event['type']} {event['id']}: {outcome}"


HANDLERS: dict[str, Callable[[SideEffect], str]] = {
    SideEffectKind.SEND_EMAIL: _handle_email,
    SideEffectKind.CHECK_IMEI: _handle_imei_check,
    SideEffectKind.CREATE_LABEL: _handle_shipping_label,
    SideEffectKind.CREATE_RETURN_LABEL: _handle_return_label,
    SideEffectKind.VOID_LABEL: _handle_void_label,
    SideEffectKind.SEND_STRIPE_SETUP: _handle_stripe_onboarding,
    SideEffectKind.MAKE_STRIPE_TRANSFER: _handle_stripe_transfer,
    SideEffectKind.CHECK_STRIPE_ACCOUNT: _handle_check_stripe_account,
    SideEffectKind.DELIVER_POLICE_REPORT: handle_police_report,
    SideEffectKind.MATCH_BANK_PAYOUT: _handle_match_bank_payout,
}
# What to record when a side effect will not be tried again.
GIVE_UP: dict[str, Callable[[SideEffect, str], None]] = {
    SideEffectKind.CHECK_IMEI: _give_up_imei_check,
    SideEffectKind.MAKE_STRIPE_TRANSFER: _give_up_stripe_transfer,
    SideEffectKind.DELIVER_POLICE_REPORT: give_up_police_report,
}
