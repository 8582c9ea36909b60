from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from workflows.actions._common import (
    BUYER,
    Actor,
    Operation,
    authorize,
    event_row,
    lock_trade_in,
    record_event,
    run_after_commit,
    schedule,
)
from workflows.actions._orders import order_open
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    PERSON_FIELDS,
    QUESTIONS,
    ConditionDeduction,
    Email,
    Event,
    EventKind,
    Fulfilment,
    ImeiCheck,
    Order,
    PayoutMethod,
    Product,
    SideEffect,
    SideEffectKind,
    State,
    TradeIn,
)
from workflows.rules.addresses import normalize_postcode, normalize_region
from workflows.rules.basket import (
    DEVICE_FIELDS,
    basket_full_message,
    repeated_imei,
    repeated_imei_message,
)
from workflows.rules.parsers import clean_text, normalize_imei
from workflows.rules.predicates import imei_check_rerun_allowed
from workflows.rules.pricing import suggested_offer
from workflows.rules.references import device_reference


@dataclass(frozen=True, kw_only=True)
class Submission:
    product: Product
    screen: str
    body: str
    battery: str
    accessories: str
    imei: str
    buyer_name: str
    buyer_email: str
    buyer_phone: str = ""
    fulfilment: str
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postcode: str = ""
    country: str = ""  # ISO code; empty means settings.DEFAULT_COUNTRY
    payout_method: str

    def answers(self) -> dict[str, str]:
        return {q: getattr(self, q) for q in QUESTIONS}


def _validate(sub: Submission) -> str:
    if not sub.product.device_model.is_active:
        raise InvalidInput(_("We are not buying this model at the moment."))
    for question, choices in QUESTIONS.items():
        if getattr(sub, question) not in choices.values:
            raise InvalidInput(_("Please answer every condition question."))
    if sub.fulfilment not in Fulfilment.values:
        raise InvalidInput(_("Please choose shipping or drop-off."))
    if sub.payout_method not in PayoutMethod.values or sub.payout_method == PayoutMethod.CASH:
        raise InvalidInput(_("Please choose how you want to be paid."))
    if not clean_text(sub.buyer_name) or not clean_text(sub.buyer_email):
        raise InvalidInput(_("Please give your name and email."))
    if sub.fulfilment == Fulfilment.SHIP and not (
        clean_text(sub.address_line1) and clean_text(sub.city) and clean_text(sub.postcode)
    ):
        raise InvalidInput(_("We need your address to send a shipping label."))
    return normalize_imei(sub.imei)


def _address(sub: Submission) -> dict[str, str]:
    """The address as a label needs it: a known country, a USPS state code for the US and a
    postcode of the right shape. Drop-off needs no address, but what was given is kept."""
    country = (sub.country or settings.DEFAULT_COUNTRY).strip().upper()
    if country not in settings.SHIP_COUNTRIES:
        raise InvalidInput(_("We cannot send a label to that country."))
    fields = {"country": country}
    if sub.fulfilment == Fulfilment.SHIP:
        fields["postcode"] = normalize_postcode(country, sub.postcode)
        fields["region"] = normalize_region(country, sub.region)
    return fields


def trade_in_submit(*, submission: Submission, submission_key: str) -> TradeIn:
    """Create a trade-in from the buyer form: an order of one device, whose reference it
    carries. The same key twice (a double tap) gives one row."""
    order = order_submit(submissions=[submission], submission_key=submission_key)
    return order.devices.get()


def _fields(submission: Submission) -> dict:
    """A device's row as the buyer gave it: texts cleaned, the IMEI and the address normalised
    (InvalidInput for what no trade-in may hold)."""
    imei = _validate(submission)
    fields = {
        name: clean_text(getattr(submission, name))
        if isinstance(getattr(submission, name), str)
        else getattr(submission, name)
        for name in Submission.__dataclass_fields__
    }
    fields["imei"] = imei
    fields.update(_address(submission))
    return fields


def order_submit(*, submissions: Sequence[Submission], submission_key: str) -> Order:
    """A buyer's basket: one order, its devices numbered 1..N in the order given, each a
    trade-in with its own lifecycle, checked exactly as a single submission is. The buyer's
    fields (contact, address, ship or drop-off, payout method) are asked once, so they must be
    the same on every submission. Nothing is written unless every device is valid. The same
    key twice (a double tap) gives the first order."""
    if not submissions:
        raise InvalidInput(_("Please add a device."))
    if len(submissions) > settings.BASKET_MAX_DEVICES:
        raise InvalidInput(basket_full_message())
    first = submissions[0]
    if any(
        getattr(sub, name) != getattr(first, name)
        for sub in submissions[1:]
        for name in Submission.__dataclass_fields__
        if name not in DEVICE_FIELDS
    ):
        raise InvalidInput(_("Every device of one trade-in is sent by the same buyer."))
    count = len(submissions)
    rows: list[dict] = []
    for position, sub in enumerate(submissions, start=1):
        try:
            rows.append(_fields(sub))
        except InvalidInput as exc:
            if count == 1:
                raise
            raise InvalidInput(
                _("Device %(n)d: %(error)s") % {"n": position, "error": exc.message}
            ) from None
    if repeated := repeated_imei([row["imei"] for row in rows]):
        raise InvalidInput(repeated_imei_message(*repeated))
    # Checked above without writing; written here in one transaction of its own (durable: no
    # caller wraps it), so a double tap's IntegrityError needs no savepoint to answer from.
    try:
        with transaction.atomic(durable=True):
            order = order_open(submission_key=submission_key, person=person_fields(rows[0]))
            _create_devices(order, rows, actor=BUYER)
    except IntegrityError:
        # The same key was submitted before (a double tap): that order is the answer. The
        # unique key decides, so two taps racing each other also make one order.
        return Order.objects.get(submission_key=submission_key)
    return order


