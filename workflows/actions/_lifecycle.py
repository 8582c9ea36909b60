"""The trade-in's transitions, inside the caller's transaction: private helpers the actions
share (quoting, accepting, rerouting, closing on settlement, the buyer's declaration).

The public actions (workflows.actions.tradeins, .inspection, .payouts, .answers) lock the
trade-in, authorize, and call these; nothing here authorizes a staff member by itself except
where a step needs more than the action's own permission (a red-flag override, an offer over
the manager threshold, the quoting policy's own label).

Over 400 lines on purpose: every step of the device's state machine in one place, so a
reader follows a trade-in from quote to close without opening another module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from workflows.actions._common import (
    AUTO_QUOTE,
    Actor,
    Operation,
    authorize,
    lock_order_devices,
    record_event,
    schedule,
)
from workflows.actions._costs import _carry_box_costs, _carry_costs
from workflows.actions._orders import _offer_order_if_ready
from workflows.actions._stock import _change_stock, _move_unit
from workflows.actions.compliance import DeclarationInput
from workflows.errors import InvalidInput, NeedsConfirmation, TransitionRefused
from workflows.formatting import money
from workflows.models import (
    OWED_STATUSES,
    STOCKED_STATUSES,
    Declaration,
    Email,
    Event,
    EventKind,
    Payout,
    Quote,
    QuotePolicy,
    ReturnCase,
    SideEffectKind,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)
from workflows.rules import compliance
from workflows.rules.compliance import identity_missing
from workflows.rules.orders import is_multi_device, order_payout_wait
from workflows.rules.parsers import clean_text, normalize_imei
from workflows.rules.permissions import allowed
from workflows.rules.predicates import imei_check_finished, payout_settleable
from workflows.rules.quoting import OfferLimit, auto_quote_blocker, offer_check
from workflows.rules.redflags import red_flags

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


def _parse_amount(amount: Decimal | str) -> Decimal:
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter the offer as an amount, like 120.00.")) from None
    if not value.is_finite() or value <= 0 or value > MAX_OFFER:
        raise InvalidInput(_("The offer must be more than 0 and at most %s.") % MAX_OFFER)
    return value


def _quote(
    *,
    trade_in: TradeIn,
    actor: Actor,
    amount: Decimal | str,
    valid_days: int | None = None,
    note: str = "",
    override_reason: str = "",
    confirmed_amount: Decimal | str | None = None,
    notify: bool = True,
) -> Quote:
    """The quote itself, for a trade-in the caller has locked. `actor` is a staff member or
    AUTO_QUOTE (the policy, which `_auto_quote` has asked first). `notify=False`: the buyer is
    at the counter and sees the offer there, so no offer email."""
    _refuse_unless(trade_in, "quote")
    value = _parse_amount(amount)
    valid_days = settings.QUOTE_VALID_DAYS if valid_days is None else int(valid_days)
    if not 1 <= valid_days <= 90:
        raise InvalidInput(_("A quote is valid for 1 to 90 days."))

    check = trade_in.latest_imei_check()
    if not imei_check_finished(check):
        raise TransitionRefused(_("Wait for the IMEI check to finish before sending a quote."))
    override_reason = clean_text(override_reason)
    flags = red_flags(trade_in)  # the check's, a duplicate IMEI, an earlier check's
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
    if not notify:
        return quote
    if is_multi_device(trade_in.order):
        # One email for the order, once every device is decided (workflows.rules.orders).
        _offer_order_if_ready(trade_in)
        return quote
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:quote:{quote.pk}",
        trade_in=trade_in,
        template=Email.COUNTER_QUOTE if is_counter else Email.QUOTE,
        quote_id=quote.pk,
    )
    return quote


def _auto_quote(trade_in: TradeIn, flags: list[str]) -> Quote | None:
    """Quote a clean submission at its suggested offer when the quoting policy allows it.

    Called by imei_check_record (which holds the trade-in's lock) when the latest check has
    its answer, with the red flags it worked out for that answer. Anything the policy does not
    cover is left for staff (None, and the timeline says why); the timeline names the policy as
    the one who quoted.
    """
    authorize(AUTO_QUOTE, Operation.AUTO_QUOTE)
    policy = QuotePolicy.current()
    if trade_in.state != State.SUBMITTED or not policy.auto_quote:
        return None
    blocker = auto_quote_blocker(trade_in, trade_in.latest_imei_check(), policy, flags)
    if blocker:
        # Say on the timeline why this one waits for a person.
        record_event(trade_in, kind=EventKind.AUTO_QUOTE_SKIPPED, actor=AUTO_QUOTE, note=blocker)
        return None
    return _quote(trade_in=trade_in, actor=AUTO_QUOTE, amount=trade_in.suggested_offer)


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


def _accept_quote(trade_in: TradeIn, quote: Quote, *, actor: Actor, note: str) -> Unit:
    """The acceptance the offer link and the counter both make, for a trade-in the caller has
    locked and whose quote it checked: stock +1, a received unit with the IMEI, a pending
    payout at the quote's amount, the quote answered, the accept transition."""
    _change_stock(trade_in.product_id, +1)
    _refuse_if_in_stock(trade_in)
    try:
        # The constraint decides when two acceptances of one IMEI race past the check above.
        with transaction.atomic():
            unit = Unit.objects.create(
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
    _carry_box_costs(trade_in)  # one more unit in the order's box: the label's shares change
    quote.responded_at = timezone.now()
    quote.save(update_fields=["responded_at"])
    _transition(trade_in, "accept", actor=actor, note=note)
    return unit


def _receive(trade_in: TradeIn, unit: Unit, *, actor: Actor, note: str) -> None:
    """The device is in the shop (the intake bench, or the counter): the receive transition,
    and its moment carried on the unit, where the stock ageing report reads it."""
    _transition(trade_in, "receive", actor=actor, note=note)
    unit.received_at = trade_in.received_at
    unit.save(update_fields=["received_at"])


def _unstock(trade_in: TradeIn, transition: str, *, actor: Actor) -> tuple[Unit, Payout]:
    """Take the trade-in's unit out of sellable stock (a Unit transition: void or
    send_to_returns); return it and the (locked) payout."""
    unit = Unit.objects.select_for_update(of=("self",)).get(trade_in=trade_in)
    unit.trade_in = trade_in
    payout = Payout.objects.select_for_update().get(trade_in=trade_in)
    _move_unit(unit, transition, actor=actor)
    return unit, payout


def _required(text: str, message: str) -> str:
    text = clean_text(text)
    if not text:
        raise InvalidInput(message)
    return text


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
    unit, payout = _unstock(trade_in, "send_to_returns", actor=actor)
    payout.decline()
    payout.failure_reason = reason
    payout.save()
    _carry_costs(Unit.objects.filter(pk=unit.pk))
    case = ReturnCase.objects.create(trade_in=trade_in, unit=unit, reason=reason, opened_by=actor)
    _transition(trade_in, "reroute", actor=actor, note=reason)
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:rerouted:{trade_in.pk}",
        trade_in=trade_in,
        template=Email.REROUTED,
    )
    return case


def _trade_in_close(*, trade_in: TradeIn, actor: Actor) -> TradeIn:
    """Part of settling the payout: the settling action holds the transaction and the lock."""
    _transition(trade_in, "close", actor=actor, note="payout settled")
    return trade_in


# --- settling the payout closes the trade-in ----------------------------------------------------
# An order is paid once: one check, one store credit or one Stripe transfer for the sum of its
# owed payouts. Each device keeps its own Payout row (its line: the amount owed for it, declined,
# voided or reinstated with the device's own fate); settling settles every owed line of the
# order together, under one reference. A one-device order's settlement is its one payout.
@dataclass(frozen=True)
class OrderPayouts:
    devices: list[TradeIn]  # every device of the order, locked, by position
    lines: list[Payout]  # their payouts, locked, by position

    def owed(self) -> list[Payout]:
        """The lines one settlement pays: pending or failed (a device we have or will have)."""
        return [line for line in self.lines if line.status in OWED_STATUSES]


def _lock_order_payouts(payout: Payout) -> OrderPayouts:
    """Lock the payout's order: its devices in pk order (the lock order of every action that
    locks several devices), then their payouts. Two managers paying two devices of one order
    at once: the second waits here and then finds them settled."""
    _, devices = lock_order_devices(payout.trade_in)
    by_id = {device.pk: device for device in devices}
    lines = list(Payout.objects.select_for_update().filter(trade_in_id__in=by_id))
    for line in lines:
        line.trade_in = by_id[line.trade_in_id]
    devices.sort(key=lambda device: device.position)
    lines.sort(key=lambda line: line.trade_in.position)
    return OrderPayouts(devices=devices, lines=lines)


def _lock_for_settling(payout: Payout, actor: Actor, method: str) -> list[Payout]:
    """Lock the payout's order and return the lines one settlement pays, the first device's
    first: refused unless this payout is owed by `method`, every device of the order is
    decided (workflows.rules.orders.order_payout_wait) and every owed line may be paid."""
    authorize(actor, Operation.SETTLE_PAYOUT)
    order = _lock_order_payouts(payout)
    payout = next(line for line in order.lines if line.pk == payout.pk)
    if payout.method != method:
        raise InvalidInput(_("This payout is paid by %s.") % payout.get_method_display())
    if not can_proceed(payout.settle, check_conditions=False):
        raise TransitionRefused(_("This payout is %s.") % payout.get_status_display().lower())
    if len(order.devices) > 1 and (wait := order_payout_wait(order.devices)):
        raise TransitionRefused(wait)
    lines = order.owed()
    for line in lines:
        if line.method != method:
            raise InvalidInput(
                _("%(ref)s is paid by %(other)s, not %(method)s: an order is paid one way.")
                % {
                    "ref": line.trade_in,
                    "other": line.get_method_display(),
                    "method": payout.get_method_display(),
                }
            )
        _refuse_unless_settleable(line)
    return lines


def _refuse_unless_settleable(payout: Payout) -> None:
    """Money goes out only for a received device, and only once the seller's ID is recorded
    where the shop's rules ask for it before paying (a manager here; staff at the counter)."""
    if not payout_settleable(payout):
        raise TransitionRefused(_("A payout can be settled only after the device was received."))
    if missing := identity_missing(payout.trade_in, "payout"):
        raise TransitionRefused(missing)


def _settle(lines: list[Payout], actor: Actor, reference: str) -> list[Payout]:
    """Settle every line of one settlement under one reference; each device closes. The
    timeline of each says what its device was paid and, for an order, the whole sum."""
    total = sum((line.amount for line in lines), Decimal("0"))
    for line in lines:
        line.settle()
        line.settlement_reference = reference
        line.settled_by = None if isinstance(actor, str) else actor
        line.save()
        note = f"{money(line.amount)} by {line.get_method_display()}: {reference}"
        if len(lines) > 1:
            note += _(" (with the order: %(total)s for %(n)d devices)") % {
                "total": money(total),
                "n": len(lines),
            }
        record_event(line.trade_in, kind=EventKind.PAYOUT_SETTLED, actor=actor, note=note)
        _trade_in_close(trade_in=line.trade_in, actor=actor)
    return lines


# --- the buyer's declaration, stored with the purchase --------------------------------------
def _check_declaration(declaration: DeclarationInput | None) -> None:
    """Raise if the settings require a declaration and this one does not do."""
    if not settings.DECLARATION_REQUIRED:
        return
    if declaration is None or not declaration.confirmed:
        raise InvalidInput(_("Please confirm the declaration to accept the offer."))
    if declaration.wording != compliance.declaration_text():
        raise InvalidInput(
            _("The declaration's wording has changed since the page opened: read it again.")
        )
    problem = compliance.birth_date_problem(
        declaration.birth_date, required=settings.DECLARATION_ASKS_BIRTH_DATE
    )
    if problem:
        raise InvalidInput(_(problem))


def _record_declaration(
    trade_in: TradeIn, quote: Quote | None, declaration: DeclarationInput | None, actor: Actor
) -> Declaration | None:
    """Check and store the declaration inside the caller's accepting transaction.

    Called by every action that completes a purchase (accepting an offer or a revised offer).
    """
    _check_declaration(declaration)
    if declaration is None or not declaration.confirmed:
        return None  # not required, and not given
    row = Declaration.objects.create(
        trade_in=trade_in,
        quote=quote,
        wording=declaration.wording,
        birth_date=declaration.birth_date,
        ip=declaration.ip or None,
        user_agent=declaration.user_agent[:300],
    )
    record_event(
        trade_in,
        kind=EventKind.DECLARED,
        actor=actor,
        note=_("The seller declared ownership and lawful age: “%s”") % declaration.wording,
    )
    return row
