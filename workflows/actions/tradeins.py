"""The trade-in lifecycle: one keyword-only function per transition in DESIGN.md's table.

(Over 400 lines: every transition of the state machine stays in one file, beside the stock and
payout helpers they share.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from workflows.actions._common import (
    AUTO_QUOTE,
    BUYER,
    SYSTEM,
    Actor,
    Operation,
    authorize,
    lock_trade_in,
    record_event,
    schedule,
)
from workflows.actions.compliance import DeclarationInput, record_declaration
from workflows.actions.costs import _carry_costs
from workflows.errors import InvalidInput, NeedsConfirmation, TransitionRefused
from workflows.formatting import money
from workflows.models import (
    STOCKED_STATUSES,
    Event,
    EventKind,
    Payout,
    Product,
    Quote,
    QuotePolicy,
    ReturnCase,
    SideEffectKind,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)
from workflows.rules.parsers import clean_text, normalize_imei
from workflows.rules.permissions import allowed
from workflows.rules.predicates import imei_check_finished, wants_pickup

MAX_OFFER = Decimal("100000")


def _refuse_unless(trade_in: TradeIn, transition: str) -> None:
    if not can_proceed(getattr(trade_in, transition)):
        raise TransitionRefused(
            _("Cannot %(action)s %(ref)s: it is %(state)s.")
            % {"action": transition, "ref": trade_in, "state": trade_in.get_state_display().lower()}
        )


# The timeline row each transition writes.
TRANSITION_EVENT = {
    "quote": EventKind.QUOTED,
    "accept": EventKind.ACCEPTED,
    "decline": EventKind.DECLINED,
    "expire": EventKind.EXPIRED,
    "cancel": EventKind.CANCELLED,
    "receive": EventKind.RECEIVED,
    "reroute": EventKind.REROUTED,
    "close": EventKind.CLOSED,
}


def _transition(
    trade_in: TradeIn, name: str, *, actor: Actor, kind: EventKind | None = None, note: str = ""
) -> Event:
    """Run a django-fsm transition, save, and put it on the timeline."""
    _refuse_unless(trade_in, name)
    before = trade_in.state
    getattr(trade_in, name)()
    trade_in.save()
    return record_event(
        trade_in,
        kind=kind or TRANSITION_EVENT[name],
        actor=actor,
        from_state=before,
        to_state=trade_in.state,
        note=note,
    )


def _lock_product(product_id: int) -> Product:
    # Two trade-ins of the same product accepted or cancelled at once must not lose an update.
    return Product.objects.select_for_update().get(pk=product_id)


def _change_stock(product_id: int, delta: int) -> None:
    product = _lock_product(product_id)
    if product.stock + delta < 0:
        raise TransitionRefused(_("Stock of %(product)s is already 0.") % {"product": product})
    Product.objects.filter(pk=product_id).update(stock=F("stock") + delta)


def _parse_amount(amount: Decimal | str) -> Decimal:
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter the offer as an amount, like 120.00.")) from None
    if not value.is_finite() or value <= 0 or value > MAX_OFFER:
        raise InvalidInput(_("The offer must be more than 0 and at most %s.") % MAX_OFFER)
    return value


@transaction.atomic(durable=True)
def trade_in_quote(
    *,
    trade_in: TradeIn,
    actor: Actor,
    amount: Decimal | str,
    valid_days: int | None = None,
    note: str = "",
    override_reason: str = "",
    confirmed_amount: Decimal | str | None = None,
) -> Quote:
    """Send an offer (or a counter-offer). The IMEI must have been checked and be clean,
    unless a manager overrides the red flag with a written reason. An offer far above the
    suggested one needs `confirmed_amount`, the amount the person said "yes, send it" to,
    equal to it (a yes given to 1200 is no yes to 1900), and above the manager threshold a
    manager too."""
    authorize(actor, Operation.QUOTE)
    return _quote(
        trade_in=lock_trade_in(trade_in),
        actor=actor,
        amount=amount,
        valid_days=valid_days,
        note=note,
        override_reason=override_reason,
        confirmed_amount=confirmed_amount,
    )


def _quote(
    *,
    trade_in: TradeIn,
    actor: Actor,
    amount: Decimal | str,
    valid_days: int | None = None,
    note: str = "",
    override_reason: str = "",
    confirmed_amount: Decimal | str | None = None,
) -> Quote:
    """The quote itself, for a trade-in the caller has locked. `actor` is a staff member or
    AUTO_QUOTE (the policy, which `_auto_quote` has asked first)."""
    from workflows.rules.quoting import OfferLimit, offer_check, red_flags

    _refuse_unless(trade_in, "quote")
    value = _parse_amount(amount)
    valid_days = settings.QUOTE_VALID_DAYS if valid_days is None else int(valid_days)
    if not 1 <= valid_days <= 90:
        raise InvalidInput(_("A quote is valid for 1 to 90 days."))

    check = trade_in.latest_imei_check()
    if not imei_check_finished(check):
        raise TransitionRefused(_("Wait for the IMEI check to finish before sending a quote."))
    override_reason = clean_text(override_reason)
    flags = red_flags(trade_in, check)  # the check's, a duplicate IMEI, an earlier check's
    if flags:
        problem = ", ".join(flags)
        if not override_reason:
            raise TransitionRefused(
                _(
                    "The IMEI check raised a red flag (%s). Only a manager can quote it, "
                    "with a written reason."
                )
                % problem
            )
        authorize(actor, Operation.OVERRIDE_RED_FLAG)
        trade_in.red_flag_override_reason = override_reason
        trade_in.red_flag_override_by = actor
        record_event(
            trade_in,
            kind=EventKind.RED_FLAG_OVERRIDDEN,
            actor=actor,
            note=f"{problem}: {override_reason}",
        )

    limit = offer_check(value, trade_in.suggested_offer, QuotePolicy.current())
    if limit.limit == OfferLimit.MANAGER and not allowed(actor, Operation.QUOTE_OVER_LIMIT):
        raise TransitionRefused(
            _("Only a manager can send this offer: %(reason)s") % {"reason": limit.reason}
        )
    confirmed = confirmed_amount not in (None, "") and _parse_amount(confirmed_amount) == value
    if limit.limit != OfferLimit.OK and not confirmed:
        raise NeedsConfirmation(
            _("Please confirm this offer: %(reason)s") % {"reason": limit.reason},
            reason=limit.reason,
        )

    is_counter = trade_in.quotes.exists()
    trade_in.offer_amount = value
    quote = Quote.objects.create(
        trade_in=trade_in,
        amount=value,
        currency=settings.CURRENCY,
        valid_until=timezone.now() + timedelta(days=valid_days),
        note=clean_text(note),
        sent_by=None if isinstance(actor, str) else actor,
        auto_quoted=actor == AUTO_QUOTE,
    )
    details = f"{money(value)}, valid {valid_days} days"
    if limit.limit != OfferLimit.OK:
        details += f"; confirmed above the usual range ({limit.reason})"
    _transition(
        trade_in,
        "quote",
        actor=actor,
        kind=EventKind.COUNTER_QUOTED if is_counter else EventKind.QUOTED,
        note=details,
    )
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:quote:{quote.pk}",
        trade_in=trade_in,
        template="counter_quote" if is_counter else "quote",
        quote_id=quote.pk,
    )
    return quote


def _auto_quote(trade_in: TradeIn) -> Quote | None:
    """Quote a clean submission at its suggested offer when the quoting policy allows it.

    Called by imei_check_record (which holds the trade-in's lock) when the latest check has
    its answer. Anything the policy does not cover is left for staff (None, and the timeline
    says why); the timeline names the policy as the one who quoted.
    """
    from workflows.rules.quoting import auto_quote_blocker

    authorize(AUTO_QUOTE, Operation.AUTO_QUOTE)
    policy = QuotePolicy.current()
    if trade_in.state != State.SUBMITTED or not policy.auto_quote:
        return None
    blocker = auto_quote_blocker(trade_in, trade_in.latest_imei_check(), policy)
    if blocker:
        # Say on the timeline why this one waits for a person.
        record_event(trade_in, kind=EventKind.AUTO_QUOTE_SKIPPED, actor=AUTO_QUOTE, note=blocker)
        return None
    return _quote(trade_in=trade_in, actor=AUTO_QUOTE, amount=trade_in.suggested_offer)


@transaction.atomic(durable=True)
def trade_in_accept(
    *, quote: Quote, actor: Actor = BUYER, declaration: DeclarationInput | None = None
) -> TradeIn:
    """The buyer accepts: stock +1, a received unit with the IMEI, a pending payout.

    Where the shop's settings require it, only with the buyer's declaration of ownership and
    age (workflows.actions.compliance), stored with the acceptance.
    """
    from workflows.links import check_quote_actionable

    authorize(actor, Operation.ACCEPT)
    trade_in = lock_trade_in(quote.trade_in)
    quote = Quote.objects.get(pk=quote.pk)
    quote.trade_in = trade_in
    check_quote_actionable(quote)  # raises LinkInvalid: superseded, used or lapsed
    _refuse_unless(trade_in, "accept")
    record_declaration(trade_in, quote, declaration, actor)

    _change_stock(trade_in.product_id, +1)
    _refuse_if_in_stock(trade_in)
    try:
        # The constraint decides when two acceptances of one IMEI race past the check above.
        with transaction.atomic():
            Unit.objects.create(
                product_id=trade_in.product_id,
                imei=trade_in.imei,
                status=UnitStatus.RECEIVED,
                trade_in=trade_in,
            )
    except IntegrityError:
        raise TransitionRefused(_in_stock_message(trade_in, "")) from None
    Payout.objects.create(
        trade_in=trade_in,
        amount=quote.amount,
        currency=quote.currency,
        method=trade_in.payout_method,
    )
    _carry_costs(Unit.objects.filter(trade_in=trade_in))
    quote.responded_at = timezone.now()
    quote.save(update_fields=["responded_at"])
    _transition(trade_in, "accept", actor=actor, note=money(quote.amount))
    # The purchase receipt (workflows.documents.receipts) goes to the buyer with the acceptance.
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:receipt:{trade_in.pk}:{quote.pk}",
        trade_in=trade_in,
        template="purchase_receipt",
    )
    if wants_pickup(trade_in):
        schedule(
            SideEffectKind.SEND_EMAIL,
            key=f"email:accepted:{trade_in.pk}",
            trade_in=trade_in,
            template="accepted_pickup",
        )
    else:
        schedule(SideEffectKind.CREATE_LABEL, key=f"label:{trade_in.pk}", trade_in=trade_in)
    return trade_in


def _in_stock_message(trade_in: TradeIn, holder: str) -> str:
    return _(
        "We already have this device (IMEI %(imei)s%(holder)s): the offer for %(ref)s "
        "cannot be accepted. Please contact us."
    ) % {"imei": trade_in.imei, "holder": f", {holder}" if holder else "", "ref": trade_in}


def _refuse_if_in_stock(trade_in: TradeIn) -> None:
    """One device, one unit in stock: another trade-in's unit with this IMEI blocks accepting."""
    unit = (
        Unit.objects.filter(imei=trade_in.imei, status__in=STOCKED_STATUSES)
        .select_related("trade_in")
        .first()
    )
    if unit is not None:
        holder = unit.trade_in.reference if unit.trade_in_id else f"unit #{unit.pk}"
        raise TransitionRefused(_in_stock_message(trade_in, holder))


@transaction.atomic(durable=True)
def trade_in_decline(
    *, trade_in: TradeIn, actor: Actor, reason: str, quote: Quote | None = None
) -> TradeIn:
    """Buyer (from the quote link, passing the quote) or staff declines. No stock changes."""
    from workflows.links import check_quote_actionable

    authorize(actor, Operation.DECLINE)
    if actor == BUYER and quote is None:
        raise TransitionRefused(_("A buyer declines from the offer's link."))
    trade_in = lock_trade_in(trade_in)
    if quote is not None:
        quote = Quote.objects.get(pk=quote.pk)
        quote.trade_in = trade_in
        check_quote_actionable(quote)
        quote.responded_at = timezone.now()
        quote.save(update_fields=["responded_at"])
    reason = _required(reason, _("Please give a reason for declining."))
    _refuse_unless(trade_in, "decline")
    trade_in.decline_reason = reason
    event = _transition(trade_in, "decline", actor=actor, note=reason)
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:declined:{event.pk}",
        trade_in=trade_in,
        template="declined",
    )
    return trade_in


