"""Staff correcting a trade-in after the fact: the buyer's details, a unit's grade, the
address a refused shipping label goes to."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from workflows.actions._common import (
    Actor,
    Operation,
    authorize,
    lock_trade_in,
    record_event,
    schedule,
)
from workflows.actions._orders import _lock_order, _save_person_fields
from workflows.actions.details import PAYOUT_DETAILS, clean_detail
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    Email,
    EventKind,
    Grade,
    PayoutMethod,
    SideEffectKind,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)
from workflows.models.payouts import describe_detail_changes
from workflows.rules.parsers import clean_text
from workflows.rules.payout_details import payout_details_need_a_request
from workflows.rules.predicates import wants_pickup

# What a shipping label needs to reach the buyer (shipping_label_retry corrects these).
ADDRESS_FIELDS = (
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postcode",
    "country",
    "buyer_phone",
)
# Buyer details staff may correct (a typo in the address before the label is made).
EDITABLE_DETAILS = ("buyer_name", "buyer_email", "fulfilment", *ADDRESS_FIELDS)


@transaction.atomic(durable=True)
def trade_in_update_details(*, trade_in: TradeIn, actor: Actor, changes: dict[str, str]) -> TradeIn:
    """Staff correct the buyer's contact or address; the timeline keeps old and new values.
    The details are the order's: corrected once, for every device of it.

    After the buyer accepted, who is paid, how and where (PAYOUT_DETAILS) changes only by a
    request that a manager approves (workflows.actions.details).
    """
    authorize(actor, Operation.UPDATE_DETAILS)
    unknown = set(changes) - set(EDITABLE_DETAILS)
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed here: %s") % ", ".join(sorted(unknown))
        )
    trade_in = lock_trade_in(trade_in)
    # Prevents two staff correcting two devices of one order at once from each writing over
    # the other's correction unseen (lock order: devices, then the order).
    trade_in.order = order = _lock_order(trade_in.order_id)
    cleaned = {name: clean_detail(name, value) for name, value in changes.items()}
    changed = {k: v for k, v in cleaned.items() if getattr(trade_in, k) != v}
    if not changed:
        return trade_in
    guarded = sorted(set(changed) & set(PAYOUT_DETAILS))
    if guarded and payout_details_need_a_request(trade_in):
        fields = ", ".join(f.replace("_", " ") for f in guarded)
        if trade_in.accepted_at is None:  # another device of its order was accepted
            raise TransitionRefused(
                _(
                    "A device of %(order)s was accepted: a change of %(fields)s decides who is "
                    "paid and where for every device of the order, so it is a request a "
                    "manager approves."
                )
                % {"order": trade_in.order, "fields": fields}
            )
        raise TransitionRefused(
            _(
                "%(ref)s was accepted: a change of %(fields)s decides who is paid and where, "
                "so it is a request a manager approves."
            )
            % {"ref": trade_in, "fields": fields}
        )
    before = {name: getattr(order, name) for name in changed}
    for name, value in changed.items():
        setattr(order, name, value)
    _save_person_fields(order, list(changed))
    event = record_event(
        trade_in,
        kind=EventKind.DETAILS_CHANGED,
        actor=actor,
        note=describe_detail_changes({n: {"old": before[n], "new": v} for n, v in changed.items()}),
    )
    if "buyer_email" in changed:
        # Every later email (the offer, the payout setup) goes to the new address: the buyer
        # hears of it at the one they gave us.
        schedule(
            SideEffectKind.SEND_EMAIL,
            key=f"email:email-changed:{event.pk}",
            trade_in=trade_in,
            template=Email.EMAIL_CHANGED,
            old_email=before["buyer_email"],
            new_email=changed["buyer_email"],
        )
    return trade_in


@transaction.atomic(durable=True)
def unit_regrade(*, unit: Unit, actor: Actor, grade: str, notes: str) -> Unit:
    """Change a received unit's grade after intake (a second look on the bench)."""
    authorize(actor, Operation.REGRADE)
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if unit.status != UnitStatus.GRADED:
        raise TransitionRefused(_("Only a graded unit in stock can be re-graded."))
    if grade not in Grade.values:
        raise InvalidInput(_("Choose a grade."))
    before = unit.grade
    unit.grade, unit.intake_notes = grade, clean_text(notes)
    unit.save(update_fields=["grade", "intake_notes"])
    if unit.trade_in_id and (before != grade or notes):
        record_event(
            unit.trade_in, kind=EventKind.REGRADED, actor=actor, note=f"grade {before} → {grade}"
        )
    return unit


@transaction.atomic(durable=True)
def shipping_label_retry(*, trade_in: TradeIn, actor: Actor, address: dict[str, str]) -> TradeIn:
    """The carrier refused the label (often the address): staff correct it and try again."""
    authorize(actor, Operation.RETRY_LABEL)
    trade_in = lock_trade_in(trade_in)
    trade_in.order = order = _lock_order(trade_in.order_id)  # the address is the order's
    if trade_in.state != State.ACCEPTED or wants_pickup(trade_in):
        raise TransitionRefused(_("Only an accepted trade-in that ships needs a label."))
    if trade_in.labels.filter(voided_at__isnull=True).exists():
        raise TransitionRefused(_("This trade-in already has a shipping label."))
    cleaned = {
        name: clean_text(address.get(name, getattr(trade_in, name))) for name in ADDRESS_FIELDS
    }
    if not (cleaned["address_line1"] and cleaned["city"] and cleaned["postcode"]):
        raise InvalidInput(_("A label needs the street, the city and the postcode."))
    if len(cleaned["country"]) != 2 or not cleaned["country"].isalpha():
        raise InvalidInput(_("The country is a two-letter code, like US."))
    cleaned["country"] = cleaned["country"].upper()
    changed = [name for name in ADDRESS_FIELDS if cleaned[name] != getattr(trade_in, name)]
    if trade_in.payout_method == PayoutMethod.CHECK and set(changed) & set(PAYOUT_DETAILS):
        # The check is mailed to this address: a new one is a payout details change.
        raise TransitionRefused(
            _(
                "The buyer is paid by a check mailed to this address: request a change of "
                "payout details for a manager to approve, then request the label again."
            )
        )
    for name in changed:
        setattr(order, name, cleaned[name])
    if changed:
        _save_person_fields(order, changed)
    event = record_event(
        trade_in,
        kind=EventKind.LABEL_REQUESTED_AGAIN,
        actor=actor,
        note=_("Label requested again") + (f"; corrected {', '.join(changed)}" if changed else ""),
    )
    schedule(SideEffectKind.CREATE_LABEL, key=f"label:{trade_in.pk}:{event.pk}", trade_in=trade_in)
    return trade_in
