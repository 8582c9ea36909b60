"""Signed buyer links. Ids inside are signed, so they cannot be guessed or changed."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from workflows.errors import LinkInvalid
from workflows.models import Quote, RevisedOffer, RevisedOfferStatus, State, TradeIn

QUOTE_SALT = "workflows.quote-link"
STATUS_SALT = "workflows.status-link"
REVISED_OFFER_SALT = "workflows.revised-offer-link"


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


def trade_in_from_status_token(token: str) -> TradeIn:
    pk = _unsign(token, STATUS_SALT, "t")
    trade_in = TradeIn.objects.select_related("product__device_model__make").filter(pk=pk).first()
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
    check_quote_actionable(quote)
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


def check_quote_actionable(quote: Quote) -> None:
    trade_in = quote.trade_in
    if trade_in.latest_quote().pk != quote.pk:
        raise LinkInvalid(
            _("This offer was replaced by a newer one. Please use the link in our latest email."),
            reason="superseded",
        )
    if quote.responded_at is not None or trade_in.state != State.QUOTED:
        if trade_in.state == State.EXPIRED:
            raise LinkInvalid(_("This offer has expired."), reason="expired")
        raise LinkInvalid(_("You have already answered this offer."), reason="used")
    if quote.is_lapsed:
        raise LinkInvalid(_("This offer has expired."), reason="expired")


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
    if actionable:
        check_revised_offer_actionable(offer)
    return offer


def trade_in_of_revised_offer_token(token: str) -> TradeIn | None:
    """The trade-in behind a genuine revised-offer link the buyer can no longer use, to point
    them at its status page; None for a forged link."""
    try:
        return revised_offer_from_token(token, actionable=False).trade_in
    except LinkInvalid:
        return None


def check_revised_offer_actionable(offer: RevisedOffer) -> None:
    newest = offer.trade_in.revised_offers.order_by("-created_at", "-pk").first()
    if offer.status == RevisedOfferStatus.SUPERSEDED or (newest and newest.pk != offer.pk):
        raise LinkInvalid(
            _("This offer was replaced by a newer one. Please use the link in our latest email."),
            reason="superseded",
        )
    if offer.status != RevisedOfferStatus.SENT or offer.trade_in.state != State.REOFFERED:
        raise LinkInvalid(_("You have already answered this offer."), reason="used")
    if offer.is_lapsed:
        raise LinkInvalid(_("The time to answer this offer has passed."), reason="expired")
