"""Staff pages for inspection photos and the store-credit counter."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from backoffice.actions_ui import form_errors
from backoffice.code_throttle import THROTTLED, code_lookups_paused, count_wrong_code
from backoffice.forms import StoreCreditRedeemForm
from workflows import actions
from workflows.errors import DomainError, UnknownCode
from workflows.formatting import money
from workflows.models import InspectionPhoto, StoreCredit, StoreCreditRedemption
from workflows.models.payouts import code_lookup_hash
from workflows.rules.permissions import Operation, allowed
from workflows.rules.photos import photo_response


def inspection_photo(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("workflows.view_tradein"):
        raise PermissionDenied
    return photo_response(get_object_or_404(InspectionPhoto, pk=pk))


def store_credit_counter(request: HttpRequest) -> HttpResponse:
    """The counter: type or scan the code, see the balance, redeem an amount of it. Wrong
    codes are counted; past the limit no code is checked (backoffice.code_throttle)."""
    if not allowed(request.user, Operation.REDEEM_STORE_CREDIT):
        raise PermissionDenied
    here = reverse("admin:store_credit_counter")
    if request.method == "POST":
        return _redeem(request, here)
    code = actions.normalize_code(request.GET.get("code", ""))[:40]
    paused = bool(code) and code_lookups_paused(request)
    credit = None
    if code and not paused:
        # Found through the keyed hash only; the page names the credit by its last 4.
        credit = (
            StoreCredit.objects.filter(code_hash=code_lookup_hash(code))
            .prefetch_related("redemptions__redeemed_by")
            .first()
        )
        if credit is None:
            count_wrong_code(request)
    if paused:
        messages.error(request, THROTTLED)
    context = {
        **admin.site.each_context(request),
        "title": _("Store credit counter"),
        # The typed code goes only into the redeem form's hidden field, for this one spend.
        "form": StoreCreditRedeemForm(initial={"code": code}),
        "code": "" if paused else code,
        "credit": credit,
        "redeemed": _last_redemption(request),
    }
    return TemplateResponse(
        request, "backoffice/store_credit_counter.html", context, status=429 if paused else 200
    )


def _last_redemption(request: HttpRequest) -> StoreCreditRedemption | None:
    """The spend this clerk just made, shown with the balance it left (no code repeated)."""
    pk = request.GET.get("redeemed", "")
    if not pk.isdigit():
        return None
    return (
        StoreCreditRedemption.objects.filter(pk=int(pk), redeemed_by=request.user)
        .select_related("credit")
        .first()
    )


def _redeem(request: HttpRequest, here: str) -> HttpResponse:
    form = StoreCreditRedeemForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        code = actions.normalize_code(request.POST.get("code", ""))[:40]
        return HttpResponseRedirect(f"{here}?{urlencode({'code': code})}" if code else here)
    if code_lookups_paused(request):
        messages.error(request, THROTTLED)
        return HttpResponseRedirect(here)
    try:
        redemption = actions.store_credit_redeem(
            code=form.cleaned_data["code"],
            actor=request.user,
            amount=form.cleaned_data["amount"],
            note=form.cleaned_data["note"],
        )
    except UnknownCode as exc:
        count_wrong_code(request)
        messages.error(request, exc.message)
        return HttpResponseRedirect(here)
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(f"{here}?{urlencode({'code': form.cleaned_data['code']})}")
    credit = redemption.credit
    messages.success(
        request,
        _("Redeemed %(amount)s of %(code)s; %(left)s left.")
        % {
            "amount": money(redemption.amount),
            "code": credit.masked_code,
            "left": money(redemption.balance_after),
        },
    )
    # Not back to the code: the next spend is scanned again from what the customer shows,
    # and the page never repeats a whole code; it shows what this spend left.
    return HttpResponseRedirect(f"{here}?{urlencode({'redeemed': redemption.pk})}")
