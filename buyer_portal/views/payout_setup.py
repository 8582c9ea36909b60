"""Payout setup (Stripe Connect onboarding), from the link in the "set up your payout" email."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from buyer_portal.views.links import trade_in_or_invalid
from workflows import actions
from workflows.integrations import payments
from workflows.integrations.http import IntegrationError
from workflows.links import (
    absolute,
)
from workflows.models import (
    Payout,
    PayoutMethod,
    PayoutStatus,
    TradeIn,
)
from workflows.selectors import stripe_account_for

log = logging.getLogger("buyer_portal")


# --- payout setup (Stripe Connect onboarding), from the link in the "set up your payout" email --
def _stripe_payout(trade_in: TradeIn) -> Payout | None:
    payout = getattr(trade_in, "payout", None)
    if payout is None or payout.method != PayoutMethod.STRIPE:
        return None
    return payout


def _setup_page(
    request: HttpRequest,
    trade_in: TradeIn,
    message: str,
    *,
    status: int = 200,
    token: str = "",
    demo: bool = False,
) -> HttpResponse:
    return render(
        request,
        "buyer_portal/payout_setup.html",
        {
            "trade_in": trade_in,
            "message": message,
            "status_token": token,
            "demo": demo,
        },
        status=status,
    )


def payout_setup(request: HttpRequest, token: str) -> HttpResponse:
    """Sends the buyer to Stripe's onboarding. Stripe's links last minutes, so the email links
    here and a fresh one is made on each visit (this is also Stripe's refresh_url). A mail
    scanner's GET only makes Stripe an unused link; nothing here changes."""
    trade_in, invalid = trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    payout = _stripe_payout(trade_in)
    if payout is None or payout.status not in (PayoutStatus.PENDING, PayoutStatus.FAILED):
        return redirect("buyer_portal:status", token=token)
    provider = payments.get_provider()
    account = stripe_account_for(trade_in.buyer_email)
    if account is None:
        return _setup_page(
            request,
            trade_in,
            _("We are still preparing your payout. Please try this link again in a few minutes."),
            status=503,
        )
    if account.payouts_enabled:
        return redirect("buyer_portal:status", token=token)
    here = absolute(reverse("buyer_portal:payout_setup", args=[token]))
    try:
        url = provider.onboarding_link(
            account_id=account.account_id,
            refresh_url=here,
            return_url=absolute(reverse("buyer_portal:payout_setup_done", args=[token])),
        )
    except IntegrationError as exc:
        log.warning("payout setup link for %s failed: %s", trade_in.reference, exc.safe)
        return _setup_page(
            request,
            trade_in,
            _("Stripe cannot be reached right now. Please try this link again in a few minutes."),
            status=503,
        )
    return redirect(url)


def payout_setup_done(request: HttpRequest, token: str) -> HttpResponse:
    """Stripe's return_url. Stripe is asked whether the account can be paid after this page
    answers (a task), not while the buyer waits; its webhook may well tell us first."""
    trade_in, invalid = trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    if not payments.get_provider().is_demo:
        actions.stripe_account_check_request(trade_in=trade_in)
    return redirect("buyer_portal:status", token=token)


def payout_setup_demo(request: HttpRequest, token: str) -> HttpResponse:
    """The demo provider's stand-in for Stripe's hosted onboarding: one button."""
    trade_in, invalid = trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    provider = payments.get_provider()
    account = stripe_account_for(trade_in.buyer_email)
    if not provider.is_demo or account is None:
        raise Http404
    if request.method == "POST":
        actions.stripe_account_update(
            account_id=account.account_id, payouts_enabled=True, details_submitted=True
        )
        return redirect("buyer_portal:status", token=token)
    return _setup_page(request, trade_in, "", token=token, demo=True)