def person_fields(row: dict) -> dict:
    """The person's part of a row (`_fields`): the order's, stored once."""
    return {name: row[name] for name in PERSON_FIELDS}


def _create_devices(order: Order, rows: Sequence[dict], *, actor: Actor) -> list[TradeIn]:
    """The devices of a new order, numbered 1..N in the order given (`rows`: `_fields` of
    each; their person fields are the order's, given to order_open, not repeated here), each
    submitted as a single trade-in is: priced, its timeline row, its IMEI check scheduled, the
    order's one "we received it" email. Inside the caller's transaction, in a handful of bulk
    inserts however many devices (a business list has hundreds)."""
    count = len(rows)
    deductions = list(ConditionDeduction.objects.all())
    trade_ins = TradeIn.objects.bulk_create(
        [
            TradeIn(
                **{name: value for name, value in fields.items() if name not in PERSON_FIELDS},
                order=order,
                position=position,
                reference=device_reference(order.reference, position=position, count=count),
                created_at=order.created_at,
                # A basket of one keeps the form's key on its trade-in, as always.
                submission_key=order.submission_key
                if count == 1
                else f"order:{order.pk}:{position}",
                suggested_offer=suggested_offer(
                    fields["product"], {q: fields[q] for q in QUESTIONS}, deductions
                ),
            )
            for position, fields in enumerate(rows, start=1)
        ]
    )
    Event.objects.bulk_create(
        [
            event_row(trade_in, kind=EventKind.SUBMITTED, actor=actor, to_state=State.SUBMITTED)
            for trade_in in trade_ins
        ]
    )
    # A new trade-in's imei_status is already the new check's (pending): nothing to update.
    checks = ImeiCheck.objects.bulk_create(
        [ImeiCheck(trade_in=trade_in, imei=trade_in.imei) for trade_in in trade_ins]
    )
    effects = [
        SideEffect(
            key=f"imei-check:{check.pk}",
            kind=SideEffectKind.CHECK_IMEI,
            trade_in=check.trade_in,
            payload={"check_id": check.pk, "force": False},
        )
        for check in checks
    ]
    # One "we received it" for the order, listing every device.
    effects.append(
        SideEffect(
            key=f"email:received:{trade_ins[0].pk}",
            kind=SideEffectKind.SEND_EMAIL,
            trade_in=trade_ins[0],
            payload={"template": Email.RECEIVED},
        )
    )
    if settings.STAFF_NOTIFY_EMAIL:
        effects += [
            SideEffect(
                key=f"email:staff-new:{trade_in.pk}",
                kind=SideEffectKind.SEND_EMAIL,
                trade_in=trade_in,
                payload={"template": Email.STAFF_NEW_SUBMISSION},
            )
            for trade_in in trade_ins
        ]
    # New trade-ins' keys are new: no outbox row can hold them yet (schedule()'s dedup).
    for effect in SideEffect.objects.bulk_create(effects):
        run_after_commit(effect.pk)
    return trade_ins


def _schedule_imei_check(
    trade_in: TradeIn, *, force: bool = False, timeout: float | None = None
) -> ImeiCheck:
    """`force` asks the service again even when a recent result for this IMEI is cached;
    `timeout` replaces the service's usual one (the counter's: the customer waits)."""
    check = ImeiCheck.objects.create(trade_in=trade_in, imei=trade_in.imei)
    if trade_in.imei_status != check.status:  # a re-run: the queue shows "pending" again
        TradeIn.objects.filter(pk=trade_in.pk).update(imei_status=check.status)
    schedule(
        SideEffectKind.CHECK_IMEI,
        key=f"imei-check:{check.pk}",
        trade_in=trade_in,
        check_id=check.pk,
        force=force,
        **({} if timeout is None else {"timeout": timeout}),
    )
    return check


@transaction.atomic(durable=True)
def imei_check_rerun(*, trade_in: TradeIn, actor: Actor) -> ImeiCheck:
    """Staff asks for a fresh IMEI check (e.g. after the service was down)."""
    authorize(actor, Operation.RERUN_IMEI_CHECK)
    trade_in = lock_trade_in(trade_in)
    if not imei_check_rerun_allowed(trade_in):
        raise TransitionRefused(
            _("The IMEI check can only be re-run before the offer is accepted.")
        )
    check = _schedule_imei_check(trade_in, force=True)
    record_event(
        trade_in, kind=EventKind.IMEI_CHECK_REQUESTED, actor=actor, note="Re-run requested"
    )
    return check