@transaction.atomic(durable=True)
def trade_in_expire(*, trade_in: TradeIn) -> TradeIn:
    trade_in = lock_trade_in(trade_in)
    quote = trade_in.latest_quote()
    if quote is None or not quote.is_lapsed:
        raise TransitionRefused(_("The quote for %s has not lapsed.") % trade_in)
    _transition(
        trade_in, "expire", actor=SYSTEM, note=f"quote lapsed {quote.valid_until:%Y-%m-%d %H:%M}"
    )
    return trade_in


def _unstock(trade_in: TradeIn, unit_status: str) -> tuple[Unit, Payout]:
    """Take the trade-in's unit out of sellable stock; return it and the (locked) payout."""
    unit = Unit.objects.select_for_update().get(trade_in=trade_in)
    payout = Payout.objects.select_for_update().get(trade_in=trade_in)
    _change_stock(trade_in.product_id, -1)
    unit.status = unit_status
    unit.save(update_fields=["status"])
    return unit, payout


def _required(text: str, message: str) -> str:
    text = clean_text(text)
    if not text:
        raise InvalidInput(message)
    return text


@transaction.atomic(durable=True)
def trade_in_cancel(*, trade_in: TradeIn, actor: Actor, reason: str) -> TradeIn:
    """The device never arrived: take it back out of stock, void the unit and the payout."""
    authorize(actor, Operation.CANCEL)
    trade_in = lock_trade_in(trade_in)
    _refuse_unless(trade_in, "cancel")
    reason = _required(reason, _("Please give a reason for cancelling."))
    _unit, payout = _unstock(trade_in, UnitStatus.VOID)
    payout.void()
    payout.save()
    _carry_costs(Unit.objects.filter(trade_in=trade_in))
    _transition(trade_in, "cancel", actor=actor, note=reason)
    if trade_in.labels.filter(voided_at__isnull=True).exists():
        schedule(SideEffectKind.VOID_LABEL, key=f"void-label:{trade_in.pk}", trade_in=trade_in)
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:cancelled:{trade_in.pk}",
        trade_in=trade_in,
        template="cancelled",
    )
    return trade_in


