"""Buyer pages. Thin: a form parses, one action acts, the page says what happens next."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from buyer_portal.forms import TradeInForm
from workflows import actions
from workflows.errors import DomainError, LinkInvalid
from workflows.links import quote_from_token, quote_token, status_token, trade_in_from_status_token
from workflows.models import DeviceModel, Make, State
from workflows.pricing import price_table

DECLINE_REASONS = [
    _("The offer is too low"),
    _("I decided to keep my device"),
    _("I sold it somewhere else"),
    _("Other"),
]


def storefront(request: HttpRequest) -> HttpResponse:
    return render(request, "buyer_portal/storefront.html")


def trade_in_form(request: HttpRequest) -> HttpResponse:
    """Make → model → the rest, each step a plain link or form, so it works without JavaScript."""
    makes = list(Make.objects.all())
    make = next((m for m in makes if m.slug == request.GET.get("make")), None)
    if make is None:
        return render(request, "buyer_portal/pick_make.html", {"makes": makes, "step": 1})
    device_model = DeviceModel.objects.filter(
        make=make, slug=request.GET.get("model", ""), is_active=True
    ).first()
    if device_model is None:
        models = make.device_models.filter(is_active=True)
        query = request.GET.get("q", "").strip()[:60]
        if query:
            models = models.filter(name__icontains=query)
        return render(request, "buyer_portal/pick_model.html",
                      {"make": make, "device_models": models, "query": query, "step": 2})

    form = TradeInForm(request.POST or None, device_model=device_model)
    if request.method == "POST":
        if form.is_valid() and not form.is_bot():
            try:
                trade_in = actions.trade_in_submit(
                    submission=form.submission(),
                    submission_key=form.cleaned_data["submission_key"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("buyer_portal:confirmation", token=status_token(trade_in))
        elif form.is_bot():
            form.add_error(None, _("Please leave the last field empty."))
    status = 400 if form.is_bound else 200
    return render(request, "buyer_portal/form.html", {
        "make": make, "device_model": device_model, "form": form, "step": 3,
        "prices": price_table(device_model), "currency_symbol": settings.CURRENCY_SYMBOL,
    }, status=status)


def _trade_in_or_invalid(request: HttpRequest, token: str):
    try:
        return trade_in_from_status_token(token), None
    except LinkInvalid as exc:
        return None, _link_invalid(request, exc)


def _link_invalid(request: HttpRequest, exc: LinkInvalid) -> HttpResponse:
    status = 404 if exc.reason == "tampered" else 410
    return render(request, "buyer_portal/link_invalid.html",
                  {"message": exc.message, "reason": exc.reason}, status=status)


def confirmation(request: HttpRequest, token: str) -> HttpResponse:
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    return render(request, "buyer_portal/confirmation.html",
                  {"trade_in": trade_in, "status_token": token})


def status(request: HttpRequest, token: str) -> HttpResponse:
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    quote = trade_in.latest_quote()
    return render(request, "buyer_portal/status.html", {
        "trade_in": trade_in,
        "quote": quote,
        "quote_token": quote_token(quote) if quote and trade_in.state == State.QUOTED else "",
        "pickup": actions.wants_pickup(trade_in),
        "has_label": trade_in.labels.filter(voided_at__isnull=True).exists(),
        "status_token": token,
        "shop_address": settings.SHOP_ADDRESS,
        "shop_hours": settings.SHOP_HOURS,
    })


def label_pdf(request: HttpRequest, token: str) -> HttpResponse:
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    label = trade_in.labels.filter(voided_at__isnull=True).first()
    if label is None:
        raise Http404(_("No shipping label yet."))
    response = HttpResponse(bytes(label.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-{trade_in.reference}.pdf"'
    return response


def quote(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows the offer: mail scanners prefetch links, so nothing here changes state."""
    try:
        quote = quote_from_token(token)
    except LinkInvalid as exc:
        return _link_invalid(request, exc)
    return render(request, "buyer_portal/quote.html", {
        "quote": quote, "trade_in": quote.trade_in, "token": token,
        "pickup": actions.wants_pickup(quote.trade_in), "reasons": DECLINE_REASONS,
    })


@require_POST
def quote_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        quote = quote_from_token(token)
        trade_in = actions.trade_in_accept(quote=quote)
    except LinkInvalid as exc:
        return _link_invalid(request, exc)
    except DomainError as exc:
        return _link_invalid(request, LinkInvalid(exc.message, reason="used"))
    return redirect("buyer_portal:status", token=status_token(trade_in))


@require_POST
def quote_decline(request: HttpRequest, token: str) -> HttpResponse:
    try:
        quote = quote_from_token(token)
    except LinkInvalid as exc:
        return _link_invalid(request, exc)
    reason = request.POST.get("reason", "").strip()
    detail = request.POST.get("detail", "").strip()[:1000]
    if reason not in DECLINE_REASONS:
        return render(request, "buyer_portal/quote.html", {
            "quote": quote, "trade_in": quote.trade_in, "token": token,
            "pickup": actions.wants_pickup(quote.trade_in), "reasons": DECLINE_REASONS,
            "decline_error": _("Please choose a reason."), "detail": detail,
        }, status=400)
    try:
        trade_in = actions.trade_in_decline(
            trade_in=quote.trade_in, quote=quote, actor=actions.BUYER,
            reason=f"{reason}: {detail}" if detail else reason,
        )
    except LinkInvalid as exc:
        return _link_invalid(request, exc)
    except DomainError as exc:
        return _link_invalid(request, LinkInvalid(exc.message, reason="used"))
    return redirect("buyer_portal:status", token=status_token(trade_in))


