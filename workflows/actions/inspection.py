"""Inspection decides: the intake bench's checklist and outcome, revised offers and the
buyer's answer, and the return cases that end a trade-in.

Over 400 lines because these actions share one set of private helpers (_send_revised_offer,
_accept, _return_device) that must run inside each other's transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from workflows.actions._common import (
    BUYER,
    SYSTEM,
    Actor,
    Operation,
    authorize,
    lock_trade_in,
    record_event,
    schedule,
)
from workflows.actions._costs import _add_refurbishment_cost, _carry_costs
from workflows.actions._lifecycle import (
    _parse_amount,
    _receive,
    _record_declaration,
    _refuse_unless,
    _required,
    _reroute,
    _scanned_imei_problem,
    _transition,
)
from workflows.actions._returns import _ship_back_label, _ship_back_open
from workflows.actions._stock import _lock_unit, _move_unit
from workflows.actions.compliance import DeclarationInput
from workflows.errors import InvalidInput, TransitionRefused
from workflows.formatting import money
from workflows.models import (
    Answer,
    Direction,
    Email,
    EventKind,
    InspectionPhoto,
    Payout,
    PayoutStatus,
    Resolution,
    ReturnCase,
    ReturnStatus,
    RevisedOffer,
    RevisedOfferStatus,
    ShippingLabel,
    SideEffectKind,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)
from workflows.rules.compliance import identity_missing
from workflows.rules.inspection import check_grade, differences, parse_checklist, sellable_blockers
from workflows.rules.parsers import clean_text
from workflows.rules.photos import check_photos
from workflows.rules.predicates import (
    agreed_revision,
    return_case_closable,
    return_case_decidable,
    revised_offer_link_refusal,
    revision_refusal,
    wants_pickup,
)

GRADE, REVISE, REROUTE = "grade", "revise", "reroute"
OUTCOMES = (GRADE, REVISE, REROUTE)


def _save_photos(trade_in: TradeIn, photos: Sequence[tuple[ContentFile, str]], actor: Actor) -> int:
    """Stores the clean copies check_photos made (re-encoded, no metadata)."""
    for photo, content_type in photos:
        InspectionPhoto.objects.create(
            trade_in=trade_in,
            image=photo,
            content_type=content_type,
            taken_by=None if isinstance(actor, str) else actor,
        )
    return len(photos)


@transaction.atomic(durable=True)
def trade_in_intake(
    *,
    trade_in: TradeIn,
    actor: Actor,
    checklist: dict[str, str],
    outcome: str,
    scanned_imei: str,
    imei_note: str = "",
    grade: str = "",
    notes: str = "",
    amount: Decimal | str | None = None,
    photos: Sequence[UploadedFile] = (),
    parts_cost: Decimal | str | None = None,
    labour_cost: Decimal | str | None = None,
) -> TradeIn:
    """The device is on the bench. Every checklist item is answered, then one outcome:
    grade it at the accepted offer, send a revised offer, or reroute it to Returns.

    `scanned_imei` is what the bench read off the device; it must be this trade-in's, or else
    (unreadable, or another device in the box) a manager receives it with `imei_note`.
    `parts_cost` and `labour_cost`, when given, are refurbishment entries on the unit (as on
    its page: unit_add_refurbishment_cost)."""
    authorize(actor, Operation.RECEIVE)
    refurbishment = [
        (value, what)
        for value, what in ((parts_cost, _("Parts")), (labour_cost, _("Labour")))
        if value not in (None, "")
    ]
    if refurbishment:
        authorize(actor, Operation.ADD_REFURBISHMENT_COST)
    if outcome == REVISE:
        authorize(actor, Operation.SEND_REVISED_OFFER)
    elif outcome == REROUTE:
        authorize(actor, Operation.REROUTE)
    found = parse_checklist(checklist)
    if outcome not in OUTCOMES:
        raise InvalidInput(_("Choose what happens to the device."))
    checked_photos = check_photos(photos)
    trade_in = lock_trade_in(trade_in)
    _refuse_unless(trade_in, "receive")
    if missing := identity_missing(trade_in, "dropoff"):
        raise TransitionRefused(missing)
    notes = clean_text(notes)
    imei_problem = _scanned_imei_problem(trade_in, scanned_imei)
    imei_note = clean_text(imei_note)
    if imei_problem:
        if not imei_note:
            raise InvalidInput(
                _(
                    "%(problem)s Scan the device's own IMEI; if it cannot be read, a manager "
                    "receives it with a note."
                )
                % {"problem": imei_problem}
            )
        authorize(actor, Operation.RECEIVE_UNMATCHED)
    if outcome == GRADE:
        check_grade(found, grade)
        if sellable_blockers(found):  # A-C were refused above; D at the full offer is too
            raise InvalidInput(
                _(
                    "A device that does not power on or is locked cannot be graded at the "
                    "offer: send a revised offer or reroute it to Returns."
                )
            )
    elif outcome == REROUTE:
        _required(notes, _("Describe the damage that was not disclosed."))

    unit = _lock_unit(trade_in.unit)
    unit.as_found = found
    unit.intake_notes = notes
    unit.save()
    if outcome == GRADE:
        unit.grade = grade
        _move_unit(unit, "grade_as_sellable", actor=actor)
    _save_photos(trade_in, checked_photos, actor)
    _receive(
        trade_in,
        unit,
        actor=actor,
        note=(f"grade {grade}" if outcome == GRADE else _("checklist recorded"))
        + (f": {notes}" if notes else ""),
    )
    for value, what in refurbishment:
        _add_refurbishment_cost(unit, actor=actor, amount=value, note=what)
    if imei_problem:
        record_event(
            trade_in,
            kind=EventKind.IMEI_NOT_MATCHED,
            actor=actor,
            note=f"{imei_problem} {imei_note}",
        )
    if outcome == REVISE:
        _send_revised_offer(trade_in, actor=actor, amount=amount, grade=grade, note=notes)
    elif outcome == REROUTE:
        _reroute(trade_in, actor, notes)
    return trade_in


def _original_amount(trade_in: TradeIn) -> Decimal:
    quote = trade_in.latest_quote()
    return quote.amount if quote else trade_in.payout.amount


def _send_revised_offer(
    trade_in: TradeIn,
    *,
    actor: Actor,
    amount: Decimal | str | None,
    grade: str,
    note: str,
    reason: str = "",
) -> RevisedOffer:
    if not can_proceed(trade_in.send_revised_offer):
        raise TransitionRefused(
            _("A revised offer needs a device we received; %(ref)s is %(state)s.")
            % {"ref": trade_in, "state": trade_in.get_state_display().lower()}
        )
    # A price the buyer already accepted is agreed: revising it again is a manager's decision,
    # with a written reason kept on the offer and the timeline.
    refusal = revision_refusal(trade_in, actor)
    if refusal:
        raise TransitionRefused(refusal)
    agreed = agreed_revision(trade_in)
    reason = clean_text(reason)
    if agreed is not None and not reason:
        raise InvalidInput(
            _("Say why the accepted revised offer of %(amount)s is revised again.")
            % {"amount": agreed.amount}
        )
    if amount in (None, ""):
        raise InvalidInput(_("Enter the revised offer."))
    value = _parse_amount(amount)
    original = _original_amount(trade_in)
    if value >= original:
        raise InvalidInput(
            _("A revised offer must be less than the original offer of %(amount)s.")
            % {"amount": original}
        )
    unit = _lock_unit(trade_in.unit)
    if unit.status not in (UnitStatus.RECEIVED, UnitStatus.GRADED, UnitStatus.RETURNS):
        raise TransitionRefused(
            _("The unit is %s: it is no longer ours to re-price.")
            % unit.get_status_display().lower()
        )
    check_grade(unit.as_found, grade)
    diffs = differences(trade_in, unit.as_found)
    if not diffs and not clean_text(note):
        # Found after grading (a battery that fails under load): the note says what differs.
        raise InvalidInput(
            _(
                "Nothing on the intake checklist differs from what the buyer disclosed: "
                "say in the note what differs, or grade it at the offer."
            )
        )
    for older in RevisedOffer.objects.select_for_update().filter(
        trade_in=trade_in, status=RevisedOfferStatus.SENT
    ):
        older.supersede()
        older.save()
    offer = RevisedOffer.objects.create(
        trade_in=trade_in,
        amount=value,
        original_amount=original,
        currency=settings.CURRENCY,
        grade=grade,
        differences=diffs,
        note=clean_text(note),
        revision_reason=reason if agreed is not None else "",
        respond_by=timezone.now() + timedelta(days=settings.REVISED_OFFER_DAYS),
        sent_by=actor,
    )
    _transition(
        trade_in,
        "send_revised_offer",
        actor=actor,
        kind=EventKind.REVISED_OFFER_SENT,
        note=f"{money(value)} (was {money(original)}): "
        + "; ".join(f"{d['label']}: {d['found']}" for d in diffs)
        + (
            f". Revises the accepted {money(agreed.amount)}, by a manager: {reason}"
            if agreed is not None
            else ""
        ),
    )
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:revised-offer:{offer.pk}",
        trade_in=trade_in,
        template=Email.REVISED_OFFER,
        revised_offer_id=offer.pk,
    )
    return offer


@transaction.atomic(durable=True)
def revised_offer_send(
    *,
    trade_in: TradeIn,
    actor: Actor,
    amount: Decimal | str | None,
    grade: str,
    note: str = "",
    reason: str = "",
    photos: Sequence[UploadedFile] = (),
) -> RevisedOffer:
    """A revised offer after intake: from the trade-in page (received), a return case
    (rerouted), or a newer revision of one the buyer has not answered. Once the buyer accepted
    a revised amount, only a manager revises it again, with `reason`."""
    authorize(actor, Operation.SEND_REVISED_OFFER)
    checked_photos = check_photos(photos)
    trade_in = lock_trade_in(trade_in)
    offer = _send_revised_offer(
        trade_in, actor=actor, amount=amount, grade=grade, note=note, reason=reason
    )
    _save_photos(trade_in, checked_photos, actor)
    return offer


def _lock_offer(offer: RevisedOffer) -> tuple[TradeIn, RevisedOffer]:
    trade_in = lock_trade_in(offer.trade_in)
    offer = RevisedOffer.objects.select_for_update().get(pk=offer.pk)
    offer.trade_in = trade_in
    if refusal := revised_offer_link_refusal(offer):  # superseded, answered, lapsed
        raise refusal
    return trade_in, offer


def _close_return_case(trade_in: TradeIn, resolution: str, note: str) -> None:
    case = (
        ReturnCase.objects.select_for_update()
        .filter(trade_in=trade_in, status=ReturnStatus.OPEN)
        .first()
    )
    if case is not None:
        case.resolve()
        case.resolution = resolution
        case.resolution_note = note
        case.save()


def _accept(trade_in: TradeIn, offer: RevisedOffer, actor: Actor, answered_by: str) -> TradeIn:
    offer.accept()
    offer.answered_by = answered_by
    offer.save()
    unit = _lock_unit(trade_in.unit)
    unit.grade = offer.grade
    if unit.status == UnitStatus.RETURNS:  # from a return case: back into stock
        _move_unit(unit, "restock", actor=actor, note=f"grade {offer.grade}")
    else:
        _move_unit(unit, "grade_as_sellable", actor=actor)
    unit.graded_at = timezone.now()
    unit.save()
    payout = Payout.objects.select_for_update().get(trade_in=trade_in)
    if payout.status == PayoutStatus.DECLINED:
        payout.reinstate()
    payout.amount = offer.amount
    payout.save()
    _carry_costs(Unit.objects.filter(trade_in=trade_in))
    _close_return_case(trade_in, Resolution.REVISED_OFFER, money(offer.amount))
    _transition(
        trade_in,
        "accept_revised_offer",
        actor=actor,
        kind=EventKind.REVISED_OFFER_ACCEPTED,
        note=f"{money(offer.amount)}, grade {offer.grade}"
        + (" (the shop's default: no answer in time)" if answered_by == Answer.DEFAULT else ""),
    )
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:revised-offer-accepted:{offer.pk}",
        trade_in=trade_in,
        template=Email.REVISED_OFFER_ACCEPTED,
        revised_offer_id=offer.pk,
    )
    return trade_in


@transaction.atomic(durable=True)
def revised_offer_accept(
    *, offer: RevisedOffer, actor: Actor = BUYER, declaration: DeclarationInput | None = None
) -> TradeIn:
    """The buyer accepts: the payout becomes the new amount, the unit is graded, the trade-in
    proceeds to payout. Where the shop's settings require it, only with the buyer's declaration
    of ownership and lawful age (stored like the one given on the first offer)."""
    authorize(actor, Operation.ANSWER_REVISED_OFFER)
    trade_in, offer = _lock_offer(offer)
    _record_declaration(trade_in, None, declaration, actor)
    return _accept(trade_in, offer, actor, Answer.BUYER)


def _return_device(trade_in: TradeIn, *, actor: Actor, note: str) -> TradeIn:
    """Send the device back: out of stock, payout declined, a return label (or pickup)."""
    unit = _lock_unit(trade_in.unit)
    _move_unit(unit, "return_to_buyer", actor=actor, note=note)
    # The device is still on the bench: it goes on the "To ship back" list until it is gone.
    _ship_back_open(trade_in, unit, reason=note)
    payout = Payout.objects.select_for_update().get(trade_in=trade_in)
    if can_proceed(payout.decline):
        payout.decline()
        payout.failure_reason = note
        payout.save()
        _carry_costs(Unit.objects.filter(trade_in=trade_in))
    _close_return_case(trade_in, Resolution.RETURNED, note)
    _transition(
        trade_in, "return_to_buyer", actor=actor, kind=EventKind.RETURNED_TO_BUYER, note=note
    )
    if wants_pickup(trade_in):
        schedule(
            SideEffectKind.SEND_EMAIL,
            key=f"email:return-pickup:{trade_in.pk}",
            trade_in=trade_in,
            template=Email.RETURN_PICKUP,
        )
    else:
        schedule(
            SideEffectKind.CREATE_RETURN_LABEL, key=f"return-label:{trade_in.pk}", trade_in=trade_in
        )
    return trade_in


@transaction.atomic(durable=True)
def revised_offer_decline(*, offer: RevisedOffer, actor: Actor = BUYER) -> TradeIn:
    """The buyer asks for the device back."""
    authorize(actor, Operation.ANSWER_REVISED_OFFER)
    trade_in, offer = _lock_offer(offer)
    offer.send_back()
    offer.answered_by = Answer.BUYER
    offer.save()
    return _return_device(trade_in, actor=actor, note=_("The buyer asked for the device back."))


@transaction.atomic(durable=True)
def revised_offer_lapse(*, offer: RevisedOffer) -> TradeIn:
    """No answer in time: the shop's configured default (REVISED_OFFER_DEFAULT)."""
    authorize(SYSTEM, Operation.APPLY_REVISED_OFFER_DEFAULT)
    trade_in = lock_trade_in(offer.trade_in)
    offer = RevisedOffer.objects.select_for_update().get(pk=offer.pk)
    offer.trade_in = trade_in
    if offer.status != RevisedOfferStatus.SENT or not offer.is_lapsed:
        raise TransitionRefused(_("This revised offer is answered or has not lapsed."))
    if settings.REVISED_OFFER_DEFAULT == "accept":
        return _accept(trade_in, offer, SYSTEM, Answer.DEFAULT)
    offer.send_back()
    offer.answered_by = Answer.DEFAULT
    offer.save()
    return _return_device(
        trade_in,
        actor=SYSTEM,
        note=_("No answer to the revised offer within %(days)s days: returned to the buyer.")
        % {"days": settings.REVISED_OFFER_DAYS},
    )


