"""What every emailed link's page shares: reading the token, and the page for a bad one."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from workflows.errors import LinkInvalid
from workflows.links import (
    status_token,
    trade_in_from_status_token,
    trade_in_of_quote_token,
)
from workflows.models import TradeIn


def trade_in_or_invalid(request: HttpRequest, token: str):
    try:
        return trade_in_from_status_token(token), None
    except LinkInvalid as exc:
        return None, link_invalid(request, exc)


def link_invalid(
    request: HttpRequest,
    exc: LinkInvalid,
    token: str = "",
    *,
    trade_in_of: Callable[[str], TradeIn | None] = trade_in_of_quote_token,
) -> HttpResponse:
    """The page for a bad link. A genuine one (superseded, answered or lapsed) points at the
    status page of the trade-in its token names (`trade_in_of`: a quote token by default)."""
    status = 404 if exc.reason == "tampered" else 410
    trade_in = trade_in_of(token) if token and exc.reason != "tampered" else None
    return render(
        request,
        "buyer_portal/link_invalid.html",
        {
            "message": exc.message,
            "reason": exc.reason,
            "status_token": status_token(trade_in) if trade_in else "",
        },
        status=status,
    )
