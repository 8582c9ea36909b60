"""Settling what we owe."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from workflows.actions._common import (
    Actor,
    schedule,
)
from workflows.actions._lifecycle import _lock_for_settling, _settle
from workflows.errors import InvalidInput
from workflows.models import (
    Email,
    Payout,
    PayoutMethod,
    SideEffectKind,
    StoreCredit,
)
from workflows.models.payouts import code_lookup_hash
from workflows.rules.parsers import clean_text


@transaction.atomic(durable=True)
def payout_settle_check(
    *, payout: Payout, actor: Actor, check_number: str, check_date: date
) -> Payout:
    payout = _lock_for_settling(payout, actor, PayoutMethod.CHECK)
    payout = _settle_by_check(payout, actor, check_number, check_date)
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:payout-sent:{payout.pk}",
        trade_in=payout.trade_in,
        template=Email.PAYOUT_SENT,
    )
    return payout


def _settle_by_check(payout: Payout, actor: Actor, check_number: str, check_date: date) -> Payout:
    """For a payout the caller locked and may settle (a manager here; staff at the counter):
    the check's number is required, and it and the date are the settlement reference."""
    check_number = clean_text(check_number)
    if not check_number:
        raise InvalidInput(_("Enter the check number."))
    return _settle(payout, actor, f"check {check_number} dated {check_date:%Y-%m-%d}")


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
        template=Email.STORE_CREDIT,
        store_credit_id=credit.pk,
    )
    return credit
