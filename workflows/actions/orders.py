"""The buyer's answer to an order's offers (one page, one POST, for every device of the order):
accept some or all, decline the others with a reason. Each device goes through the same steps
as its own offer link (workflows.actions._lifecycle._accept_quote, tradeins._decline); what
belongs to the box (the declaration asked once, one label or one drop-off email) is done once."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils.translation import gettext as _

from workflows.actions._common import BUYER, Actor, Operation, authorize, schedule
from workflows.actions._lifecycle import _accept_quote, _record_declaration, _refuse_unless
from workflows.actions._orders import _lock_order
from workflows.actions.compliance import DeclarationInput
from workflows.actions.tradeins import _decline
from workflows.errors import InvalidInput, LinkInvalid
from workflows.formatting import money
from workflows.models import Email, Order, Quote, SideEffectKind, TradeIn
from workflows.rules.predicates import quote_link_refusal, wants_pickup


def _stale(trade_in: TradeIn, refusal: LinkInvalid) -> LinkInvalid:
    """The quote's refusal, naming the device: the buyer sees which offer moved on."""
    return LinkInvalid(f"{trade_in.reference}: {refusal.message}", reason=refusal.reason)


@transaction.atomic(durable=True)
def order_answer(
    *,
    order: Order,
    quotes: list[Quote],
    accept: list[TradeIn],
    decline: dict[TradeIn, str],
    declaration: DeclarationInput | None = None,
    actor: Actor = BUYER,
) -> list[TradeIn]:
    """Answer every offer the buyer was shown (`quotes`, from the order's signed link): each
    device in `accept` or in `decline` (with its reason), none in both, none left out.

    All or nothing: a quote that moved on since the page opened (re-quoted, answered in
    another tab, lapsed) refuses the whole answer, so answering twice changes nothing.
    Returns the devices accepted, in the order's order."""
    authorize(actor, Operation.ACCEPT if accept else Operation.DECLINE)
    if decline:
        authorize(actor, Operation.DECLINE)
    offered = {quote.trade_in_id: quote for quote in quotes}
    accept_ids = {device.pk for device in accept}
    decline_reasons = {device.pk: reason for device, reason in decline.items()}
    if accept_ids & decline_reasons.keys():
        raise InvalidInput(_("Accept or decline each device, not both."))
    if accept_ids | decline_reasons.keys() != offered.keys():
        raise InvalidInput(_("Choose accept or decline for every device."))
    if any(quote.trade_in.order_id != order.pk for quote in quotes):
        raise InvalidInput(_("This offer is not part of the order."))

    # Lock the devices in pk order, then the order row (the lock order of quoting, see
    # workflows.actions._orders._lock_order). Prevents: two tabs (or a double tap) answering at
    # once, and a staff re-quote landing between our check of a quote and our acceptance of
    # it; the second one waits here and then finds the quotes answered (or replaced).
    # In pk order so that two actions locking several devices never wait on each other.
    devices = {
        device.pk: device
        for device in TradeIn.objects.select_for_update().filter(pk__in=offered).order_by("pk")
    }
    _lock_order(order.pk)
    fresh: dict[int, Quote] = {}
    for device_id in sorted(offered, key=lambda pk: devices[pk].position):
        device = devices[device_id]
        quote = Quote.objects.get(pk=offered[device_id].pk)
        quote.trade_in = device
        if refusal := quote_link_refusal(quote):  # superseded, answered or lapsed
            raise _stale(device, refusal)
        fresh[device_id] = quote

    accepted = [devices[pk] for pk in sorted(accept_ids, key=lambda pk: devices[pk].position)]
    for device in accepted:
        _refuse_unless(device, "accept")
        # Asked once on the page; stored with each device's purchase, as its own link would.
        _record_declaration(device, fresh[device.pk], declaration, actor)
        _accept_quote(device, fresh[device.pk], actor=actor, note=money(fresh[device.pk].amount))
    for device_id, reason in decline_reasons.items():
        _decline(devices[device_id], fresh[device_id], actor=actor, reason=reason)

    if accepted:
        # One receipt for what the buyer sold us (the order's), keyed by the quotes it answers.
        answered = ",".join(str(fresh[device.pk].pk) for device in accepted)
        digest = hashlib.sha256(answered.encode()).hexdigest()[:20]
        schedule(
            SideEffectKind.SEND_EMAIL,
            key=f"email:order-receipt:{order.pk}:{digest}",
            trade_in=accepted[0],
            template=Email.ORDER_RECEIPT,
            order_id=order.pk,
        )
        _send_the_box(order, accepted[0])
    return accepted


def _send_the_box(order: Order, lead: TradeIn) -> None:
    """One box: one label for the accepted devices (bought for the first one, weighed when it
    is bought: workflows.tasks.handlers), or one drop-off email listing them."""
    if wants_pickup(lead):
        schedule(
            SideEffectKind.SEND_EMAIL,
            key=f"email:accepted:{lead.pk}",
            trade_in=lead,
            template=Email.ACCEPTED_PICKUP,
        )
    else:
        schedule(
            SideEffectKind.CREATE_LABEL,
            key=f"label:order:{order.pk}",
            trade_in=lead,
            order_id=order.pk,
        )
