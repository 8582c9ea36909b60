"""Paying buyers through Stripe Connect, and what Stripe tells us afterwards.

A manager asks to pay (`payout_send_stripe`); the money moves in a side effect after commit
(workflows.tasks), which reports back through `payout_settle_stripe` or `payout_stripe_refused`.
Stripe's webhooks arrive through `stripe_event_apply`. (About 500 lines: the webhook handlers
stay beside the payout actions they drive, so one file tells the whole Stripe story.)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from workflows.actions._common import (
    BUYER,
    SYSTEM,
    Actor,
    Operation,
    _requeue,
    authorize,
    lock_trade_in,
    record_event,
    schedule,
)
from workflows.actions._costs import _carry_costs
from workflows.actions._lifecycle import _lock_for_settling, _lock_order_payouts, _settle
from workflows.actions.payouts import _email_payout_sent, _the
from workflows.errors import LinkInvalid, TransitionRefused
from workflows.formatting import money
from workflows.integrations import payments
from workflows.models import (
    Email,
    EventKind,
    Payout,
    PayoutMethod,
    PayoutStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    StripeAccount,
    StripeEvent,
    TradeIn,
    Unit,
)
from workflows.rules.predicates import payout_settleable
from workflows.selectors import ready_payee


def _lock(payout: Payout) -> Payout:
    # Lock order everywhere: trade-in first, then its payout.
    lock_trade_in(payout.trade_in)
    return Payout.objects.select_for_update().select_related("trade_in").get(pk=payout.pk)


@transaction.atomic(durable=True)
def payout_confirm_payee(
    *, payout: Payout, email: str, actor: Actor = BUYER
) -> StripeAccount | None:
    """The buyer opened the setup link we emailed for this payout to `email`: that proves
    the address, so the connected account made for it becomes this payout's payee. Returns
    None while the account is still being made (the task runs after the manager pays)."""
    authorize(actor, Operation.CONFIRM_PAYEE)
    payout = _lock(payout)
    trade_in = payout.trade_in
    email = email.strip().lower()
    if trade_in.buyer_email.strip().lower() != email:
        raise LinkInvalid(
            _("This link was sent to an email address that is no longer on your trade-in."),
            reason="superseded",
        )
    if payout.method != PayoutMethod.STRIPE or payout.status not in (
        PayoutStatus.PENDING,
        PayoutStatus.FAILED,
    ):
        raise TransitionRefused(_("This payout needs no Stripe setup."))
    account = StripeAccount.objects.filter(
        provider=payments.get_provider().name, email=email
    ).first()
    if account is None:
        return None
    if payout.payee_account_id != account.pk:
        payout.payee_account = account
        payout.save(update_fields=["payee_account"])
        record_event(
            trade_in,
            kind=EventKind.PAYEE_CONFIRMED,
            actor=actor,
            note=_("The buyer opened the setup link emailed to them; we pay Stripe account %s")
            % account.account_id,
        )
        if (
            account.payouts_enabled
            and payout.status == PayoutStatus.PENDING
            and payout.transfer_requested_at is not None
        ):
            _schedule_transfer(payout)
    return account


def _schedule_transfer(payout: Payout, *, again: bool = False) -> SideEffect:
    effect = schedule(
        SideEffectKind.MAKE_STRIPE_TRANSFER,
        key=f"stripe-transfer:{payout.pk}:{payout.attempt}",
        trade_in=payout.trade_in,
        payout_id=payout.pk,
        attempt=payout.attempt,
    )
    if again and effect.status == SideEffectStatus.FAILED:
        # It gave up after Stripe did not answer. The same key is reused, so Stripe replays a
        # transfer that did go through instead of making a second one.
        _requeue([effect])
    return effect


def _email_stripe_setup(payout: Payout, *, actor: Actor, note: str) -> SideEffect:
    """The payout is requested (its timeline row says `note`) and the buyer is emailed the
    link to set up their Stripe payouts; the transfer follows once they have. Shared by the
    manager's request (payout_send_stripe) and the counter (counter_buyback_pay)."""
    event = record_event(payout.trade_in, kind=EventKind.PAYOUT_REQUESTED, actor=actor, note=note)
    return schedule(
        SideEffectKind.SEND_STRIPE_SETUP,
        key=f"stripe-onboarding:{payout.pk}:{event.pk}",
        trade_in=payout.trade_in,
        payout_id=payout.pk,
    )


