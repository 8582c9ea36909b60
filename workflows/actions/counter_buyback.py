"""The counter: buy a phone from a customer standing at the desk, in one sitting.

The same trade-in lifecycle as a mailed device, run by staff: start (a trade-in at the
counter, its IMEI check), inspect, quote, the customer's answer (accept and receive in one
transaction, with the declaration and a drawn signature), and the payout on the spot. The
transitions and their helpers are the trade-in's own (workflows.actions.tradeins); the counter
adds only what the sitting needs: no emails to somebody standing at the desk, and the cash
drawer. (Over 400 lines: the sitting's steps share their helpers and read best in order.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
from workflows.actions._identity import IdentityInput, _record_identity
from workflows.actions._lifecycle import (
    _accept_quote,
    _quote,
    _receive,
    _record_declaration,
    _refuse_unless,
    _refuse_unless_settleable,
    _transition,
)
from workflows.actions._orders import _save_person_fields, order_open
from workflows.actions._stock import _lock_unit, _move_unit
from workflows.actions.compliance import DeclarationInput
from workflows.actions.payouts import _issue_store_credit, _settle, _settle_by_check
from workflows.actions.stripe import _email_stripe_setup
from workflows.actions.submission import _schedule_imei_check
from workflows.errors import InvalidInput, TransitionRefused
from workflows.formatting import money
from workflows.models import (
    QUESTIONS,
    CashDrawer,
    CashMovement,
    CounterBuyback,
    CounterSignature,
    Email,
    EventKind,
    Fulfilment,
    ImeiCheck,
    Payout,
    PayoutMethod,
    PayoutStatus,
    Product,
    Quote,
    SideEffectKind,
    State,
    StoreCredit,
    TradeIn,
)
from workflows.rules import counter as rules
from workflows.rules.compliance import identity_missing, identity_of, identity_required_before
from workflows.rules.inspection import check_grade, parse_checklist
from workflows.rules.parsers import clean_text, normalize_imei
from workflows.rules.predicates import quote_link_refusal
from workflows.rules.pricing import suggested_offer
from workflows.rules.references import device_reference

# A counter quote is answered in the sitting; a day is plenty and keeps old ones from lingering.
COUNTER_QUOTE_DAYS = 1


@dataclass(frozen=True, kw_only=True)
class Customer:
    name: str
    email: str = ""
    phone: str = ""


def _clean_customer(customer: Customer) -> Customer:
    name = clean_text(customer.name)
    if not name:
        raise InvalidInput(_("Enter the customer's name."))
    email = clean_text(customer.email).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(_("The email address does not look right.")) from None
    phone = clean_text(customer.phone)
    if len(name) > 120 or len(email) > 254 or len(phone) > 30:
        raise InvalidInput(_("The name, email or phone is too long."))
    return Customer(name=name, email=email, phone=phone)


def _lock(buyback: CounterBuyback) -> tuple[CounterBuyback, TradeIn]:
    """Lock order everywhere: trade-in first, then its counter row."""
    trade_in = lock_trade_in(buyback.trade_in)
    locked = CounterBuyback.objects.select_for_update().get(pk=buyback.pk)
    locked.trade_in = trade_in
    return locked, trade_in


def _refuse_unless_step(buyback: CounterBuyback, *steps: str) -> str:
    step = rules.counter_step(buyback)
    if step not in steps:
        raise TransitionRefused(
            _("%(ref)s is not at this step any more (it is: %(step)s).")
            % {"ref": buyback.trade_in, "step": step}
        )
    return step


# --- start: the customer, the device, the IMEI --------------------------------------------------
@transaction.atomic(durable=True)
def counter_buyback_start(
    *, actor: Actor, customer: Customer, product: Product, imei: str, key: str = ""
) -> CounterBuyback:
    """A trade-in started at the counter, and its IMEI check scheduled (the page then asks the
    service at once: workflows.tasks.counter.check_imei_now). `key` is the start form's one-time
    key: the same form posted twice starts one buyback."""
    authorize(actor, Operation.BUY_AT_COUNTER)
    customer = _clean_customer(customer)
    imei = normalize_imei(imei)
    if not product.device_model.is_active:
        raise InvalidInput(_("We are not buying this model at the moment."))
    submission_key = f"counter:{clean_text(key)[:50] or uuid.uuid4().hex}"
    try:
        with transaction.atomic():
            order = order_open(
                submission_key=submission_key,
                person={
                    "buyer_name": customer.name,
                    "buyer_email": customer.email,
                    "buyer_phone": customer.phone,
                    "fulfilment": Fulfilment.PICKUP,
                    "country": settings.DEFAULT_COUNTRY,
                    "payout_method": PayoutMethod.CASH,
                },
            )
            trade_in = TradeIn.objects.create(
                order=order,
                position=1,
                reference=device_reference(order.reference, position=1, count=1),
                created_at=order.created_at,
                product=product,
                imei=imei,
                # The condition is what the inspection finds (counter_buyback_inspect); until
                # then the trade-in holds the questionnaire's best answers and no price.
                **{question: choices.values[0] for question, choices in QUESTIONS.items()},
                submission_key=submission_key,
                suggested_offer=None,
            )
    except IntegrityError:
        return CounterBuyback.objects.get(trade_in__submission_key=submission_key)
    record_event(
        trade_in,
        kind=EventKind.SUBMITTED,
        actor=actor,
        to_state=State.SUBMITTED,
        note=_("Started at the counter"),
    )
    buyback = CounterBuyback.objects.create(trade_in=trade_in, started_by=actor)
    _schedule_counter_check(trade_in)
    return buyback


def _schedule_counter_check(trade_in: TradeIn) -> ImeiCheck:
    """The same check a submission gets, with the counter's short timeout: the customer waits."""
    return _schedule_imei_check(trade_in, timeout=settings.COUNTER_IMEI_TIMEOUT)


