"""The offer link: see the quote (GET), accept or decline it (POST only: mail scanners
prefetch GETs)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from buyer_portal.compliance import DeclarationForm, declaration_context
from buyer_portal.forms import DECLINE_REASONS, DeclineForm
from buyer_portal.views.links import link_invalid
from workflows import actions
from workflows.errors import DomainError, InvalidInput, LinkInvalid
from workflows.links import (
    quote_from_token,
    status_token,
)
from workflows.models import (
    Quote,
)
from workflows.rules.predicates import wants_pickup


def _quote_page(
    request: HttpRequest, quote: Quote, token: str, *, status: int = 200, **extra
) -> HttpResponse:
    return render(
        request,
        "buyer_portal/quote.html",
        {
            "quote": quote,
            "trade_in": quote.trade_in,
            "token": token,
            "pickup": wants_pickup(quote.trade_in),
            "reasons": DECLINE_REASONS,
            "shop_address": settings.SHOP_ADDRESS,
            **declaration_context(extra.pop("declaration_form", None)),
            **extra,
        },
        status=status,
    )


def quote(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows the offer: mail scanners prefetch links, so nothing here changes state."""
    try:
        quote = quote_from_token(token)
    except LinkInvalid as exc:
        return link_invalid(request, exc, token)
    return _quote_page(request, quote, token)


@require_POST
def quote_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        quote = quote_from_token(token)
    except LinkInvalid as exc:
        return link_invalid(request, exc, token)
    # The buyer's declaration of ownership and age (buyer_portal.compliance): a missing tick or
    # an under-age date of birth shows the offer again with the reason; nothing is accepted.
    form = DeclarationForm(request.POST)
    if not form.is_valid():
        return _quote_page(request, quote, token, status=400, declaration_form=form)
    try:
        trade_in = actions.trade_in_accept(quote=quote, declaration=form.declaration(request))
    except LinkInvalid as exc:
        return link_invalid(request, exc, token)
    except InvalidInput as exc:
        form.add_error(None, exc.message)
        return _quote_page(request, quote, token, status=400, declaration_form=form)
    except DomainError as exc:
        return link_invalid(request, LinkInvalid(exc.message, reason="used"), token)
    return redirect("buyer_portal:status", token=status_token(trade_in))


@require_POST
def quote_decline(request: HttpRequest, token: str) -> HttpResponse:
    try:
        quote = quote_from_token(token)
    except LinkInvalid as exc:
        return link_invalid(request, exc, token)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _quote_page(
            request,
            quote,
            token,
            status=400,
            decline_error=form.first_error(),
            reason=request.POST.get("reason", "").strip(),
            detail=request.POST.get("detail", "").strip()[:1000],
        )
    try:
        trade_in = actions.trade_in_decline(
            trade_in=quote.trade_in,
            quote=quote,
            actor=actions.BUYER,
            reason=form.reason_text(),
        )
    except LinkInvalid as exc:
        return link_invalid(request, exc, token)
    except DomainError as exc:
        return link_invalid(request, LinkInvalid(exc.message, reason="used"), token)
    return redirect("buyer_portal:status", token=status_token(trade_in))
