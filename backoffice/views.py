"""Staff pages that are not a model's list or detail: the intake bench."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from backoffice.admin.base import form_errors
from backoffice.forms import IntakeForm, IntakeScanForm, ReferenceSearchForm
from workflows import actions
from workflows.errors import DomainError
from workflows.models import TradeIn
from workflows.selectors import IntakeMatch, find_for_intake, find_for_intake_by_reference


def intake_bench(request: HttpRequest) -> HttpResponse:
    """Made for a USB barcode scanner: the IMEI field has focus and Enter submits.

    GET ?imei= looks the device up; POST receives (and, if damaged, reroutes) it and comes
    straight back here, ready for the next scan.
    """
    if not request.user.has_perm("workflows.receive_tradein"):
        raise PermissionDenied
    if request.method == "POST":
        return _receive(request)

    match = IntakeMatch(None)
    scan_form = IntakeScanForm(request.GET if "imei" in request.GET else None)
    ref_form = ReferenceSearchForm(request.GET if "ref" in request.GET else None)
    if ref_form.is_bound:
        match = _match_reference(ref_form)
    elif scan_form.is_bound and scan_form.is_valid():
        match = find_for_intake(scan_form.cleaned_data["imei"])
    context = {
        **admin.site.each_context(request),
        "title": _("Intake bench"),
        "scan_form": IntakeScanForm() if match.trade_in else scan_form,
        "match": match,
        "receive_form": IntakeForm(initial={"trade_in": match.trade_in.pk})
        if match.trade_in
        else None,
        "ref_form": ref_form,
    }
    if match.trade_in:
        context["checklist_rows"] = context["receive_form"].checklist_rows(match.trade_in)
    return TemplateResponse(request, "backoffice/intake_bench.html", context)


def _match_reference(form: ReferenceSearchForm) -> IntakeMatch:
    if not form.is_valid():
        return IntakeMatch(None, " ".join(form.errors["ref"]))
    return find_for_intake_by_reference(form.reference())


def _receive(request: HttpRequest) -> HttpResponse:
    back = HttpResponseRedirect(reverse("admin:intake_bench"))
    form = IntakeForm(request.POST, request.FILES)
    if not form.is_valid():
        form_errors(request, form)
        # Back to the same match, so the checklist can be answered again (if the id was valid).
        pk = form.cleaned_data.get("trade_in")
        trade_in = TradeIn.objects.filter(pk=pk).first() if pk else None
        return HttpResponseRedirect(f"{back.url}?imei={trade_in.imei}") if trade_in else back
    trade_in = TradeIn.objects.filter(pk=form.cleaned_data["trade_in"]).first()
    if trade_in is None:
        messages.error(request, _("That trade-in does not exist."))
        return back
    data = form.cleaned_data
    try:
        trade_in = actions.trade_in_intake(
            trade_in=trade_in,
            actor=request.user,
            checklist=form.checklist(),
            outcome=data["outcome"],
            grade=data["grade"],
            notes=data["notes"],
            amount=data["amount"],
            photos=data["photos"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(f"{back.url}?imei={trade_in.imei}")
    if data["outcome"] == "reroute":
        messages.warning(
            request,
            _("%(ref)s received and rerouted to Returns; payout declined.") % {"ref": trade_in},
        )
    elif data["outcome"] == "revise":
        messages.success(
            request,
            _("%(ref)s received; revised offer of %(amount)s emailed to the buyer.")
            % {"ref": trade_in, "amount": data["amount"]},
        )
    else:
        messages.success(
            request,
            _("%(ref)s received, grade %(grade)s. Ready for the next scan.")
            % {"ref": trade_in, "grade": data["grade"]},
        )
    return back