# --- return cases -------------------------------------------------------------------------------
def _lock_case(case: ReturnCase, actor: Actor) -> tuple[TradeIn, ReturnCase]:
    authorize(actor, Operation.CLOSE_RETURN)
    trade_in = lock_trade_in(case.trade_in)
    case = ReturnCase.objects.select_for_update().get(pk=case.pk)
    case.trade_in = trade_in
    if not return_case_closable(case):
        raise TransitionRefused(_("This return case is %s.") % case.get_status_display().lower())
    if not return_case_decidable(case):
        raise TransitionRefused(
            _("A revised offer is waiting for the buyer's answer; it closes this case.")
            if trade_in.state == State.REOFFERED
            else _("%(ref)s is %(state)s.")
            % {"ref": trade_in, "state": trade_in.get_state_display().lower()}
        )
    return trade_in, case


@transaction.atomic(durable=True)
def return_case_resolve(
    *, case: ReturnCase, actor: Actor, resolution: str, note: str = ""
) -> ReturnCase:
    """Returned to the buyer (label or pickup, buyer told) or recycled. A revised offer is
    not picked here: it is sent (revised_offer_send) and the buyer's answer closes the case."""
    trade_in, case = _lock_case(case, actor)
    note = clean_text(note)
    if resolution == Resolution.RETURNED:
        _return_device(trade_in, actor=actor, note=note or _("Returned to the buyer."))
    elif resolution == Resolution.RECYCLED:
        unit = _lock_unit(trade_in.unit)
        _move_unit(unit, "recycle", actor=actor, note=note)
        case.resolve()
        case.resolution, case.resolution_note = resolution, note
        case.save()
        _transition(trade_in, "recycle", actor=actor, kind=EventKind.RECYCLED, note=note)
    else:
        raise InvalidInput(
            _("Choose how the return was resolved: returned to the buyer or recycled.")
        )
    case.refresh_from_db()
    record_event(
        trade_in,
        kind=EventKind.RETURN_RESOLVED,
        actor=actor,
        note=case.get_resolution_display() + (f": {note}" if note else ""),
    )
    return case