@transaction.atomic(durable=True)
def payout_send_stripe(*, payout: Payout, actor: Actor) -> Payout:
    """A manager pays a received device by Stripe (with its order's other owed devices: one
    transfer for the sum): now if the buyer's Stripe account is ready, else once the buyer
    finishes Stripe's onboarding from the link we email them.

    The transfer is asked, keyed and answered for the first owed line (the lead); the other
    lines are settled with it when Stripe answers."""
    lines = _lock_for_settling(payout, actor, PayoutMethod.STRIPE)
    lead = lines[0]
    if lead.status == PayoutStatus.FAILED:
        lead.attempt += 1  # Stripe refused the last key's transfer; it made none
    for line in lines:
        if line.status == PayoutStatus.FAILED:
            line.retry()
        # Every line carries the attempt: a later lead (the first device sent to Returns
        # meanwhile) never reuses a key Stripe refused.
        line.attempt = lead.attempt
        line.save()
    lead.transfer_requested_at = timezone.now()
    lead.save()
    if not ready_payee(lead):
        _email_stripe_setup(
            lead, actor=actor, note=_("Waiting for the buyer to set up Stripe payouts")
        )
        return _the(payout, lines)
    _schedule_transfer(lead, again=True)
    total = sum((line.amount for line in lines), Decimal("0"))
    note = _("Stripe transfer of %(amount)s %(currency)s requested") % {
        "amount": total,
        "currency": lead.currency,
    }
    if len(lines) > 1:
        note += _(" for %d devices of the order") % len(lines)
    record_event(lead.trade_in, kind=EventKind.PAYOUT_REQUESTED, actor=actor, note=note)
    return _the(payout, lines)


@transaction.atomic(durable=True)
def payout_settle_stripe(
    *, payout: Payout, transfer_id: str, account_id: str, line_ids: list[int] | None = None
) -> Payout:
    """Stripe made the transfer (its answer, or its webhook if the answer was lost).
    `line_ids`: the payouts the transfer's sum was made of, when the task that asked for it
    says (its webhook does not)."""
    return _payout_settle_stripe(
        payout, transfer_id=transfer_id, account_id=account_id, line_ids=line_ids
    )


def _payout_settle_stripe(
    payout: Payout, *, transfer_id: str, account_id: str, line_ids: list[int] | None = None
) -> Payout:
    # The transfer's answer and Stripe's webhook may both settle at once: one waits here.
    order = _lock_order_payouts(payout)
    payout = _the(payout, order.lines)
    if payout.status == PayoutStatus.SETTLED and payout.settlement_reference == transfer_id:
        return payout  # the webhook and the answer both told us
    paid = set(line_ids) if line_ids is not None else {payout.pk}
    # The task asks Stripe without holding a lock: a device of the box rerouted or cancelled
    # during the call was paid for all the same. Money left for it: a person must reverse it.
    for line in order.lines:
        if line.pk in paid and line.status != PayoutStatus.SETTLED and not payout_settleable(line):
            record_event(
                line.trade_in,
                kind=EventKind.PAYOUT_SETTLED,
                actor=SYSTEM,
                is_failure=True,
                note=_(
                    "Stripe transfer %(id)s went out but the payout is %(status)s: "
                    "reverse it in Stripe."
                )
                % {"id": transfer_id, "status": line.get_status_display().lower()}
                + (_(" (%s of the transfer)") % money(line.amount) if len(paid) > 1 else ""),
            )
    if line_ids is None and not payout_settleable(payout):
        return payout  # the webhook: which other lines the transfer paid is not known
    # The transfer paid the order's owed Stripe lines (workflows.selectors.order_payout), each
    # one it was made of that is still owed (the others just flagged), even when the lead is not.
    lines = [
        line
        for line in order.owed()
        if line.method == PayoutMethod.STRIPE
        and payout_settleable(line)
        and (line_ids is None or line.pk in paid)
    ]
    if not lines:
        return payout
    for line in lines:
        line.stripe_account = account_id
        line.provider_status = "transfer_created"
    _settle(lines, SYSTEM, transfer_id)
    _email_payout_sent(lines)
    return payout


