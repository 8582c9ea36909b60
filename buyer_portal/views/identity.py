"""The signed photo-ID page: the buyer gives the ID the law asks for before the payout.
Thin: a form parses, one action acts (workflows.actions.compliance)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from buyer_portal.compliance import IdentityForm
from buyer_portal.views.links import trade_in_or_invalid
from workflows import actions
from workflows.errors import DomainError
from workflows.models import State
from workflows.rules import compliance


def identity_page(request: HttpRequest, token: str) -> HttpResponse:
    """From the link in the receipt email or the status page: the buyer gives their photo ID."""
    trade_in, invalid = trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    needed = compliance.identity_required_before("payout") and trade_in.state in (
        State.ACCEPTED,
        State.RECEIVED,
    )
    recorded = compliance.identity_of(trade_in)
    form = IdentityForm(request.POST or None) if needed and recorded is None else None
    error = ""
    status = 200
    if request.method == "POST":
        if form is None:
            status, error = 409, _("There is nothing to fill in here now.")
        elif form.is_valid():
            try:
                actions.seller_identity_record(
                    trade_in=trade_in,
                    actor=actions.BUYER,
                    data=form.identity(),
                    ip=request.META.get("REMOTE_ADDR") or None,
                )
            except DomainError as exc:
                error, status = exc.message, 400
            else:
                return redirect("buyer_portal:identity", token=token)
        else:
            status = 400
    return render(
        request,
        "buyer_portal/identity.html",
        {
            "trade_in": trade_in,
            "form": form,
            "recorded": recorded,
            "needed": needed,
            "error": error,
            "status_token": token,
            "min_age": settings.SELLER_MIN_AGE,
        },
        status=status,
    )
