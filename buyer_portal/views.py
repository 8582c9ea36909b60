"""Buyer pages. Thin: a form parses, one action acts, the page says what happens next."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from buyer_portal.forms import TradeInForm
from workflows import actions
from workflows.errors import DomainError, LinkInvalid
from workflows.integrations import payments
from workflows.integrations.http import IntegrationError
from workflows.links import (
    absolute,
    quote_from_token,
    quote_token,
    status_token,
    trade_in_from_status_token,
)
from workflows.models import (
    DeviceModel,
    Make,
    Payout,
    PayoutMethod,
    PayoutStatus,
    State,
    StripeAccount,
    TradeIn,
)
from workflows.pricing import price_table

log = logging.getLogger("workflows")

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


# --- payout setup (Stripe Connect onboarding), from the link in the "set up your payout" email --
def _stripe_payout(trade_in: TradeIn) -> Payout | None:
    payout = getattr(trade_in, "payout", None)
    if payout is None or payout.method != PayoutMethod.STRIPE:
        return None
    return payout


def _setup_page(request: HttpRequest, trade_in: TradeIn, message: str, *, status: int = 200,
                token: str = "", demo: bool = False) -> HttpResponse:
    return render(request, "buyer_portal/payout_setup.html", {
        "trade_in": trade_in, "message": message, "status_token": token, "demo": demo,
    }, status=status)


def payout_setup(request: HttpRequest, token: str) -> HttpResponse:
    """Sends the buyer to Stripe's onboarding. Stripe's links last minutes, so the email links
    here and a fresh one is made on each visit (this is also Stripe's refresh_url). A mail
    scanner's GET only makes Stripe an unused link; nothing here changes."""
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    payout = _stripe_payout(trade_in)
    if payout is None or payout.status not in (PayoutStatus.PENDING, PayoutStatus.FAILED):
        return redirect("buyer_portal:status", token=token)
    provider = payments.get_provider()
    account = StripeAccount.objects.filter(
        provider=provider.name, email__iexact=trade_in.buyer_email).first()
    if account is None:
        return _setup_page(request, trade_in, _(
            "We are still preparing your payout. Please try this link again in a few minutes."
        ), status=503)
    if account.payouts_enabled:
        return redirect("buyer_portal:status", token=token)
    here = absolute(reverse("buyer_portal:payout_setup", args=[token]))
    try:
        url = provider.onboarding_link(
            account_id=account.account_id, refresh_url=here,
            return_url=absolute(reverse("buyer_portal:payout_setup_done", args=[token])))
    except IntegrationError as exc:
        log.warning("payout setup link for %s failed: %s", trade_in.reference, exc.safe)
        return _setup_page(request, trade_in, _("Stripe cannot be reached right now. Please try "
                                                "this link again in a few minutes."), status=503)
    return redirect(url)


def payout_setup_done(request: HttpRequest, token: str) -> HttpResponse:
    """Stripe's return_url. Stripe's webhook says the same; whichever comes first records it."""
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    provider = payments.get_provider()
    account = StripeAccount.objects.filter(
        provider=provider.name, email__iexact=trade_in.buyer_email).first()
    if account is not None and not provider.is_demo:
        try:
            state = provider.retrieve_account(account.account_id)
        except IntegrationError as exc:
            log.warning("payout setup check for %s failed: %s", trade_in.reference, exc.safe)
        else:
            actions.stripe_account_update(account_id=state.account_id,
                                          payouts_enabled=state.payouts_enabled,
                                          details_submitted=state.details_submitted)
    return redirect("buyer_portal:status", token=token)


def payout_setup_demo(request: HttpRequest, token: str) -> HttpResponse:
    """The demo provider's stand-in for Stripe's hosted onboarding: one button."""
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    provider = payments.get_provider()
    account = StripeAccount.objects.filter(
        provider=provider.name, email__iexact=trade_in.buyer_email).first()
    if not provider.is_demo or account is None:
        raise Http404
    if request.method == "POST":
        actions.stripe_account_update(account_id=account.account_id, payouts_enabled=True,
                                      details_submitted=True)
        return redirect("buyer_portal:status", token=token)
    return _setup_page(request, trade_in, "", token=token, demo=True)
