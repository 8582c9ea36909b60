"""The trade-in lifecycle: one keyword-only function per transition in DESIGN.md's table.

The steps they share with other actions (quoting, rerouting, the declaration) are the private
helpers in workflows.actions._lifecycle."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.actions._common import (
    BUYER,
    SYSTEM,
    Actor,
    Operation,
    authorize,
    lock_trade_in,
    schedule,
)
from workflows.actions._costs import _carry_box_costs
from workflows.actions._lifecycle import (
    _accept_quote,
    _quote,
    _record_declaration,
    _refuse_unless,
    _required,
    _reroute,
    _transition,
    _unstock,
)
from workflows.actions._orders import _lock_order, _offer_order_if_ready
from workflows.actions.compliance import DeclarationInput
from workflows.errors import TransitionRefused
from workflows.formatting import money
from workflows.models import (
    Direction,
    Email,
    Quote,
    ReturnCase,
    ShippingLabel,
    SideEffectKind,
    State,
    TradeIn,
)
from workflows.rules.orders import is_multi_device
from workflows.rules.predicates import quote_link_refusal, wants_pickup


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


@transaction.atomic(durable=True)
def trade_in_accept(
    *, quote: Quote, actor: Actor = BUYER, declaration: DeclarationInput | None = None
) -> TradeIn:
    """The buyer accepts: stock +1, a received unit with the IMEI, a pending payout.

    Where the shop's settings require it, only with the buyer's declaration of ownership and
    age (workflows.actions.compliance), stored with the acceptance.
    """
    authorize(actor, Operation.ACCEPT)
    trade_in = lock_trade_in(quote.trade_in)
    quote = Quote.objects.get(pk=quote.pk)
    quote.trade_in = trade_in
    if refusal := quote_link_refusal(quote):  # superseded, used or lapsed
        raise refusal
    _refuse_unless(trade_in, "accept")
    _record_declaration(trade_in, quote, declaration, actor)
    _accept_quote(trade_in, quote, actor=actor, note=money(quote.amount))
    # The purchase receipt (workflows.documents.receipts) goes to the buyer with the acceptance.
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:receipt:{trade_in.pk}:{quote.pk}",
        trade_in=trade_in,
        template=Email.PURCHASE_RECEIPT,
    )
    if wants_pickup(trade_in):
        schedule(
            SideEffectKind.SEND_EMAIL,
            key=f"email:accepted:{trade_in.pk}",
            trade_in=trade_in,
            template=Email.ACCEPTED_PICKUP,
        )
    else:
        schedule(SideEffectKind.CREATE_LABEL, key=f"label:{trade_in.pk}", trade_in=trade_in)
    return trade_in


@transaction.atomic(durable=True)
def trade_in_decline(
    *, trade_in: TradeIn, actor: Actor, reason: str, quote: Quote | None = None
) -> TradeIn:
    """Buyer (from the quote link, passing the quote) or staff declines. No stock changes."""
    authorize(actor, Operation.DECLINE)
    if actor == BUYER and quote is None:
        raise TransitionRefused(_("A buyer declines from the offer's link."))
    trade_in = lock_trade_in(trade_in)
    if quote is not None:
        quote = Quote.objects.get(pk=quote.pk)
        quote.trade_in = trade_in
        if refusal := quote_link_refusal(quote):
            raise refusal
    _decline(trade_in, quote, actor=actor, reason=reason)
    if actor != BUYER and is_multi_device(trade_in.order):
        # Staff ended one device of an order: the others' offers may be ready to go out.
        _offer_order_if_ready(trade_in)
    return trade_in


def _decline(trade_in: TradeIn, quote: Quote | None, *, actor: Actor, reason: str) -> None:
    """The decline step, for a locked trade-in whose quote (if any) the caller checked: the
    quote answered, the reason kept, the transition, the email. Shared with order_answer."""
    reason = _required(reason, _("Please give a reason for declining."))
    if quote is not None:
        quote.responded_at = timezone.now()
        quote.save(update_fields=["responded_at"])
    _refuse_unless(trade_in, "decline")
    trade_in.decline_reason = reason
    event = _transition(trade_in, "decline", actor=actor, note=reason)
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:declined:{event.pk}",
        trade_in=trade_in,
        template=Email.DECLINED,
    )


@transaction.atomic(durable=True)
def trade_in_expire(*, trade_in: TradeIn, actor: Actor = SYSTEM) -> TradeIn:
    """The scheduled task: the quote lapsed unanswered."""
    authorize(actor, Operation.EXPIRE)
    trade_in = lock_trade_in(trade_in)
    quote = trade_in.latest_quote()
    if quote is None or not quote.is_lapsed:
        raise TransitionRefused(_("The quote for %s has not lapsed.") % trade_in)
    _transition(
        trade_in, "expire", actor=actor, note=f"quote lapsed {quote.valid_until:%Y-%m-%d %H:%M}"
    )
    return trade_in


@transaction.atomic(durable=True)
def trade_in_cancel(*, trade_in: TradeIn, actor: Actor, reason: str) -> TradeIn:
    """The device never arrived: take it back out of stock, void the unit and the payout."""
    authorize(actor, Operation.CANCEL)
    trade_in = lock_trade_in(trade_in)
    _refuse_unless(trade_in, "cancel")
    reason = _required(reason, _("Please give a reason for cancelling."))
    # The order before the unit, as every change to a box locks them (_carry_box_costs):
    # holding the unit while waiting for the order would deadlock with one of those.
    _lock_order(trade_in.order_id)
    _unit, payout = _unstock(trade_in, "void", actor=actor)
    payout.void()
    payout.save()
    # Its unit leaves the box: the others share the label without it.
    _carry_box_costs(trade_in)
    _transition(trade_in, "cancel", actor=actor, note=reason)
    if is_multi_device(trade_in.order):
        _void_box_label_if_empty(trade_in)
    elif trade_in.labels.filter(voided_at__isnull=True).exists():
        schedule(SideEffectKind.VOID_LABEL, key=f"void-label:{trade_in.pk}", trade_in=trade_in)
    schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:cancelled:{trade_in.pk}",
        trade_in=trade_in,
        template=Email.CANCELLED,
    )
    return trade_in


def _void_box_label_if_empty(trade_in: TradeIn) -> None:
    """An order's one label (on its first accepted device) serves the whole box: void it only
    when no device of the box is still on its way and none came on it (a box that arrived used
    its label: it is paid for, and its units carry its cost), not when one device of it is
    cancelled."""
    if trade_in.order.devices.filter(
        Q(state=State.ACCEPTED) | Q(received_at__isnull=False)
    ).exists():
        return
    label = ShippingLabel.objects.filter(
        trade_in__order_id=trade_in.order_id,
        direction=Direction.TO_SHOP,
        voided_at__isnull=True,
    ).first()
    if label is not None:
        schedule(
            SideEffectKind.VOID_LABEL,
            key=f"void-label:{label.trade_in_id}",
            trade_in=label.trade_in,
        )


@transaction.atomic(durable=True)
def trade_in_reroute(*, trade_in: TradeIn, actor: Actor, reason: str) -> ReturnCase:
    """Damaged beyond what was disclosed: open a return case, decline the payout, unstock."""
    authorize(actor, Operation.REROUTE)
    return _reroute(lock_trade_in(trade_in), actor, reason)
