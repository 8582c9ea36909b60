from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from workflows.actions._common import (
    BUYER,
    Actor,
    Operation,
    authorize,
    lock_trade_in,
    record_event,
    schedule,
)
from workflows.actions._orders import order_open
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    QUESTIONS,
    Email,
    EventKind,
    Fulfilment,
    ImeiCheck,
    PayoutMethod,
    Product,
    SideEffectKind,
    State,
    TradeIn,
)
from workflows.rules.addresses import normalize_postcode, normalize_region
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


@transaction.atomic(durable=True)
def trade_in_submit(*, submission: Submission, submission_key: str) -> TradeIn:
    """Create a trade-in from the buyer form. The same key twice (a double tap) gives one row."""
    imei = _validate(submission)
    fields = {
        name: clean_text(getattr(submission, name))
        if isinstance(getattr(submission, name), str)
        else getattr(submission, name)
        for name in Submission.__dataclass_fields__
    }
    fields["imei"] = imei
    fields.update(_address(submission))
    try:
        with transaction.atomic():
            order = order_open(submission_key=submission_key)
            trade_in = TradeIn.objects.create(
                **fields,
                order=order,
                position=1,
                reference=device_reference(order.reference, position=1, count=1),
                created_at=order.created_at,
                submission_key=submission_key,
                suggested_offer=suggested_offer(submission.product, submission.answers()),
            )
            record_event(trade_in, kind=EventKind.SUBMITTED, actor=BUYER, to_state=State.SUBMITTED)
            _schedule_imei_check(trade_in)
            schedule(
                SideEffectKind.SEND_EMAIL,
                key=f"email:received:{trade_in.pk}",
                trade_in=trade_in,
                template=Email.RECEIVED,
            )
            if settings.STAFF_NOTIFY_EMAIL:
                schedule(
                    SideEffectKind.SEND_EMAIL,
                    key=f"email:staff-new:{trade_in.pk}",
                    trade_in=trade_in,
                    template=Email.STAFF_NEW_SUBMISSION,
                )
    except IntegrityError:
        # The same key was submitted before (a double tap): that trade-in is the answer. The
        # unique key decides, so two taps racing each other also make one trade-in.
        return TradeIn.objects.get(submission_key=submission_key)
    return trade_in


def _schedule_imei_check(trade_in: TradeIn, *, force: bool = False) -> ImeiCheck:
    """`force` asks the service again even when a recent result for this IMEI is cached."""
    check = ImeiCheck.objects.create(trade_in=trade_in, imei=trade_in.imei)
    if trade_in.imei_status != check.status:  # a re-run: the queue shows "pending" again
        TradeIn.objects.filter(pk=trade_in.pk).update(imei_status=check.status)
    schedule(
        SideEffectKind.CHECK_IMEI,
        key=f"imei-check:{check.pk}",
        trade_in=trade_in,
        check_id=check.pk,
        force=force,
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
