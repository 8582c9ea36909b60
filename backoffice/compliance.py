"""Staff pages for the second-hand dealer rules: the compliance card on a trade-in, the purchase
receipt, recording and revealing a seller's ID, the hold release, erasure, and the daily police
CSV. Thin: a form parses, one action in workflows.actions.compliance acts, a message says so."""

from __future__ import annotations

from datetime import date

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.widgets import (
    UnfoldAdminSelectWidget,
    UnfoldAdminSingleDateWidget,
    UnfoldAdminTextInputWidget,
)

from backoffice.actions_ui import call_action, form_errors
from workflows import actions
from workflows.documents.receipts import purchase_receipt_pdf, receipt_filename
from workflows.errors import DomainError
from workflows.models import (
    Declaration,
    IdType,
    PoliceReport,
    PoliceReportStatus,
    State,
    TradeIn,
    Unit,
)
from workflows.rules import compliance
from workflows.rules.permissions import RULES, Operation
from workflows.rules.permissions import allowed as may


def _text(label, max_length: int, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, widget=UnfoldAdminTextInputWidget, **kwargs
    )


def _date(label) -> forms.DateField:
    return forms.DateField(label=label, widget=UnfoldAdminSingleDateWidget)


class IdentityForm(forms.Form):
    """The seller's ID, typed by staff from the card at the counter."""

    id_type = forms.ChoiceField(
        label=gettext_lazy("ID type"), choices=IdType.choices, widget=UnfoldAdminSelectWidget
    )
    id_number = _text(gettext_lazy("ID number"), 40)
    issuer = _text(gettext_lazy("Issuing state or country"), 80)
    birth_date = _date(gettext_lazy("Date of birth"))
    expires_on = _date(gettext_lazy("Expiry date"))

    def identity(self) -> actions.IdentityInput:
        data = {k: v for k, v in self.cleaned_data.items() if k != "reason"}
        return actions.IdentityInput(**data)


class CorrectionForm(IdentityForm):
    """A manager's correction of a recorded ID: a new version, with the reason."""

    reason = _text(gettext_lazy("Why is the recorded ID wrong?"), 1000)


class RevealForm(forms.Form):
    purpose = _text(gettext_lazy("Why do you need the whole number?"), 200)
    # Which version to reveal (corrections keep the earlier ones); the current one if empty.
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class HoldReleaseForm(forms.Form):
    police_reference = _text(gettext_lazy("Police reference allowing the release"), 120)


class EraseForm(forms.Form):
    reason = _text(gettext_lazy("Who asked, and how"), 500)


class DailyExportForm(forms.Form):
    day = _date(gettext_lazy("Day"))


# --- the card on the trade-in page -------------------------------------------------------------
def compliance_context(request: HttpRequest, trade_in: TradeIn) -> dict:
    """What the trade-in page shows of the rules; TradeInAdmin.panel_context merges it in."""
    user = request.user
    # The order's ID: recorded from any of its devices, it is this one's too.
    versions = compliance.identity_versions(trade_in)
    identity = versions[0] if versions else None
    unit = Unit.objects.filter(trade_in=trade_in).first()
    on_hold = (
        unit is not None and trade_in.received_at is not None and compliance.unit_on_hold(unit)
    )
    # The first capture at the counter; once recorded, only a manager corrects it (a new
    # version). A refused entry comes back as typed (compliance_post puts it on the request).
    if identity is None:
        can_record = (
            trade_in.state in (State.ACCEPTED, State.RECEIVED)
            and may(user, Operation.RECORD_IDENTITY)
            and not trade_in.anonymised_at
        )
    else:
        can_record = not trade_in.anonymised_at and may(user, Operation.CORRECT_IDENTITY)
    typed = getattr(request, "_identity_form", None)
    form_class = IdentityForm if identity is None else CorrectionForm
    return {
        "c_declarations": Declaration.objects.filter(trade_in=trade_in),
        "c_identity": identity,
        # Recorded (or corrected) from another device of the order: say which.
        "c_identity_from": identity.trade_in
        if identity is not None and identity.trade_in_id != trade_in.pk
        else None,
        "c_identity_history": versions[1:],
        "c_identity_required": settings.SELLER_ID_REQUIRED != "off",
        "c_identity_missing": compliance.identity_missing(trade_in, "payout"),
        "c_identity_form": (typed or form_class()) if can_record else None,
        "c_identity_locked": identity is not None and not can_record,
        "c_can_reveal": identity is not None
        and not identity.anonymised_at
        and not trade_in.anonymised_at
        and may(user, Operation.REVEAL_ID_NUMBER),
        "c_reveal_form": RevealForm(),
        "c_reporting": settings.POLICE_REPORT != "off",
        "c_hold_days": settings.HOLD_DAYS,
        "c_unit": unit,
        "c_on_hold": on_hold,
        "c_hold_until": compliance.hold_until(unit) if on_hold else None,
        "c_hold_release": getattr(unit, "hold_release", None) if unit else None,
        "c_release_form": HoldReleaseForm()
        if on_hold and may(user, Operation.RELEASE_HOLD)
        else None,
        "c_receipt_url": reverse("admin:purchase_receipt", args=[trade_in.pk])
        if trade_in.accepted_at
        else "",
        "c_erase_form": EraseForm() if may(user, Operation.ERASE_BUYER) else None,
        "c_erase_refusal": compliance.erasure_refusal(trade_in),
        "c_retention_ends": compliance.retention_ends(trade_in) if trade_in.received_at else None,
    }