@transaction.atomic(durable=True)
def payout_stripe_refused(*, payout: Payout, reason: str) -> Payout:
    """Stripe said no (no transfer was made): the payout fails (with its order's other owed
    lines, which the same transfer was to pay), and a manager may try again."""
    # A manager pressing "pay" again at this moment must see the payout failed, or pending.
    order = _lock_order_payouts(payout)
    payout = _the(payout, order.lines)
    if payout.status != PayoutStatus.PENDING:
        return payout
    for line in order.owed():
        if line.status != PayoutStatus.PENDING or line.method != PayoutMethod.STRIPE:
            continue
        line.fail()
        line.failure_reason = reason[:2000]
        line.save()
        record_event(
            line.trade_in,
            kind=EventKind.PAYOUT_FAILED,
            actor=SYSTEM,
            is_failure=True,
            from_state=PayoutStatus.PENDING,
            to_state=PayoutStatus.FAILED,
            note=reason,
        )
    return payout


@transaction.atomic(durable=True)
def stripe_account_update(
    *, account_id: str, payouts_enabled: bool, details_submitted: bool
) -> StripeAccount | None:
    """Record what Stripe says of a connected account. When it can first be paid, the
    payouts a manager already asked for go out."""
    return _stripe_account_update(
        account_id=account_id, payouts_enabled=payouts_enabled, details_submitted=details_submitted
    )


def _stripe_account_update(
    *, account_id: str, payouts_enabled: bool, details_submitted: bool
) -> StripeAccount | None:
    # Stripe's redirect and its webhook may both report the same change at once.
    account = StripeAccount.objects.select_for_update().filter(account_id=account_id).first()
    if account is None:
        return None
    became_ready = payouts_enabled and not account.payouts_enabled
    account.payouts_enabled = payouts_enabled
    account.details_submitted = details_submitted
    if became_ready:
        account.onboarded_at = timezone.now()
    account.save()
    if became_ready:
        waiting = Payout.objects.filter(
            method=PayoutMethod.STRIPE,
            status=PayoutStatus.PENDING,
            transfer_requested_at__isnull=False,
            trade_in__state=State.RECEIVED,
            payee_account=account,
        ).select_related("trade_in")
        for payout in waiting:
            record_event(
                payout.trade_in,
                kind=EventKind.STRIPE_ONBOARDED,
                actor=SYSTEM,
                note=_("The buyer finished Stripe onboarding (%s)") % account_id,
            )
            _schedule_transfer(payout)
    return account


@transaction.atomic(durable=True)
def stripe_onboarding_record(
    *, payout: Payout, email: str, account_id: str, email_key: str
) -> StripeAccount:
    """The buyer has a connected account (made just now, or before): if it can be paid, the
    transfer is scheduled; else the buyer gets the setup link by email (key: once per try)."""
    payout = _lock(payout)
    account, _created = StripeAccount.objects.get_or_create(
        provider=payments.get_provider().name,
        email=email.lower(),
        defaults={"account_id": account_id},
    )
    if payout.status != PayoutStatus.PENDING:
        return account  # declined or paid meanwhile: nothing to send
    if account.payouts_enabled and payout.payee_account_id == account.pk:
        # The buyer confirmed this account for this payout and finished onboarding meanwhile.
        # A ready account not confirmed for this payout still gets the emailed link: only
        # the buyer opening it binds the account to this payout.
        _schedule_transfer(payout)
    else:
        schedule(
            SideEffectKind.SEND_EMAIL,
            key=email_key,
            trade_in=payout.trade_in,
            template=Email.STRIPE_ONBOARDING,
        )
    return account


@transaction.atomic(durable=True)
def stripe_account_check_request(*, trade_in: TradeIn) -> SideEffect | None:
    """The buyer came back from Stripe's onboarding: ask Stripe (after commit, in a task;
    never while the buyer's page waits) whether their account can now be paid. Stripe's
    webhook says the same; whichever comes first records it."""
    payout = Payout.objects.filter(trade_in=trade_in).select_related("payee_account").first()
    account = payout.payee_account if payout is not None else None
    if account is None or account.payouts_enabled:
        return None
    return schedule(
        SideEffectKind.CHECK_STRIPE_ACCOUNT,
        key=f"check-stripe-account:{account.pk}:{timezone.now():%Y%m%d%H%M%S%f}",
        trade_in=trade_in,
        account_id=account.account_id,
    )