@transaction.atomic(durable=True)
def counter_buyback_check_again(*, buyback: CounterBuyback, actor: Actor) -> ImeiCheck:
    """The service did not answer in time (or could not decide): ask it again."""
    authorize(actor, Operation.BUY_AT_COUNTER)
    buyback, trade_in = _lock(buyback)
    _refuse_unless_step(buyback, rules.Step.CHECKING, rules.Step.STOPPED)
    check = _schedule_counter_check(trade_in)
    record_event(trade_in, kind=EventKind.IMEI_CHECK_REQUESTED, actor=actor, note=_("Asked again"))
    return check


@transaction.atomic(durable=True)
def counter_buyback_override(*, buyback: CounterBuyback, actor: Actor, reason: str) -> None:
    """A manager goes on despite the red flag, with a written reason; the quote applies it
    (and its timeline row says so), exactly as a red-flag override in the queue."""
    authorize(actor, Operation.OVERRIDE_RED_FLAG)
    buyback, trade_in = _lock(buyback)
    _refuse_unless_step(buyback, rules.Step.STOPPED)
    reason = clean_text(reason)
    if not reason:
        raise InvalidInput(_("Write why the device may be bought despite the red flag."))
    buyback.override_reason = reason
    buyback.save(update_fields=["override_reason"])
    record_event(
        trade_in,
        kind=EventKind.NOTE_ADDED,
        actor=actor,
        note=_("Red flag: a manager lets the counter go on (%s)") % reason,
    )


# --- inspection and the offer -------------------------------------------------------------------
@transaction.atomic(durable=True)
def counter_buyback_inspect(
    *, buyback: CounterBuyback, actor: Actor, checklist: dict[str, str], grade: str, notes: str = ""
) -> TradeIn:
    """The intake checklist, answered with the customer watching. What it finds is the
    device's condition: the price list's suggestion is computed from it. A blocked device
    (activation lock, does not power on) can only be graded D (the one grading rule)."""
    authorize(actor, Operation.BUY_AT_COUNTER)
    authorize(actor, Operation.RECEIVE)  # its grade becomes the unit's on acceptance
    found = parse_checklist(checklist)
    check_grade(found, grade)
    buyback, trade_in = _lock(buyback)
    _refuse_unless_step(buyback, rules.Step.INSPECT, rules.Step.OFFER)
    answers = {question: found[question] for question in QUESTIONS}
    for question, answer in answers.items():
        setattr(trade_in, question, answer)
    trade_in.suggested_offer = suggested_offer(trade_in.product, answers)
    trade_in.save()
    buyback.as_found, buyback.grade = found, grade
    buyback.inspection_notes = clean_text(notes)
    buyback.inspected_at = timezone.now()
    buyback.save()
    record_event(
        trade_in,
        kind=EventKind.COUNTER_INSPECTED,
        actor=actor,
        note=f"grade {grade}; suggested "
        + (money(trade_in.suggested_offer) if trade_in.suggested_offer else _("none (no price)"))
        + (f": {buyback.inspection_notes}" if buyback.inspection_notes else ""),
    )
    return trade_in


