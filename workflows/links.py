"""Signed buyer links. Ids inside are signed, so they cannot be guessed or changed.

This module signs and unsigns; whether the buyer can still act on what a link names is the
predicates' (workflows.rules.predicates.quote_link_refusal / revised_offer_link_refusal)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from workflows.errors import LinkInvalid
from workflows.models import Order, Payout, Quote, RevisedOffer, TradeIn
from workflows.rules.predicates import quote_link_refusal, revised_offer_link_refusal

QUOTE_SALT = "workflows.quote-link"
STATUS_SALT = "workflows.status-link"
REVISED_OFFER_SALT = "workflows.revised-offer-link"
ORDER_OFFER_SALT = "workflows.order-offer-link"
# Sent only by email: opening it is how the buyer proves the payout address is theirs.
PAYOUT_SETUP_SALT = "workflows.payout-setup-link"


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def quote_token(quote: Quote) -> str:
    return signing.dumps({"q": quote.pk}, salt=QUOTE_SALT)


def status_token(trade_in: TradeIn) -> str:
    return signing.dumps({"t": trade_in.pk}, salt=STATUS_SALT)


def quote_url(quote: Quote) -> str:
    return absolute(reverse("buyer_portal:quote", args=[quote_token(quote)]))


def status_url(trade_in: TradeIn) -> str:
    return absolute(reverse("buyer_portal:status", args=[status_token(trade_in)]))


def _unsign(token: str, salt: str, key: str) -> int:
    try:
        value = signing.loads(token, salt=salt)
        return int(value[key])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid(
            _("This link is not valid. Please use the link from your most recent email."),
            reason="tampered",
        ) from None


def payout_setup_token(payout: Payout) -> str:
    """For the "set up your payout" email only. It names the address it was sent to, so it
    stops working if that address changes."""
    return signing.dumps(
        {"p": payout.pk, "e": payout.trade_in.buyer_email.strip().lower()}, salt=PAYOUT_SETUP_SALT
    )


def payout_setup_url(payout: Payout) -> str:
    return absolute(reverse("buyer_portal:payout_setup", args=[payout_setup_token(payout)]))


def payout_from_setup_token(token: str) -> tuple[Payout, str]:
    """The payout behind an emailed setup link and the address the link was sent to."""
    pk = _unsign(token, PAYOUT_SETUP_SALT, "p")
    try:
        email = str(signing.loads(token, salt=PAYOUT_SETUP_SALT)["e"])
    except (signing.BadSignature, KeyError, TypeError):  # pragma: no cover - unsigned above
        raise LinkInvalid(_("This link is not valid."), reason="tampered") from None
    payout = Payout.objects.select_related("trade_in", "payee_account").filter(pk=pk).first()
    if payout is None:
        raise LinkInvalid(_("This link is not valid."), reason="tampered")
    if payout.trade_in.buyer_email.strip().lower() != email:
        raise LinkInvalid(
            _("This link was sent to an email address that is no longer on your trade-in."),
            reason="superseded",
        )
    return payout, email


def trade_in_from_status_token(token: str) -> TradeIn:
    pk = _unsign(token, STATUS_SALT, "t")
    trade_in = (
        TradeIn.objects.select_related("product__device_model__make", "order").filter(pk=pk).first()
    )
    if trade_in is None:
        raise LinkInvalid(_("This link is not valid."), reason="tampered")
    return trade_in


def quote_from_token(token: str) -> Quote:
    """The quote behind a link, if the buyer can still act on it; else LinkInvalid."""
    pk = _unsign(token, QUOTE_SALT, "q")
    quote = (
        Quote.objects.select_related("trade_in__product__device_model__make").filter(pk=pk).first()
    )
    if quote is None:
        raise LinkInvalid(_("This link is not valid."), reason="tampered")
    if refusal := quote_link_refusal(quote):
        raise refusal
    return quote


def trade_in_of_quote_token(token: str) -> TradeIn | None:
    """The trade-in behind a genuine offer link the buyer can no longer use (answered,
    replaced, lapsed), to point them at its status page; None for a forged link."""
    try:
        pk = _unsign(token, QUOTE_SALT, "q")
    except LinkInvalid:
        return None
    quote = Quote.objects.select_related("trade_in").filter(pk=pk).first()
    return quote.trade_in if quote else None


# --- revised offers after inspection: the same rules as quote links --------------------------
def revised_offer_token(offer: RevisedOffer) -> str:
    return signing.dumps({"r": offer.pk}, salt=REVISED_OFFER_SALT)


def revised_offer_url(offer: RevisedOffer) -> str:
    return absolute(reverse("buyer_portal:revised_offer", args=[revised_offer_token(offer)]))


def revised_offer_from_token(token: str, *, actionable: bool = True) -> RevisedOffer:
    """The revised offer behind a link. With actionable, only if the buyer can still answer
    it (else LinkInvalid); without, any genuine link (to see its photos after answering)."""
    pk = _unsign(token, REVISED_OFFER_SALT, "r")
    offer = (
        RevisedOffer.objects.select_related("trade_in__product__device_model__make")
        .filter(pk=pk)
        .first()
    )
    if offer is None:
        raise LinkInvalid(_("This link is not valid."), reason="tampered")
    if actionable and (refusal := revised_offer_link_refusal(offer)):
        raise refusal
    return offer


def trade_in_of_revised_offer_token(token: str) -> TradeIn | None:
    """The trade-in behind a genuine revised-offer link the buyer can no longer use, to point
    them at its status page; None for a forged link."""
    try:
        return revised_offer_from_token(token, actionable=False).trade_in
    except LinkInvalid:
        return None


# --- an order's offers: one link for every device's quote (workflows.rules.orders) -----------
def order_offer_token(order: Order, quote_ids: list[int]) -> str:
    """Names the order and the quotes it offers: a re-quote of any device (a new quote row)
    leaves this link behind, and it expires with those quotes."""
    return signing.dumps({"o": order.pk, "q": sorted(quote_ids)}, salt=ORDER_OFFER_SALT)


def order_offer_url(order: Order, quote_ids: list[int]) -> str:
    return absolute(reverse("buyer_portal:order_offer", args=[order_offer_token(order, quote_ids)]))


def order_offer_from_token(token: str) -> tuple[Order, list[Quote]]:
    """The order and the quotes its link offers, if the buyer can still answer them; else
    LinkInvalid (one device re-quoted: superseded; all answered: used; lapsed: expired).
    Quotes a device no longer waits on (staff declined it since) are left out."""
    pk = _unsign(token, ORDER_OFFER_SALT, "o")
    try:
        quote_ids = [int(q) for q in signing.loads(token, salt=ORDER_OFFER_SALT)["q"]]
    except (signing.BadSignature, KeyError, TypeError, ValueError):  # pragma: no cover
        raise LinkInvalid(_("This link is not valid."), reason="tampered") from None
    order = Order.objects.filter(pk=pk).first()
    quotes = list(
        Quote.objects.select_related("trade_in__product__device_model__make")
        .filter(pk__in=quote_ids, trade_in__order_id=pk)
        .order_by("trade_in__position")
    )
    if order is None or not quotes or len(quotes) != len(quote_ids):
        raise LinkInvalid(_("This link is not valid."), reason="tampered")
    refusals = [quote_link_refusal(quote) for quote in quotes]
    for refusal in refusals:
        if refusal is not None and refusal.reason == "superseded":
            raise refusal
    open_quotes = [quote for quote, refusal in zip(quotes, refusals, strict=True) if not refusal]
    if not open_quotes:
        raise next(refusal for refusal in refusals if refusal is not None)
    return order, open_quotes


def order_of_offer_token(token: str) -> Order | None:
    """The order behind a genuine order-offer link, to point the buyer at a status page."""
    try:
        pk = _unsign(token, ORDER_OFFER_SALT, "o")
    except LinkInvalid:
        return None
    return Order.objects.filter(pk=pk).first()