def purchase_receipt(request: HttpRequest, trade_in_id: int) -> HttpResponse:
    """The purchase receipt PDF of one trade-in, to print (also emailed at acceptance)."""
    if not may(request.user, Operation.PRINT_RECEIPT):
        raise PermissionDenied
    trade_in = get_object_or_404(
        TradeIn.objects.select_related("product__device_model__make", "order"), pk=trade_in_id
    )
    if trade_in.accepted_at is None:
        raise Http404(_("There is no purchase yet: the offer was not accepted."))
    response = HttpResponse(purchase_receipt_pdf(trade_in), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{receipt_filename(trade_in)}"'
    return response


def compliance_post(request: HttpRequest, trade_in_id: int, step: str) -> HttpResponse:
    """The compliance card's forms: one form, one action, back to the trade-in page."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.has_perm("workflows.view_tradein"):
        raise PermissionDenied
    trade_in = get_object_or_404(TradeIn, pk=trade_in_id)
    back = HttpResponseRedirect(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    user = request.user
    if step == "identity":
        return _identity(request, trade_in, back)
    elif step == "reveal":
        return _reveal(request, trade_in, back)
    elif step == "release":
        form = HoldReleaseForm(request.POST)
        unit = Unit.objects.filter(trade_in=trade_in).first()
        if unit is None or not form.is_valid():
            form_errors(request, form)
            return back
        call_action(
            request,
            actions.unit_hold_release,
            unit=unit,
            actor=user,
            police_reference=form.cleaned_data["police_reference"],
            success=_("Released from the police hold."),
        )
    elif step == "erase":
        form = EraseForm(request.POST)
        if not form.is_valid():
            form_errors(request, form)
            return back
        call_action(
            request,
            actions.buyer_erase,
            trade_in=trade_in,
            actor=user,
            reason=form.cleaned_data["reason"],
            success=_("The buyer's personal data on this trade-in was erased."),
        )
    else:
        raise Http404
    return back


def _identity(request: HttpRequest, trade_in: TradeIn, back: HttpResponse) -> HttpResponse:
    """Record the seller's ID (the first time), or correct it (a manager, a new version).

    Refused (an expired ID, a typo, not a manager): the trade-in page again, answering 400,
    with every field as typed and the reason shown, so nobody types it again while the
    customer waits. Nothing is stored."""
    recorded = compliance.current_identity(trade_in) is not None  # on any device of the order
    user = request.user
    if recorded and not may(user, Operation.CORRECT_IDENTITY):
        # Refused before parsing: staff never overwrite a recorded ID.
        messages.error(request, str(RULES[Operation.CORRECT_IDENTITY].refusal))
        return back
    form = (CorrectionForm if recorded else IdentityForm)(request.POST)
    if form.is_valid():
        try:
            if recorded:
                actions.seller_identity_correct(
                    trade_in=trade_in,
                    actor=user,
                    data=form.identity(),
                    reason=form.cleaned_data["reason"],
                )
            else:
                actions.seller_identity_record(trade_in=trade_in, actor=user, data=form.identity())
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Seller's ID corrected: a new version; the earlier one is kept.")
                if recorded
                else _("Seller's ID recorded."),
            )
            return back
    request._identity_form = form
    request.method = "GET"  # the trade-in page, shown again: nothing of its own form is saved
    response = admin.site._registry[TradeIn].change_view(request, str(trade_in.pk))
    response.status_code = 400
    response["Cache-Control"] = "no-store"  # it holds the typed ID number
    return response


def _reveal(request: HttpRequest, trade_in: TradeIn, back: HttpResponse) -> HttpResponse:
    """The whole ID number on a page of its own (never in a message: those live in a cookie)."""
    form = RevealForm(request.POST)
    identity = None
    if form.is_valid():
        versions = compliance.identity_versions(trade_in)  # the order's
        if form.cleaned_data.get("version"):
            versions = [v for v in versions if v.version == form.cleaned_data["version"]]
        identity = versions[0] if versions else None
    if identity is None or not form.is_valid():
        form_errors(request, form)
        return back
    number = call_action(
        request,
        actions.seller_identity_reveal,
        identity=identity,
        actor=request.user,
        purpose=form.cleaned_data["purpose"],
        trade_in=trade_in,
        success=_("The whole ID number was shown to you; this is on the audit trail."),
    )
    if number is None:
        return back
    response = TemplateResponse(
        request,
        "backoffice/id_number.html",
        {
            **admin.site.each_context(request),
            "title": _("Seller's ID number"),
            "trade_in": trade_in,
            "identity": identity,
            "number": number,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def police_daily_export(request: HttpRequest) -> HttpResponse:
    """One day's purchases as the police report's CSV, for a manager (on the audit trail)."""
    if not may(request.user, Operation.EXPORT_POLICE_DAY):
        raise PermissionDenied
    form = DailyExportForm(request.GET or None, initial={"day": timezone.localdate()})
    if form.is_bound and form.is_valid():
        day: date = form.cleaned_data["day"]
        content = actions.police_daily_export(day=day, actor=request.user)
        response = HttpResponse(content, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="purchases-{day:%Y%m%d}.csv"'
        response["Cache-Control"] = "no-store"
        return response
    if form.is_bound:
        form_errors(request, form)
    return HttpResponseRedirect(reverse("admin:workflows_policereport_changelist"))


def urls(site: admin.AdminSite) -> list:
    # Under compliance/: the friendly trade-ins/ prefix is the trade-in admin's own, whose
    # <object_id>/ pattern would take trade-ins/<id>/receipt/ first.
    return [
        path(
            "compliance/trade-ins/<int:trade_in_id>/receipt/",
            site.admin_view(purchase_receipt),
            name="purchase_receipt",
        ),
        path(
            "compliance/trade-ins/<int:trade_in_id>/<str:step>/",
            site.admin_view(compliance_post),
            name="tradein_compliance",
        ),
        path(
            "compliance/police-reports/daily.csv",
            site.admin_view(police_daily_export),
            name="police_daily_export",
        ),
    ]


def late_report_card() -> tuple[str, object, str] | None:
    """The dashboard card: purchases not reported to the police in time, and failed reports."""
    if settings.POLICE_REPORT == "off":
        return None
    late = compliance.late_reports().count()
    failing = PoliceReport.objects.exclude(status=PoliceReportStatus.SENT).exclude(last_error="")
    label = _("Police reports late")
    if failing.exists():
        label += " · " + _("%d delivery failing") % failing.count()
    return (label, late, reverse("admin:workflows_policereport_changelist"))


def retention_card() -> tuple[str, object, str] | None:
    """The dashboard card: records past their retention date kept because something is still
    owed (compliance.erasure_blocker), and why: "Past retention, kept: 2 payout owed, ..."."""
    kept = compliance.past_retention_kept()
    if not kept:
        return None
    why = ", ".join(
        f"{n} {reason.label}" for reason, n in sorted(kept.items(), key=lambda i: -i[1])
    )
    return (_("Past retention, kept: %s") % why, sum(kept.values()), "")