@transaction.atomic(durable=True)
def counter_buyback_offer(
    *,
    buyback: CounterBuyback,
    actor: Actor,
    amount: Decimal | str,
    payout_method: str,
    confirmed_amount: Decimal | str | None = None,
    identity: IdentityInput | None = None,
) -> Quote:
    """The offer, through the quote itself (red flags, offer limits and the manager cap are
    its rules), without an email: the customer sees it on the counter's customer page. The
    seller's ID is taken here when the shop's rules ask for it before receiving or paying."""
    authorize(actor, Operation.BUY_AT_COUNTER)
    authorize(actor, Operation.QUOTE)
    if payout_method not in PayoutMethod.values:
        raise InvalidInput(_("Choose how the customer is paid."))
    buyback, trade_in = _lock(buyback)
    _refuse_unless_step(buyback, rules.Step.OFFER, rules.Step.CUSTOMER)
    if payout_method in (PayoutMethod.STRIPE,) and not trade_in.buyer_email:
        raise InvalidInput(_("A Stripe payout link goes by email: enter the customer's email."))
    needs_id = identity_required_before("dropoff") or identity_required_before("payout")
    if needs_id and identity_of(trade_in) is None:
        if identity is None:
            raise InvalidInput(_("The shop's rules ask for the seller's photo ID: enter it."))
        authorize(actor, Operation.RECORD_IDENTITY)
        _record_identity(trade_in, actor, identity, by_buyer=False)
    if trade_in.payout_method != payout_method:
        # The payout method is the order's (a counter order has this one device).
        trade_in.order.payout_method = payout_method
        _save_person_fields(trade_in.order, ["payout_method"])
    return _quote(
        trade_in=trade_in,
        actor=actor,
        amount=amount,
        valid_days=COUNTER_QUOTE_DAYS,
        note=_("at the counter"),
        override_reason=buyback.override_reason,
        confirmed_amount=confirmed_amount,
        notify=False,
    )


# --- the customer's answer ----------------------------------------------------------------------
@transaction.atomic(durable=True)
def counter_buyback_accept(
    *,
    buyback: CounterBuyback,
    actor: Actor,
    declaration: DeclarationInput,
    signature_png: bytes,
) -> TradeIn:
    """The customer signs: in ONE transaction the offer is accepted (stock +1, a unit with the
    IMEI, a pending payout), the declaration and its signature are stored, and the device is
    received and graded as the inspection found it. The hold and the police report then
    apply as for a mailed device (they count from the receipt)."""
    authorize(actor, Operation.ANSWER_AT_COUNTER)
    png, width, height = rules.clean_signature(signature_png)
    if not declaration.confirmed:
        raise InvalidInput(_("Please confirm the declaration to accept the offer."))
    buyback, trade_in = _lock(buyback)
    if rules.counter_step(buyback) in (rules.Step.PAY, rules.Step.WAITING, rules.Step.DONE):
        return trade_in  # signed already (a double tap): one acceptance
    _refuse_unless_step(buyback, rules.Step.CUSTOMER)
    quote = Quote.objects.get(pk=trade_in.latest_quote().pk)
    quote.trade_in = trade_in
    if refusal := quote_link_refusal(quote):  # superseded or lapsed
        raise refusal
    _refuse_unless(trade_in, "accept")
    if missing := identity_missing(trade_in, "dropoff"):
        raise TransitionRefused(missing)
    # Confirmed (checked above), so stored even where the shop does not require one: the
    # signature below belongs to it.
    row = _record_declaration(trade_in, quote, declaration, actor)
    CounterSignature.objects.create(declaration=row, png=png, width=width, height=height)

    # Accept, as the offer link does; then receive, as the intake bench does, with what the
    # inspection found.
    unit = _accept_quote(
        trade_in, quote, actor=actor, note=f"{money(quote.amount)}, at the counter"
    )
    unit = _lock_unit(unit)
    unit.as_found = buyback.as_found
    unit.intake_notes = buyback.inspection_notes
    unit.grade = buyback.grade
    _move_unit(unit, "grade_as_sellable", actor=actor)
    _receive(trade_in, unit, actor=actor, note=f"grade {buyback.grade}, at the counter")
    if trade_in.buyer_email:
        schedule(
            SideEffectKind.SEND_EMAIL,
            key=f"email:receipt:{trade_in.pk}:{quote.pk}",
            trade_in=trade_in,
            template=Email.PURCHASE_RECEIPT,
        )
    return trade_in