@transaction.atomic(durable=True)
def payout_transfer_unanswered(*, payout: Payout, reason: str) -> Payout:
    """Stripe did not answer a transfer: the payout stays pending, with the reason shown to
    the manager, until a retry (with the same idempotency key) gets an answer."""
    payout = _lock(payout)
    if payout.status == PayoutStatus.PENDING:
        payout.failure_reason = reason[:2000]
        payout.save(update_fields=["failure_reason"])
    return payout


# --- webhooks ------------------------------------------------------------------------------------
def _on_account_updated(event: dict[str, Any], obj: dict[str, Any]) -> str:
    account = _stripe_account_update(
        account_id=str(obj.get("id", "")),
        payouts_enabled=bool(obj.get("payouts_enabled")),
        details_submitted=bool(obj.get("details_submitted")),
    )
    if account is None:
        return "ignored: not one of our accounts"
    enabled = "enabled" if account.payouts_enabled else "not enabled"
    return f"account {account.account_id}: payouts {enabled}"


def _payout_from_metadata(obj: dict[str, Any]) -> Payout | None:
    payout_id = str((obj.get("metadata") or {}).get("payout_id", ""))
    if not payout_id.isdigit():
        return None
    return (
        Payout.objects.filter(pk=int(payout_id), method=PayoutMethod.STRIPE)
        .select_related("trade_in")
        .first()
    )


def _on_transfer_created(event: dict[str, Any], obj: dict[str, Any]) -> str:
    payout = _payout_from_metadata(obj)
    if payout is None:
        return "ignored: no payout of ours"
    if payout.status == PayoutStatus.SETTLED and payout.settlement_reference != obj.get("id"):
        # A second transfer for one payout: the buyer was paid twice. Say it loudly.
        record_event(
            payout.trade_in,
            kind=EventKind.PAYOUT_SETTLED,
            actor=SYSTEM,
            is_failure=True,
            note=_(
                "Stripe reports transfer %(new)s, but this payout was already paid "
                "by %(old)s: reverse one of them in Stripe."
            )
            % {"new": obj.get("id"), "old": payout.settlement_reference},
        )
        return f"payout {payout.pk}: second transfer {obj.get('id')}"
    if payout.status == PayoutStatus.SETTLED:
        return f"payout {payout.pk} already settled"
    if payout.status != PayoutStatus.PENDING:
        return f"ignored: payout {payout.pk} is {payout.status}"
    _payout_settle_stripe(
        payout, transfer_id=str(obj.get("id")), account_id=str(obj.get("destination") or "")
    )
    return f"payout {payout.pk} settled by the webhook"


def _on_transfer_reversed(event: dict[str, Any], obj: dict[str, Any]) -> str:
    transfer_id = str(obj.get("id", ""))
    found = (
        Payout.objects.filter(method=PayoutMethod.STRIPE, settlement_reference=transfer_id)
        .select_related("trade_in")
        .first()
    )
    if found is None:
        return "ignored: no payout of ours"
    # One transfer paid every line of its order payout: all of them are reversed together.
    order = _lock_order_payouts(found)
    lines = [
        line
        for line in order.lines
        if line.method == PayoutMethod.STRIPE and line.settlement_reference == transfer_id
    ]
    payout = lines[0]
    reversed_minor = obj.get("amount_reversed")
    if not isinstance(reversed_minor, int):
        return "ignored: no amount_reversed"
    total = sum((line.amount for line in lines), Decimal("0"))
    whole = reversed_minor >= payments.minor_units(total, payout.currency)
    if whole and all(can_proceed(line.reverse) for line in lines):
        for line in lines:
            line.reverse()
            line.provider_status = "reversed"
            line.save()
        _carry_costs(Unit.objects.filter(trade_in_id__in=[line.trade_in_id for line in lines]))
    divisor = 1 if payout.currency.lower() in payments.ZERO_DECIMAL else 100
    note = _(
        "Stripe reversed %(amount)s %(currency)s of transfer %(id)s: the buyer was not paid that."
    ) % {
        "amount": Decimal(reversed_minor) / divisor,
        "currency": payout.currency,
        "id": transfer_id,
    }
    for line in lines:
        record_event(
            line.trade_in, kind=EventKind.PAYOUT_REVERSED, actor=SYSTEM, is_failure=True, note=note
        )
    return f"payout {payout.pk}: {'reversed' if whole else 'partly reversed'}"


