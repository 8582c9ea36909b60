"""Store credit at the counter: redeem a code in full or in part, or void it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.actions._common import Actor, Operation, authorize, record_event
from workflows.errors import InvalidInput, TransitionRefused, UnknownCode
from workflows.formatting import money
from workflows.models import EventKind, StoreCredit, StoreCreditRedemption
from workflows.models.payouts import code_lookup_hash
from workflows.models.payouts import normalize_code as _normalize_code
from workflows.rules.parsers import clean_text


def normalize_code(raw: str) -> str:
    """A code as typed at the till, in its one spelling ("" when nothing was typed)."""
    return _normalize_code(raw) if "".join(str(raw).split()) else ""


def _amount(raw: Decimal | str | None) -> Decimal:
    if raw is None or not str(raw).strip():
        # Never "the whole balance" by default: an empty field is a slip, not a choice.
        raise InvalidInput(_("Enter the amount to redeem, like 25.00."))
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter the amount to redeem, like 25.00.")) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(_("The amount to redeem must be more than 0."))
    return value


@transaction.atomic(durable=True)
def store_credit_redeem(
    *, code: str, actor: Actor, amount: Decimal | str | None = None, note: str = ""
) -> StoreCreditRedemption:
    """Spend an amount of a code's balance (the whole balance only when that is the amount).

    The credit row is locked first: two counters redeeming the same code at once take turns,
    and the second sees the balance the first left, so it can never go below zero.
    """
    authorize(actor, Operation.REDEEM_STORE_CREDIT)
    code = normalize_code(code)
    value = _amount(amount)
    note = clean_text(note)[:200]
    # Only the keyed hash of a code is stored (a code works like cash): the typed code finds
    # its credit through it, and everything said back names the credit by its last 4.
    credit = (
        StoreCredit.objects.select_for_update(of=("self",))
        .select_related("payout__trade_in")
        .filter(code_hash=code_lookup_hash(code))
        .first()
        if code
        else None
    )
    if credit is None:
        raise UnknownCode(_("No store credit has the code %s.") % (code or "(empty)"))
    if credit.is_void:
        raise TransitionRefused(
            _("Store credit %s was voided; it cannot be redeemed.") % credit.masked_code
        )
    if credit.balance <= 0:
        raise TransitionRefused(_("Store credit %s is already spent.") % credit.masked_code)
    if value > credit.balance:
        raise InvalidInput(
            _("Store credit %(code)s has only %(balance)s left.")
            % {"code": credit.masked_code, "balance": money(credit.balance)}
        )
    credit.balance -= value
    credit.save(update_fields=["balance"])
    redemption = StoreCreditRedemption.objects.create(
        credit=credit, amount=value, balance_after=credit.balance, note=note, redeemed_by=actor
    )
    record_event(
        credit.payout.trade_in,
        kind=EventKind.STORE_CREDIT_REDEEMED,
        actor=actor,
        note=f"{money(value)} of {credit.masked_code} redeemed; {money(credit.balance)} left"
        + (f" ({note})" if note else ""),
    )
    return redemption


@transaction.atomic(durable=True)
def store_credit_void(*, credit: StoreCredit, actor: Actor, reason: str) -> StoreCredit:
    """A manager voids a code (issued in error, reported stolen): it can no longer be spent."""
    authorize(actor, Operation.VOID_STORE_CREDIT)
    reason = clean_text(reason)
    if not reason:
        raise InvalidInput(_("Say why the store credit is voided."))
    credit = (
        StoreCredit.objects.select_for_update(of=("self",))
        .select_related("payout__trade_in")
        .get(pk=credit.pk)
    )
    if credit.is_void:
        raise TransitionRefused(_("Store credit %s is already void.") % credit.masked_code)
    credit.voided_at, credit.void_reason, credit.voided_by = timezone.now(), reason, actor
    credit.save(update_fields=["voided_at", "void_reason", "voided_by"])
    record_event(
        credit.payout.trade_in,
        kind=EventKind.STORE_CREDIT_VOIDED,
        actor=actor,
        note=f"{credit.masked_code} voided with {money(credit.balance)} unspent: {reason}",
    )
    return credit