@transaction.atomic(durable=True)
def counter_buyback_decline(*, buyback: CounterBuyback, actor: Actor, reason: str = "") -> TradeIn:
    """The customer says no: the trade-in's decline, without the email. No stock changes."""
    authorize(actor, Operation.ANSWER_AT_COUNTER)
    buyback, trade_in = _lock(buyback)
    if trade_in.state == State.DECLINED:
        return trade_in
    _refuse_unless_step(buyback, rules.Step.CUSTOMER)
    quote = trade_in.latest_quote()
    Quote.objects.filter(pk=quote.pk).update(responded_at=timezone.now())
    trade_in.decline_reason = clean_text(reason) or _("The customer declined the offer")
    _transition(trade_in, "decline", actor=actor, note=f"{trade_in.decline_reason}, at the counter")
    return trade_in


@transaction.atomic(durable=True)
def counter_buyback_abandon(*, buyback: CounterBuyback, actor: Actor, reason: str = "") -> TradeIn:
    """The customer walked away before signing: nothing was stocked or owed; the trade-in ends
    declined, and the timeline says it was abandoned. Running it twice changes nothing."""
    authorize(actor, Operation.ABANDON_AT_COUNTER)
    buyback, trade_in = _lock(buyback)
    if buyback.abandoned_at:
        return trade_in
    step = rules.counter_step(buyback)
    if step not in rules.ABANDONABLE:
        raise TransitionRefused(
            _("%(ref)s cannot be abandoned: it is %(step)s.") % {"ref": trade_in, "step": step}
        )
    reason = clean_text(reason) or (
        _("Nobody finished it in time") if actor == SYSTEM else _("The customer left")
    )
    trade_in.decline_reason = _("Abandoned at the counter: %s") % reason
    _transition(trade_in, "decline", actor=actor, kind=EventKind.COUNTER_ABANDONED, note=reason)
    buyback.abandoned_at = timezone.now()
    buyback.save(update_fields=["abandoned_at"])
    return trade_in


# --- paid on the spot ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Paid:
    payout: Payout
    # Store credit: the whole code, for the printed receipt (shown this once, stored nowhere).
    store_credit: StoreCredit | None = None
    drawer: CashDrawer | None = None


@transaction.atomic(durable=True)
def counter_buyback_pay(
    *,
    buyback: CounterBuyback,
    actor: Actor,
    check_number: str = "",
    check_date: date | None = None,
) -> Paid:
    """Pay the customer by the method on the offer: cash out of today's drawer (above
    COUNTER_CASH_LIMIT only a manager), a check, store credit (code on the receipt, emailed
    when an email was given), or a Stripe payout link by email. Paying twice pays once."""
    authorize(actor, Operation.BUY_AT_COUNTER)
    buyback, trade_in = _lock(buyback)
    payout = Payout.objects.select_for_update().get(trade_in=trade_in)
    if payout.status == PayoutStatus.SETTLED or (
        payout.method == PayoutMethod.STRIPE and payout.transfer_requested_at
    ):
        return Paid(payout=payout)
    _refuse_unless_step(buyback, rules.Step.PAY)
    payout.trade_in = trade_in
    _refuse_unless_settleable(payout)
    if payout.method == PayoutMethod.CASH:
        if rules.cash_needs_manager(payout.amount):
            authorize(actor, Operation.PAY_CASH_OVER_LIMIT)
        drawer = (
            CashDrawer.objects.select_for_update()
            .filter(day=timezone.localdate(), closed_at__isnull=True)
            .first()
        )
        if drawer is None:
            raise TransitionRefused(_("Open today's cash drawer before paying cash."))
        CashMovement.objects.create(
            drawer=drawer, payout=payout, amount=payout.amount, paid_by=actor
        )
        _settle([payout], actor, f"cash from the drawer of {drawer.day:%Y-%m-%d}")
        return Paid(payout=payout, drawer=drawer)
    if payout.method == PayoutMethod.CHECK:
        _settle_by_check([payout], actor, check_number, check_date or timezone.localdate())
        return Paid(payout=payout)
    if payout.method == PayoutMethod.STORE_CREDIT:
        return Paid(payout=payout, store_credit=_issue_store_credit([payout], actor))
    # Stripe: the customer sets up their payout from the link we email them (the money goes
    # only where they proved they read the mail); the transfer follows by itself.
    payout.transfer_requested_at = timezone.now()
    payout.save(update_fields=["transfer_requested_at"])
    _email_stripe_setup(payout, actor=actor, note=_("Stripe payout link emailed from the counter"))
    return Paid(payout=payout)


