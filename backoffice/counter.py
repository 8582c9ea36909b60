"""Staff pages for inspection photos and the store-credit counter."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from backoffice.admin.base import form_errors
from backoffice.forms import StoreCreditRedeemForm
from workflows import actions
from workflows.errors import DomainError
from workflows.models import InspectionPhoto, StoreCredit
from workflows.photos import photo_response


def inspection_photo(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("workflows.view_tradein"):
        raise PermissionDenied
    return photo_response(get_object_or_404(InspectionPhoto, pk=pk))


def store_credit_counter(request: HttpRequest) -> HttpResponse:
    """The counter: type or scan the code, see the balance, redeem all or part of it."""
    if not request.user.has_perm("workflows.redeem_storecredit"):
        raise PermissionDenied
    here = reverse("admin:store_credit_counter")
    if request.method == "POST":
        form = StoreCreditRedeemForm(request.POST)
        if not form.is_valid():
            form_errors(request, form)
            return HttpResponseRedirect(here)
        try:
            redemption = actions.store_credit_redeem(
                code=form.cleaned_data["code"],
                actor=request.user,
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(f"{here}?code={form.cleaned_data['code']}")
        credit = redemption.credit
        messages.success(
            request,
            _("Redeemed %(amount)s %(currency)s of %(code)s; %(left)s %(currency)s left.")
            % {
                "amount": redemption.amount,
                "currency": credit.currency,
                "code": credit.code,
                "left": redemption.balance_after,
            },
        )
        return HttpResponseRedirect(f"{here}?code={credit.code}")
    code = actions.normalize_code(request.GET.get("code", ""))[:40]
    credit = (
        StoreCredit.objects.filter(code=code).prefetch_related("redemptions__redeemed_by").first()
        if code
        else None
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Store credit counter"),
        "form": StoreCreditRedeemForm(initial={"code": code}),
        "code": code,
        "credit": credit,
    }
    return TemplateResponse(request, "backoffice/store_credit_counter.html", context)
