"""Settling what we owe."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from workflows.actions._common import (
    Actor,
    Operation,
    authorize,
    lock_trade_in,
    record_event,
    schedule,
)
from workflows.actions.tradeins import _trade_in_close
from workflows.errors import InvalidInput, TransitionRefused
from workflows.formatting import money
from workflows.models import (
    EventKind,
    Payout,
    PayoutMethod,
    SideEffectKind,
    StoreCredit,
)
from workflows.models.payouts import code_lookup_hash
from workflows.rules.compliance import identity_missing
from workflows.rules.parsers import clean_text
from workflows.rules.predicates import payout_settleable


def _lock_for_settling(payout: Payout, actor: Actor, method: str) -> Payout:
    authorize(actor, Operation.SETTLE_PAYOUT)
    # Lock order everywhere: trade-in first, then its payout. Two managers settling the same
    # payout at once: the second waits here and then sees it settled.
    lock_trade_in(payout.trade_in)
    payout = Payout.objects.select_for_update().select_related("trade_in").get(pk=payout.pk)
    if payout.method != method:
        raise InvalidInput(_("This payout is paid by %s.") % payout.get_method_display())
    if not can_proceed(payout.settle, check_conditions=False):
        raise TransitionRefused(_("This payout is %s.") % payout.get_status_display().lower())
    if not payout_settleable(payout):
        raise TransitionRefused(_("A payout can be settled only after the device was received."))
    if missing := identity_missing(payout.trade_in, "payout"):
        raise TransitionRefused(missing)
    return payout


def _settle(payout: Payout, actor: Actor, reference: str) -> Payout:
    payout.settle()
    payout.settlement_reference = reference
    payout.settled_by = None if isinstance(actor, str) else actor
    payout.save()
    record_event(
        payout.trade_in,
        kind=EventKind.PAYOUT_SETTLED,
        actor=actor,
        note=f"{money(payout.amount)} by {payout.get_method_display()}: {reference}",
    )
    _trade_in_close(trade_in=payout.trade_in, actor=actor)
    return payout


@transaction.atomic(durable=True)
def payout_settle_check(
    *, payout: Payout, actor: Actor, check_number: str, check_date: date
) -> Payout:
    payout = _lock_for_settling(payout, actor, PayoutMethod.CHECK)
    check_number = clean_text(check_number)
    if not check_number:
        raise InvalidInput(_("Enter the check number."))
    payout = _settle(payout, actor, f"check {check_number} dated {check_date:%Y-%m-%d}")
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:payout-sent:{payout.pk}",
        trade_in=payout.trade_in,
        template="payout_sent",
    )
    return payout


@transaction.atomic(durable=True)
def payout_issue_store_credit(*, payout: Payout, actor: Actor) -> StoreCredit:
    payout = _lock_for_settling(payout, actor, PayoutMethod.STORE_CREDIT)
    return _issue_store_credit(payout, actor)


def _issue_store_credit(payout: Payout, actor: Actor) -> StoreCredit:
    """For a payout the caller locked and may settle (a manager here; staff at the counter)."""
    while True:
        secret, code = StoreCredit.new_secret()
        code_hash = code_lookup_hash(code)
        if not StoreCredit.objects.filter(code_hash=code_hash).exists():
            break
    # The code itself is stored nowhere: not here, not in the settlement reference, not on
    # the timeline, not in the outbox. The email task derives it again from the secret.
    credit = StoreCredit.objects.create(
        code_hash=code_hash,
        code_last4=code[-4:],
        secret=secret,
        payout=payout,
        amount=payout.amount,
        balance=payout.amount,
        currency=payout.currency,
        email=payout.trade_in.buyer_email,
    )
    _settle(payout, actor, f"store credit {credit.masked_code}")
    if not payout.trade_in.buyer_email:  # a walk-in who gave no email: the code is on paper
        return credit
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:store-credit:{payout.pk}",
        trade_in=payout.trade_in,
        template="store_credit",
        store_credit_id=credit.pk,
    )
    return credit
