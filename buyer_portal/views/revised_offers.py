"""The buyer's revised-offer pages, from the emailed link: see what we found (with photos),
accept the revised offer, or ask for the device back. Links behave like quote links: GET
only shows, POST acts, once, while the offer is the newest and has not lapsed."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from buyer_portal.compliance import DeclarationForm, declaration_context
from buyer_portal.views.links import link_invalid
from workflows import actions
from workflows.errors import DomainError, InvalidInput, LinkInvalid
from workflows.links import (
    revised_offer_from_token,
    status_token,
    trade_in_of_revised_offer_token,
)
from workflows.models import RevisedOffer
from workflows.rules.compliance import hold_refusal, hold_until
from workflows.rules.inspection import compare
from workflows.rules.photos import photo_response
from workflows.rules.predicates import wants_pickup


def _invalid(request: HttpRequest, exc: LinkInvalid) -> HttpResponse:
    """The same page as a spent quote link, for a revised offer's token."""
    return link_invalid(
        request,
        exc,
        request.resolver_match.kwargs["token"],
        trade_in_of=trade_in_of_revised_offer_token,
    )


def _page(
    request: HttpRequest,
    offer: RevisedOffer,
    token: str,
    *,
    status: int = 200,
    declaration_form: DeclarationForm | None = None,
) -> HttpResponse:
    trade_in = offer.trade_in
    return render(
        request,
        "buyer_portal/revised_offer.html",
        {
            "offer": offer,
            "trade_in": trade_in,
            "token": token,
            "rows": compare(trade_in, trade_in.unit.as_found),
            "photos": list(trade_in.photos.all()),
            "pickup": wants_pickup(trade_in),
            "shop_address": settings.SHOP_ADDRESS,
            "default_is_accept": settings.REVISED_OFFER_DEFAULT == "accept",
            # A device the shop bought stays until its police hold ends: no button to refuse.
            "return_held_until": hold_until(trade_in.unit)
            if hold_refusal(trade_in.unit, "return_to_buyer")
            else None,
            **declaration_context(declaration_form),
        },
        status=status,
    )


def revised_offer(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows the offer: mail scanners prefetch links, so nothing here changes."""
    try:
        offer = revised_offer_from_token(token)
    except LinkInvalid as exc:
        return _invalid(request, exc)
    return _page(request, offer, token)


def _answer(request: HttpRequest, token: str, action) -> HttpResponse:
    try:
        offer = revised_offer_from_token(token)
        trade_in = action(offer=offer)
    except LinkInvalid as exc:
        return _invalid(request, exc)
    except DomainError as exc:
        return _invalid(request, LinkInvalid(exc.message, reason="used"))
    return redirect("buyer_portal:status", token=status_token(trade_in))


@require_POST
def revised_offer_accept(request: HttpRequest, token: str) -> HttpResponse:
    # The same declaration of ownership and age as on the first offer: a missing tick or an
    # under-age date of birth shows the page again with the reason; nothing is accepted.
    try:
        offer = revised_offer_from_token(token)
    except LinkInvalid as exc:
        return _invalid(request, exc)
    form = DeclarationForm(request.POST)
    if not form.is_valid():
        return _page(request, offer, token, status=400, declaration_form=form)
    try:
        trade_in = actions.revised_offer_accept(offer=offer, declaration=form.declaration(request))
    except LinkInvalid as exc:
        return _invalid(request, exc)
    except InvalidInput as exc:
        form.add_error(None, exc.message)
        return _page(request, offer, token, status=400, declaration_form=form)
    except DomainError as exc:
        return _invalid(request, LinkInvalid(exc.message, reason="used"))
    return redirect("buyer_portal:status", token=status_token(trade_in))


@require_POST
def revised_offer_return(request: HttpRequest, token: str) -> HttpResponse:
    return _answer(request, token, actions.revised_offer_decline)


def revised_offer_photo(request: HttpRequest, token: str, photo_id: int) -> HttpResponse:
    """A photo of the buyer's own device, for anyone holding a genuine link to its offer
    (answered or not: they may look again later)."""
    try:
        offer = revised_offer_from_token(token, actionable=False)
    except LinkInvalid:
        raise Http404 from None
    photo = offer.trade_in.photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404
    return photo_response(photo)
