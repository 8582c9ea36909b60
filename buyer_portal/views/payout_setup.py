"""Payout setup (Stripe Connect onboarding), from the link in the "set up your payout" email.

These links are sent by email only (never shown on a page): opening one is how the buyer
proves the address, and it binds this payout to the Stripe account made for that address.
The status and confirmation links do not open these pages.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from buyer_portal.views.links import link_invalid
from workflows import actions
from workflows.errors import DomainError, LinkInvalid
from workflows.integrations import payments
from workflows.integrations.http import IntegrationError
from workflows.links import absolute, payout_from_setup_token, status_token
from workflows.models import Payout, TradeIn

log = logging.getLogger("buyer_portal")


def _setup_page(
    request: HttpRequest,
    trade_in: TradeIn,
    message: str,
    *,
    status: int = 200,
    demo: bool = False,
) -> HttpResponse:
    return render(
        request,
        "buyer_portal/payout_setup.html",
        {"trade_in": trade_in, "message": message, "demo": demo},
        status=status,
    )


def _payout_or_invalid(request: HttpRequest, token: str):
    try:
        payout, email = payout_from_setup_token(token)
    except LinkInvalid as exc:
        return None, "", link_invalid(request, exc)
    return payout, email, None


def _to_status(payout: Payout) -> HttpResponse:
    return redirect("buyer_portal:status", token=status_token(payout.trade_in))


def payout_setup(request: HttpRequest, token: str) -> HttpResponse:
    """Sends the buyer to Stripe's onboarding. Stripe's links last minutes, so the email links
    here and a fresh one is made on each visit (this is also Stripe's refresh_url). A mail
    scanner's GET binds only the account made for the very address it scans mail for."""
    payout, email, invalid = _payout_or_invalid(request, token)
    if invalid:
        return invalid
    trade_in = payout.trade_in
    try:
        account = actions.payout_confirm_payee(payout=payout, email=email)
    except LinkInvalid as exc:
        return link_invalid(request, exc)
    except DomainError:
        return _to_status(payout)  # paid, declined, or not by Stripe: nothing to set up
    if account is None:
        return _setup_page(
            request,
            trade_in,
            _("We are still preparing your payout. Please try this link again in a few minutes."),
            status=503,
        )
    if account.payouts_enabled:
        return _to_status(payout)
    here = absolute(reverse("buyer_portal:payout_setup", args=[token]))
    try:
        url = payments.get_provider().onboarding_link(
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
    payout, _email, invalid = _payout_or_invalid(request, token)
    if invalid:
        return invalid
    if not payments.get_provider().is_demo:
        actions.stripe_account_check_request(trade_in=payout.trade_in)
    return _to_status(payout)


def payout_setup_demo(request: HttpRequest, token: str) -> HttpResponse:
    """The demo provider's stand-in for Stripe's hosted onboarding: one button."""
    payout, _email, invalid = _payout_or_invalid(request, token)
    if invalid:
        return invalid
    account = payout.payee_account
    if not payments.get_provider().is_demo or account is None:
        raise Http404
    if request.method == "POST":
        actions.stripe_account_update(
            account_id=account.account_id, payouts_enabled=True, details_submitted=True
        )
        return _to_status(payout)
    return _setup_page(request, payout.trade_in, "", demo=True)