@transaction.atomic(durable=True)
def return_case_reject(*, case: ReturnCase, actor: Actor, note: str, grade: str) -> ReturnCase:
    """The device was as disclosed after all: it goes back into stock at the grade given, the
    original payout is owed again and the trade-in proceeds to payout."""
    note = _required(clean_text(note), _("Say why the return case is rejected."))
    trade_in, case = _lock_case(case, actor)
    unit = _lock_unit(trade_in.unit)
    check_grade(unit.as_found, grade)
    unit.grade = grade
    _move_unit(unit, "restock", actor=actor, note=f"grade {grade}")
    unit.graded_at = timezone.now()
    unit.save()
    payout = Payout.objects.select_for_update().get(trade_in=trade_in)
    payout.reinstate()
    payout.save()
    _carry_costs(Unit.objects.filter(trade_in=trade_in))
    case.reject()
    case.resolution_note = note
    case.save()
    _transition(trade_in, "reinstate", actor=actor, kind=EventKind.RETURN_REJECTED, note=note)
    return case


@transaction.atomic(durable=True)
def return_label_record(
    *,
    trade_in: TradeIn,
    provider_name: str,
    is_sample: bool,
    label_id: str,
    tracking_number: str,
    carrier: str,
    pdf: bytes,
    cost: Decimal | None = None,
    cost_currency: str = "",
) -> ShippingLabel:
    """The carrier sold us the label that sends the device back: keep it (and its cost, for
    the unit's margin), tell the buyer."""
    trade_in = lock_trade_in(trade_in)
    label = ShippingLabel.objects.create(
        trade_in=trade_in,
        direction=Direction.TO_BUYER,
        provider=provider_name,
        label_id=label_id,
        tracking_number=tracking_number,
        carrier=carrier,
        pdf=pdf,
        is_sample=is_sample,
        cost=cost,
        cost_currency=cost_currency,
    )
    _carry_costs(Unit.objects.filter(trade_in=trade_in))
    _ship_back_label(trade_in, label)
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:return-label:{trade_in.pk}",
        trade_in=trade_in,
        template=Email.RETURN_LABEL,
    )
    return label
