"""Signed buyer links. Ids inside are signed, so they cannot be guessed or changed."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from workflows.errors import LinkInvalid
from workflows.models import Quote, State, TradeIn

QUOTE_SALT = "workflows.quote-link"
STATUS_SALT = "workflows.status-link"


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
