"""An order's offers (several devices, one email, one link): see every device's offer (GET),
answer them all at once (POST only: mail scanners prefetch GETs). Accept all, or accept some
and decline the others, each with a reason; the declaration is asked once."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from buyer_portal.compliance import DeclarationForm, declaration_context
from buyer_portal.forms import DECLINE_REASONS, DeclineForm
from buyer_portal.views.links import link_invalid
from workflows import actions
from workflows.errors import DomainError, InvalidInput, LinkInvalid
from workflows.links import order_of_offer_token, order_offer_from_token, status_token
from workflows.models import Order, Quote, TradeIn
from workflows.rules.predicates import wants_pickup


def _lead_of(token: str) -> TradeIn | None:
    order = order_of_offer_token(token)
    return order.devices.order_by("position").first() if order else None


def _invalid(request: HttpRequest, exc: LinkInvalid, token: str) -> HttpResponse:
    return link_invalid(request, exc, token, trade_in_of=_lead_of)


def _rows(quotes: list[Quote], data=None, errors: dict[int, str] | None = None) -> list[dict]:
    """One row per device for the template, with what the buyer chose (kept after an error)."""
    data = data or {}
    errors = errors or {}
    return [
        {
            "quote": quote,
            "trade_in": quote.trade_in,
            "answer": data.get(f"answer-{quote.trade_in_id}", ""),
            "reason": data.get(f"reason-{quote.trade_in_id}", ""),
            "detail": data.get(f"detail-{quote.trade_in_id}", "")[:1000],
            "error": errors.get(quote.trade_in_id, ""),
        }
        for quote in quotes
    ]


def _page(
    request: HttpRequest,
    order: Order,
    quotes: list[Quote],
    token: str,
    *,
    status: int = 200,
    data=None,
    errors: dict[int, str] | None = None,
    error: str = "",
    declaration_form: DeclarationForm | None = None,
) -> HttpResponse:
    lead = quotes[0].trade_in
    return render(
        request,
        "buyer_portal/order_offer.html",
        {
            "order": order,
            "rows": _rows(quotes, data, errors),
            "total": sum(quote.amount for quote in quotes),
            "valid_until": min(quote.valid_until for quote in quotes),
            "trade_in": lead,
            "token": token,
            "pickup": wants_pickup(lead),
            "reasons": DECLINE_REASONS,
            "shop_address": settings.SHOP_ADDRESS,
            "error": error,
            **declaration_context(declaration_form),
        },
        status=status,
    )


def order_offer(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows the offers: nothing here changes state."""
    try:
        order, quotes = order_offer_from_token(token)
    except LinkInvalid as exc:
        return _invalid(request, exc, token)
    return _page(request, order, quotes, token)


@require_POST
def order_offer_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        order, quotes = order_offer_from_token(token)
    except LinkInvalid as exc:
        return _invalid(request, exc, token)
    accept_all = "accept_all" in request.POST
    chose_decline = [
        quote.trade_in.reference
        for quote in quotes
        if request.POST.get(f"answer-{quote.trade_in_id}") == "decline"
    ]
    if accept_all and chose_decline:
        # "Accept all" tapped after choosing to decline a device: never sell what the buyer
        # said they keep. Ask again instead of guessing which they meant.
        return _page(
            request,
            order,
            quotes,
            token,
            status=400,
            data=request.POST,
            error=_(
                "You chose to decline %(refs)s: tap “Send my answers”, or choose Accept for it."
            )
            % {"refs": ", ".join(chose_decline)},
        )
    accept: list[TradeIn] = []
    decline: dict[TradeIn, str] = {}
    errors: dict[int, str] = {}
    for quote in quotes:
        device = quote.trade_in
        answer = "accept" if accept_all else request.POST.get(f"answer-{device.pk}", "")
        if answer == "accept":
            accept.append(device)
        elif answer == "decline":
            form = DeclineForm(
                {
                    "reason": request.POST.get(f"reason-{device.pk}", ""),
                    "detail": request.POST.get(f"detail-{device.pk}", ""),
                }
            )
            if form.is_valid():
                decline[device] = form.reason_text()
            else:
                errors[device.pk] = form.first_error()
        else:
            errors[device.pk] = _("Please choose accept or decline.")
    form = DeclarationForm(request.POST)

    def again(**context) -> HttpResponse:
        """The page once more with every answer kept, saying what to mend."""
        return _page(request, order, quotes, token, status=400, data=request.POST, **context)

    # The declaration is about selling: asked only when something is accepted.
    if accept and not form.is_valid():
        return again(declaration_form=form, errors=errors)
    if errors:
        return again(
            errors=errors,
            error=_("Please check the devices marked below."),
            declaration_form=form if accept else None,
        )
    try:
        actions.order_answer(
            order=order,
            quotes=quotes,
            accept=accept,
            decline=decline,
            declaration=form.declaration(request) if accept else None,
        )
    except LinkInvalid as exc:
        return _invalid(request, exc, token)
    except InvalidInput as exc:
        form.add_error(None, exc.message)
        return again(declaration_form=form, error=exc.message)
    except DomainError as exc:
        return _invalid(request, LinkInvalid(exc.message, reason="used"), token)
    return redirect("buyer_portal:status", token=status_token(quotes[0].trade_in))
