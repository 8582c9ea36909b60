"""Settling what we owe."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

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


def _the(payout: Payout, lines: list[Payout]) -> Payout:
    """The caller's payout among the lines settled with it (fresh from the lock)."""
    return next(line for line in lines if line.pk == payout.pk)


def _email_payout_sent(lines: list[Payout]) -> None:
    """One "payment sent" email per settlement, however many devices it paid."""
    lead = lines[0]
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:payout-sent:{lead.pk}",
        trade_in=lead.trade_in,
        template=Email.PAYOUT_SENT,
    )


@transaction.atomic(durable=True)
def payout_settle_check(
    *, payout: Payout, actor: Actor, check_number: str, check_date: date
) -> Payout:
    """A manager records the check that pays this payout: with its order's other owed
    devices, one check for the sum."""
    lines = _lock_for_settling(payout, actor, PayoutMethod.CHECK)
    _settle_by_check(lines, actor, check_number, check_date)
    _email_payout_sent(lines)
    return _the(payout, lines)


def _settle_by_check(
    lines: list[Payout], actor: Actor, check_number: str, check_date: date
) -> list[Payout]:
    """For lines the caller locked and may settle (a manager here; staff at the counter):
    the check's number is required, and it and the date are the settlement reference."""
    check_number = clean_text(check_number)
    if not check_number:
        raise InvalidInput(_("Enter the check number."))
    return _settle(lines, actor, f"check {check_number} dated {check_date:%Y-%m-%d}")


@transaction.atomic(durable=True)
def payout_issue_store_credit(*, payout: Payout, actor: Actor) -> StoreCredit:
    """One store credit for this payout and its order's other owed devices."""
    lines = _lock_for_settling(payout, actor, PayoutMethod.STORE_CREDIT)
    return _issue_store_credit(lines, actor)


def _issue_store_credit(lines: list[Payout], actor: Actor) -> StoreCredit:
    """For lines the caller locked and may settle (a manager here; staff at the counter): one
    credit for their sum, kept with the first line (its payout)."""
    lead = lines[0]
    while True:
        secret, code = StoreCredit.new_secret()
        code_hash = code_lookup_hash(code)
        if not StoreCredit.objects.filter(code_hash=code_hash).exists():
            break
    # The code itself is stored nowhere: not here, not in the settlement reference, not on
    # the timeline, not in the outbox. The email task derives it again from the secret.
    total = sum((line.amount for line in lines), Decimal("0"))
    credit = StoreCredit.objects.create(
        code_hash=code_hash,
        code_last4=code[-4:],
        secret=secret,
        payout=lead,
        amount=total,
        balance=total,
        currency=lead.currency,
        email=lead.trade_in.buyer_email,
    )
    _settle(lines, actor, f"store credit {credit.masked_code}")
    if not lead.trade_in.buyer_email:  # a walk-in who gave no email: the code is on paper
        return credit
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:store-credit:{lead.pk}",
        trade_in=lead.trade_in,
        template=Email.STORE_CREDIT,
        store_credit_id=credit.pk,
    )
    return credit