def _on_connected_payout(
    event: dict[str, Any], obj: dict[str, Any], carried: list[str] | None
) -> str:
    """payout.paid / payout.failed on a buyer's account: their bank got the money, or not.
    Only the payouts whose transfers this bank payout carried (Stripe's balance transactions
    of that payout, `carried`): the account's other payouts went or go in other bank payouts."""
    account = str(event.get("account") or "")
    paid = event["type"] == "payout.paid"
    payouts = list(
        Payout.objects.filter(
            method=PayoutMethod.STRIPE,
            status=PayoutStatus.SETTLED,
            stripe_account=account,
            settlement_reference__in=carried or [],
            provider_status__in=["transfer_created", "failed", "paid"],
        ).select_related("trade_in")
    )
    if not account or not payouts:
        return "ignored: no transfer of ours in this bank payout"
    reason = str(obj.get("failure_message") or obj.get("failure_code") or "")
    for payout in map(_lock, payouts):
        if payout.provider_status == ("paid" if paid else "failed"):
            continue
        payout.provider_status = "paid" if paid else "failed"
        payout.save(update_fields=["provider_status"])
        record_event(
            payout.trade_in,
            kind=EventKind.BANK_PAYOUT_REPORTED,
            actor=SYSTEM,
            is_failure=not paid,
            note=_("Stripe paid the money out to the buyer's bank.")
            if paid
            else _(
                "Stripe could not pay the buyer's bank: %s. The buyer must fix their "
                "bank details in Stripe."
            )
            % (reason or _("no reason given")),
        )
    return f"{len(payouts)} payout(s) {'paid' if paid else 'failed'} at the bank"


WEBHOOK_HANDLERS = {
    "account.updated": _on_account_updated,
    "transfer.created": _on_transfer_created,
    "transfer.reversed": _on_transfer_reversed,
}
BANK_PAYOUT_EVENTS = ("payout.paid", "payout.failed")


@transaction.atomic(durable=True)
def stripe_bank_payout_keep(*, event: dict[str, Any], error: str) -> str:
    """Stripe did not say which of our transfers a bank payout carried (it refused the key,
    failed or did not answer): the verified event is kept in the outbox and asked again until
    Stripe answers, then applied. It is never taken for "none of ours"; until then it shows
    on the dashboard and in the side effects list."""
    if StripeEvent.objects.filter(event_id=event["id"]).exists():
        return "duplicate: already handled"
    effect = schedule(
        SideEffectKind.MATCH_BANK_PAYOUT,
        key=f"stripe-bank-payout:{event['id']}"[:120],
        trade_in=None,
        event=event,
        first_error=error[:500],
    )
    return f"kept: {error}; asked again from the outbox (side effect {effect.pk})"


@transaction.atomic(durable=True)
def stripe_event_apply(*, event: dict[str, Any], carried_transfers: list[str] | None = None) -> str:
    """Apply one verified Stripe event, once. Returns what it did, for the log.

    For `payout.*`, `carried_transfers` are the transfer ids the bank payout carried, read from
    Stripe before this transaction (an action never waits on the network)."""
    try:
        with transaction.atomic():
            record = StripeEvent.objects.create(
                event_id=event["id"],
                type=event["type"][:80],
                account=str(event.get("account") or "")[:40],
            )
    except IntegrityError:
        return "duplicate: already handled"
    handler = WEBHOOK_HANDLERS.get(event["type"])
    try:
        if event["type"] in BANK_PAYOUT_EVENTS:
            outcome = _on_connected_payout(event, event["data"]["object"], carried_transfers)
        elif handler:
            outcome = handler(event, event["data"]["object"])
        else:
            outcome = "ignored: unknown type"
    except TransitionRefused as exc:
        outcome = f"ignored: {exc.message}"
    record.outcome = outcome
    record.save(update_fields=["outcome"])
    return outcome