# --- the day's cash drawer ----------------------------------------------------------------------
def _amount(value: Decimal | str, what: str, *, allow_zero: bool = True) -> Decimal:
    try:
        amount = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter the %s as an amount, like 200.00.") % what) from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(_("The %s cannot be negative.") % what)
    if amount > Decimal("1000000"):
        raise InvalidInput(_("The %s is too large.") % what)
    return amount


@transaction.atomic(durable=True)
def cash_drawer_open(*, actor: Actor, opening_float: Decimal | str) -> CashDrawer:
    """Open today's drawer with its float. Opening it again with the same float is the same
    drawer (a double tap); a closed drawer stays closed."""
    authorize(actor, Operation.OPEN_DRAWER)
    amount = _amount(opening_float, _("opening float"))
    today = timezone.localdate()
    try:
        with transaction.atomic():
            return CashDrawer.objects.create(
                day=today, opening_float=amount, currency=settings.CURRENCY, opened_by=actor
            )
    except IntegrityError:
        drawer = CashDrawer.objects.get(day=today)
    if drawer.closed_at is not None:
        raise TransitionRefused(_("Today's drawer was closed at %s.") % f"{drawer.closed_at:%H:%M}")
    if drawer.opening_float != amount:
        raise TransitionRefused(
            _("Today's drawer is already open with a float of %s.") % money(drawer.opening_float)
        )
    return drawer


@transaction.atomic(durable=True)
def cash_drawer_close(
    *, drawer: CashDrawer, actor: Actor, counted: Decimal | str, note: str = ""
) -> CashDrawer:
    """Count the drawer: expected = float - cash paid out; a difference needs a note."""
    authorize(actor, Operation.CLOSE_DRAWER)
    counted_amount = _amount(counted, _("counted amount"))
    # Locked: a cash payout being made right now is in the count or waits for the next drawer.
    drawer = CashDrawer.objects.select_for_update().get(pk=drawer.pk)
    if drawer.closed_at is not None:
        if drawer.counted == counted_amount:
            return drawer  # the same count posted twice
        raise TransitionRefused(_("This drawer is already closed."))
    expected = rules.drawer_expected(drawer)
    difference = counted_amount - expected
    note = clean_text(note)
    if difference and not note:
        raise InvalidInput(
            _("The count differs from the expected %(expected)s by %(difference)s: add a note.")
            % {"expected": money(expected), "difference": money(difference)}
        )
    drawer.counted, drawer.expected, drawer.difference = counted_amount, expected, difference
    drawer.closing_note = note
    drawer.closed_by, drawer.closed_at = actor, timezone.now()
    drawer.save()
    return drawer


def stale_counter_buybacks(minutes: int) -> list[CounterBuyback]:
    """Started more than `minutes` ago and still waiting for the customer (the sweep's list)."""
    since = timezone.now() - timedelta(minutes=minutes)
    candidates = CounterBuyback.objects.filter(
        abandoned_at__isnull=True,
        started_at__lt=since,
        trade_in__state__in=[State.SUBMITTED, State.QUOTED],
    ).select_related("trade_in")
    return list(candidates)


__all__ = [
    "BUYER",
    "Customer",
    "Paid",
    "cash_drawer_close",
    "cash_drawer_open",
    "counter_buyback_abandon",
    "counter_buyback_accept",
    "counter_buyback_check_again",
    "counter_buyback_decline",
    "counter_buyback_inspect",
    "counter_buyback_offer",
    "counter_buyback_override",
    "counter_buyback_pay",
    "counter_buyback_start",
]