def _scanned_imei_problem(trade_in: TradeIn, scanned: str) -> str:
    """Why the scanned IMEI does not prove this is the trade-in's device; "" if it does."""
    if not scanned.strip():
        return _("The IMEI was not scanned.")
    try:
        imei = normalize_imei(scanned)
    except InvalidInput as exc:
        return _("The scanned IMEI is not valid (%(error)s).") % {"error": exc.message}
    if imei != trade_in.imei:
        return _("The scanned IMEI %(scanned)s is not %(ref)s's %(imei)s.") % {
            "scanned": imei,
            "ref": trade_in,
            "imei": trade_in.imei,
        }
    return ""


def _reroute(trade_in: TradeIn, actor: Actor, reason: str) -> ReturnCase:
    """Reroute a locked trade-in; the calling action holds the transaction."""
    _refuse_unless(trade_in, "reroute")
    reason = _required(reason, _("Describe the damage that was not disclosed."))
    unit, payout = _unstock(trade_in, UnitStatus.RETURNS)
    payout.decline()
    payout.failure_reason = reason
    payout.save()
    _carry_costs(Unit.objects.filter(trade_in=trade_in))
    case = ReturnCase.objects.create(trade_in=trade_in, unit=unit, reason=reason, opened_by=actor)
    _transition(trade_in, "reroute", actor=actor, note=reason)
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:rerouted:{trade_in.pk}",
        trade_in=trade_in,
        template="rerouted",
    )
    return case


@transaction.atomic(durable=True)
def trade_in_reroute(*, trade_in: TradeIn, actor: Actor, reason: str) -> ReturnCase:
    """Damaged beyond what was disclosed: open a return case, decline the payout, unstock."""
    authorize(actor, Operation.REROUTE)
    return _reroute(lock_trade_in(trade_in), actor, reason)


def _trade_in_close(*, trade_in: TradeIn, actor: Actor) -> TradeIn:
    """Part of settling the payout: the settling action holds the transaction and the lock."""
    _transition(trade_in, "close", actor=actor, note="payout settled")
    return trade_in
