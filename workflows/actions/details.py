"""Payout details under two keys: after the buyer accepted, changing who is paid, how or
where (name, email, payout method, mailing address) is a request that a manager other than
the requester approves. The timeline keeps old and new values, and the buyer is told at the
address they had before, so a redirected payout cannot go unnoticed.

The details belong to the person and are stored once, on the order: in an order of several
devices one request (on the device staff opened) changes them for all; every device they still
matter for (workflows.rules.payout_details.details_change_reaches) gets its pending payout's
method and a timeline row, one email tells the buyer, and one request waits per order at a time.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.actions._common import (
    Actor,
    Operation,
    authorize,
    lock_order_devices,
    record_event,
    schedule,
)
from workflows.actions._orders import _save_person_fields
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    ChangeStatus,
    Email,
    EventKind,
    Order,
    Payout,
    PayoutDetailChange,
    PayoutMethod,
    SideEffectKind,
    TradeIn,
)
from workflows.models.payouts import describe_detail_changes
from workflows.rules.parsers import clean_text
from workflows.rules.payout_details import (
    PAYOUT_DETAILS,
    details_change_approval_refusal,
    details_change_reach,
    details_change_request_refusal,
)

REQUIRED = {"buyer_name", "buyer_email", "payout_method", "country"}


def clean_detail(name: str, value: Any) -> str:
    """One buyer detail as it will be stored; InvalidInput with a clear message if it cannot."""
    text = str(value if value is not None else "")
    label = name.replace("_", " ")
    if "\x00" in text:
        raise InvalidInput(_("The %s contains a character we cannot store.") % label)
    text = clean_text(text)  # no bidi overrides or zero-width characters in names and addresses
    field = Order._meta.get_field(name)
    if field.max_length and len(text) > field.max_length:
        raise InvalidInput(
            _("The %(field)s is at most %(n)d characters.")
            % {"field": label, "n": field.max_length}
        )
    if name in REQUIRED and not text:
        raise InvalidInput(_("The %s cannot be empty.") % label)
    if name == "buyer_email":
        try:
            validate_email(text)
        except ValidationError:
            raise InvalidInput(_("Enter a valid email address.")) from None
    if name == "payout_method" and text not in PayoutMethod.values:
        raise InvalidInput(_("Choose a payout method."))
    if name == "fulfilment" and text not in ("ship", "pickup"):
        raise InvalidInput(_("Choose shipping or drop-off."))
    if name == "country":
        if len(text) != 2 or not text.isalpha():
            raise InvalidInput(_("The country is a two-letter code, like US."))
        text = text.upper()
    return text


@transaction.atomic(durable=True)
def payout_details_change_request(
    *, trade_in: TradeIn, actor: Actor, changes: dict[str, str], reason: str
) -> PayoutDetailChange:
    """Staff ask to change an accepted trade-in's payout details; nothing changes yet."""
    authorize(actor, Operation.REQUEST_DETAILS_CHANGE)
    unknown = set(changes) - set(PAYOUT_DETAILS)
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed here: %s") % ", ".join(sorted(unknown))
        )
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the payout details must change (who asked, how)."))
    trade_in, devices = lock_order_devices(trade_in)
    payouts = {p.trade_in_id: p for p in Payout.objects.filter(trade_in__in=devices)}
    refusal = details_change_request_refusal(trade_in, payouts.get(trade_in.pk))
    if refusal:
        raise TransitionRefused(refusal)
    # One request per order: a second one, on another device, would race the first for the
    # same person's details. The devices are locked, so two staff asking at once queue here.
    waiting = (
        PayoutDetailChange.objects.filter(
            trade_in__order_id=trade_in.order_id, status=ChangeStatus.PENDING
        )
        .exclude(trade_in=trade_in)
        .select_related("trade_in")
        .first()
    )
    if waiting is not None:
        raise TransitionRefused(
            _(
                "A change of the payout details asked on %(other)s is already waiting for a "
                "manager, and it applies to %(this)s too: decide that one first."
            )
            % {"other": waiting.trade_in, "this": trade_in}
        )
    cleaned = {name: clean_detail(name, value) for name, value in changes.items()}
    diff = {
        name: {"old": getattr(trade_in, name), "new": value}
        for name, value in cleaned.items()
        if getattr(trade_in, name) != value
    }
    if not diff:
        raise InvalidInput(_("Nothing would change."))
    try:
        with transaction.atomic():
            change = PayoutDetailChange.objects.create(
                trade_in=trade_in, changes=diff, reason=reason, requested_by=actor
            )
    except IntegrityError:
        raise TransitionRefused(
            _("A change of %s's payout details is already waiting for a manager.") % trade_in
        ) from None
    reach = details_change_reach(trade_in, devices, payouts)
    record_event(
        trade_in,
        kind=EventKind.PAYOUT_DETAILS_CHANGE_REQUESTED,
        actor=actor,
        note=f"{describe_detail_changes(diff)}. {reason}"
        + (f" ({_applies_to(reach)})" if len(devices) > 1 else ""),
    )
    return change


