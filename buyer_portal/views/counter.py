"""The counter's customer page on a second device (issue 21): the customer types the short
code staff read out (or the counter's tablet does) and sees the offer, the declaration and the
signature pad, as on the counter's own screen turned round. The code opens only a buyback
whose offer waits for the customer, for a short while; wrong codes are counted per address."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_ratelimit.core import get_usage

from workflows.actions import BUYER, DeclarationInput
from workflows.actions import counter_buyback as counter
from workflows.errors import DomainError
from workflows.formatting import money
from workflows.models import CounterBuyback
from workflows.rules import counter as rules
from workflows.rules.compliance import declaration_text

WRONG_CODES = "20/10m"
TOO_MANY = gettext_noop("Too many wrong codes from here: wait a few minutes.")


def _paused(request: HttpRequest, *, wrong: bool) -> bool:
    usage = get_usage(request, group="counter-code:ip", key="ip", rate=WRONG_CODES, increment=wrong)
    return usage is not None and usage["count"] >= usage["limit"]


def _find(code: str) -> CounterBuyback | None:
    code = "".join(code.split()).upper()[:12]
    buyback = (
        CounterBuyback.objects.select_related("trade_in__product__device_model__make")
        .filter(code=code)
        .first()
    )
    return buyback if rules.customer_code_open(buyback) else None


def counter_code(request: HttpRequest) -> HttpResponse:
    """Type the code shown at the counter."""
    error = ""
    code = request.GET.get("code", "")
    if code:
        if _paused(request, wrong=False):
            error = _(TOO_MANY)
        elif (buyback := _find(code)) is not None:
            return HttpResponseRedirect(reverse("buyer_portal:counter_offer", args=[buyback.code]))
        else:
            _paused(request, wrong=True)
            error = _("No offer is waiting with that code. Ask at the counter.")
    return render(request, "workflows/counter_code.html", {"error": error}, status=200)


def counter_offer(request: HttpRequest, code: str) -> HttpResponse:
    if _paused(request, wrong=False):
        # The same polite answer as the code page's: not "no longer waiting", which is untrue.
        return render(request, "workflows/counter_code.html", {"error": _(TOO_MANY)}, status=429)
    buyback = _find(code)
    if buyback is None:
        _paused(request, wrong=True)
        return render(
            request,
            "workflows/counter_code.html",
            {"error": _("This offer is no longer waiting. Ask at the counter.")},
            status=404,
        )
    errors = []
    if request.method == "POST":
        try:
            if request.POST.get("do") == "decline":
                counter.counter_buyback_decline(buyback=buyback, actor=BUYER)
                return render(request, "workflows/counter_code.html", {"done": "declined"})
            birth = request.POST.get("birth_date", "")
            counter.counter_buyback_accept(
                buyback=buyback,
                actor=BUYER,
                declaration=DeclarationInput(
                    confirmed=request.POST.get("confirm") == "on",
                    wording=request.POST.get("wording", ""),
                    birth_date=_day(birth),
                    ip=request.META.get("REMOTE_ADDR"),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                ),
                signature_png=rules.signature_bytes(request.POST.get("signature", "")),
            )
            return render(request, "workflows/counter_code.html", {"done": "accepted"})
        except DomainError as exc:
            errors.append(exc.message)
    return render(
        request,
        "workflows/counter_customer.html",
        {
            "buyback": buyback,
            "t": buyback.trade_in,
            "offer": money(buyback.trade_in.offer_amount),
            "method": buyback.trade_in.get_payout_method_display(),
            "wording": declaration_text(),
            "asks_birth_date": settings.DECLARATION_ASKS_BIRTH_DATE,
            "messages_list": errors,
        },
    )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