def _applies_to(devices: list[TradeIn]) -> str:
    return _("Applies to %s") % ", ".join(str(device) for device in devices)


def _lock_pending(
    change: PayoutDetailChange,
) -> tuple[PayoutDetailChange, TradeIn, list[TradeIn]]:
    # Lock order everywhere: the order's devices first, then the change, then payouts.
    trade_in, devices = lock_order_devices(change.trade_in)
    change = PayoutDetailChange.objects.select_for_update().get(pk=change.pk)
    if change.status != ChangeStatus.PENDING:
        raise TransitionRefused(
            _("This change was already %s.") % change.get_status_display().lower()
        )
    return change, trade_in, devices


@transaction.atomic(durable=True)
def payout_details_change_approve(
    *, change: PayoutDetailChange, actor: Actor, note: str = ""
) -> PayoutDetailChange:
    """A manager who did not ask for it applies the change; the buyer hears of it at the
    email address they had before."""
    authorize(actor, Operation.DECIDE_DETAILS_CHANGE)
    change, trade_in, devices = _lock_pending(change)
    payouts = {
        p.trade_in_id: p
        for p in Payout.objects.select_for_update().filter(trade_in__in=devices).order_by("pk")
    }
    payout = payouts.get(trade_in.pk)
    others = [d for d in details_change_reach(trade_in, devices, payouts) if d.pk != trade_in.pk]
    refusal = details_change_approval_refusal(
        change, trade_in, payout, actor, others=[(d, payouts.get(d.pk)) for d in others]
    )
    if refusal:
        raise TransitionRefused(refusal)
    # Once, on the order: every device of it reads the new values.
    order = trade_in.order
    for name, value in change.changes.items():
        setattr(order, name, value["new"])
    _save_person_fields(order, list(change.changes))
    if payout is not None:
        _apply_to_payout(payout, change)
    change.status = ChangeStatus.APPROVED
    change.decided_by, change.decided_at = actor, timezone.now()
    change.decision_note = note.strip()
    change.save()
    record_event(
        trade_in,
        kind=EventKind.PAYOUT_DETAILS_CHANGED,
        actor=actor,
        note=describe_detail_changes(change.changes)
        + f" (asked by {change.requested_by.get_username()})"
        + (f". {change.decision_note}" if change.decision_note else ""),
    )
    for device in others:
        _apply_to_device(device, payouts.get(device.pk), change, actor, asked_on=trade_in)
    # One email for the order, listing its devices the change applies to.
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:details-changed:{change.pk}",
        trade_in=trade_in,
        template=Email.PAYOUT_DETAILS_CHANGED,
        change_id=change.pk,
        **({"device_ids": [trade_in.pk, *(d.pk for d in others)]} if others else {}),
    )
    return change


def _apply_to_device(
    device: TradeIn,
    payout: Payout | None,
    change: PayoutDetailChange,
    actor: Actor,
    *,
    asked_on: TradeIn,
) -> None:
    """Another device of the order the change reaches: it reads the order's new values
    already; its payout follows them, and its timeline says so."""
    if payout is not None:
        _apply_to_payout(payout, change)
    record_event(
        device,
        kind=EventKind.PAYOUT_DETAILS_CHANGED,
        actor=actor,
        note=describe_detail_changes(change.changes)
        + f" (asked on {asked_on} by {change.requested_by.get_username()})"
        + (f". {change.decision_note}" if change.decision_note else ""),
    )


def _apply_to_payout(payout: Payout, change: PayoutDetailChange) -> None:
    fields = []
    if "payout_method" in change.changes:
        payout.method = change.changes["payout_method"]["new"]
        fields.append("method")
    if "buyer_email" in change.changes and payout.payee_account_id:
        # The Stripe account was proven through the old address: the new one proves itself.
        payout.payee_account = None
        fields.append("payee_account")
    if fields:
        payout.save(update_fields=fields)


@transaction.atomic(durable=True)
def payout_details_change_reject(
    *, change: PayoutDetailChange, actor: Actor, note: str
) -> PayoutDetailChange:
    authorize(actor, Operation.DECIDE_DETAILS_CHANGE)
    note = note.strip()
    if not note:
        raise InvalidInput(_("Say why the change is rejected."))
    change, trade_in, _devices = _lock_pending(change)
    change.status = ChangeStatus.REJECTED
    change.decided_by, change.decided_at = actor, timezone.now()
    change.decision_note = note
    change.save()
    record_event(
        trade_in,
        kind=EventKind.PAYOUT_DETAILS_CHANGE_REJECTED,
        actor=actor,
        note=f"{describe_detail_changes(change.changes)}: {note}",
    )
    return change
