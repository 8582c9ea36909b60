"""Staff pages that are not a model's list or detail: the intake bench."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from backoffice.actions_ui import form_errors
from backoffice.forms import IntakeForm, IntakeScanForm, ReasonForm, ReferenceSearchForm
from backoffice.labels import MAX_LABELS
from workflows import actions
from workflows.errors import DomainError
from workflows.models import State, TradeIn, Unit
from workflows.rules.permissions import Operation, allowed
from workflows.selectors import IntakeMatch, find_for_intake, find_for_intake_by_reference
from workflows.selectors.orders import order_size, rest_of_box


def intake_bench(request: HttpRequest) -> HttpResponse:
    """Made for a USB barcode scanner: the IMEI field has focus and Enter submits.

    GET ?imei= looks the device up; POST receives (and, if damaged, reroutes) it and comes
    straight back here, ready for the next scan.
    """
    if not allowed(request.user, Operation.RECEIVE):
        raise PermissionDenied
    if request.method == "POST":
        return _receive(request)

    match = IntakeMatch(None)
    scan_form = IntakeScanForm(request.GET if "imei" in request.GET else None)
    ref_form = ReferenceSearchForm(request.GET if "ref" in request.GET else None)
    scanned = ""
    if ref_form.is_bound:
        match = _match_reference(ref_form)
        # Picked by reference after a scan that matched several: the scan still counts.
        scanned = request.GET.get("scanned", "")[:40]
    elif scan_form.is_bound and scan_form.is_valid():
        match = find_for_intake(scan_form.cleaned_data["imei"])
        scanned = match.scanned_imei
    # Found by reference, the IMEI field is empty: the device's IMEI must still be scanned
    # (or a manager writes why not) before it is received.
    receive_form = (
        IntakeForm(initial={"trade_in": match.trade_in.pk, "scanned_imei": scanned})
        if match.trade_in
        else None
    )
    return _page(request, match, receive_form, scan_form=scan_form, ref_form=ref_form)


def _page(
    request: HttpRequest,
    match: IntakeMatch,
    receive_form: IntakeForm | None,
    *,
    scan_form: IntakeScanForm | None = None,
    ref_form: ReferenceSearchForm | None = None,
    status: int = 200,
) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("Intake bench"),
        "scan_form": IntakeScanForm() if match.trade_in or scan_form is None else scan_form,
        "match": match,
        "receive_form": receive_form,
        "ref_form": ref_form or ReferenceSearchForm(),
        "can_refurbish": allowed(request.user, Operation.ADD_REFURBISHMENT_COST),
        # Just received: its label, one click away (printed from a new tab), and its order's
        # size, so the rest of its box shows without a second look for a one-device order.
        "label_unit": Unit.objects.select_related("trade_in")
        .annotate(order_size=order_size("trade_in__order_id"))
        .filter(pk=request.GET["label"])
        .first()
        if request.GET.get("label", "").isdigit() and len(request.GET["label"]) < 16
        else None,
    }
    context.update(
        _box_context(
            request, match.trade_in or match.found or _label_trade_in(context["label_unit"])
        )
    )
    # Every unit received here today, for one batch of labels at the end of the session
    # (the unit's own receipt time, indexed: the bench loads this after every scan).
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    context["today_units"] = list(
        Unit.objects.filter(received_at__gte=today)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:MAX_LABELS]
    )
    if match.trade_in:
        context["checklist_rows"] = receive_form.checklist_rows(match.trade_in)
    return TemplateResponse(request, "backoffice/intake_bench.html", context, status=status)


def _label_trade_in(unit: Unit | None) -> TradeIn | None:
    if unit is None or unit.trade_in is None:
        return None
    unit.trade_in.order_size = unit.order_size
    return unit.trade_in


def _box_context(request: HttpRequest, trade_in: TradeIn | None) -> dict:
    """The rest of the scanned (or just received) device's box: which devices of its order
    are in, which are still expected. An expected one is asked about: still coming (nothing
    changes) or cancel it alone (the cancel action, with a reason)."""
    if trade_in is None:
        return {}
    box = rest_of_box(trade_in)
    if not box:
        return {}
    coming = request.GET.getlist("coming")
    back = request.get_full_path() if request.method == "GET" else reverse("admin:intake_bench")
    return {
        "box_device": trade_in,
        "box": box,
        "box_still_coming": {str(pk) for pk in coming if pk.isdigit()},
        "can_cancel": allowed(request.user, Operation.CANCEL),
        "box_back": back,
        # "Still coming" adds the device to this same page's address (a POST's page has none).
        "box_coming": back + ("&" if "?" in back else "?") + "coming=",
    }


def intake_cancel_missing(request: HttpRequest) -> HttpResponse:
    """ "Cancel this device" at the bench: one device of the box never came. The cancel action
    reverses its stock, unit and payout, for that device alone; the rest of its order stays."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    back = request.POST.get("back", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("admin:intake_bench")
    pk = request.POST.get("trade_in", "")
    trade_in = TradeIn.objects.filter(pk=pk).first() if pk.isdigit() and len(pk) < 16 else None
    form = ReasonForm(request.POST)
    if trade_in is None:
        messages.error(request, _("That trade-in does not exist."))
    elif not form.is_valid():
        messages.error(request, _("Please give a reason for cancelling."))
    else:
        try:
            actions.trade_in_cancel(
                trade_in=trade_in, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            messages.error(request, f"{trade_in}: {exc.message}")
        else:
            messages.warning(
                request,
                _("%(ref)s cancelled: out of stock, its unit and payout void.") % {"ref": trade_in},
            )
    return HttpResponseRedirect(back)


def _match_reference(form: ReferenceSearchForm) -> IntakeMatch:
    if not form.is_valid():
        return IntakeMatch(None, " ".join(form.errors["ref"]))
    return find_for_intake_by_reference(form.reference())


def _receive(request: HttpRequest) -> HttpResponse:
    """Receive the matched device; on a mistake, the same page again with every answer kept."""
    form = IntakeForm(request.POST, request.FILES)
    valid = form.is_valid()
    pk = form.cleaned_data.get("trade_in")
    trade_in = TradeIn.objects.filter(pk=pk).first() if pk else None
    if trade_in is None or trade_in.state != State.ACCEPTED:  # e.g. a second tap
        messages.error(
            request,
            _("%(ref)s is %(state)s, not waiting to be received: nothing was changed.")
            % {"ref": trade_in, "state": trade_in.get_state_display().lower()}
            if trade_in
            else _("That trade-in does not exist."),
        )
        return HttpResponseRedirect(reverse("admin:intake_bench"))
    if not valid:
        form_errors(request, form)
        return _page(request, IntakeMatch(trade_in), form, status=400)
    data = form.cleaned_data
    try:
        trade_in = actions.trade_in_intake(
            trade_in=trade_in,
            actor=request.user,
            checklist=form.checklist(trade_in),
            outcome=data["outcome"],
            grade=data["grade"],
            scanned_imei=data["scanned_imei"],
            imei_note=data["imei_note"],
            notes=data["notes"],
            amount=data["amount"],
            photos=data["photos"],
            parts_cost=data["parts_cost"],
            labour_cost=data["labour_cost"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _page(request, IntakeMatch(trade_in), form, status=400)
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
    # The bench offers the received unit's label (workflows.documents.labels) until the next scan.
    unit = getattr(trade_in, "unit", None)
    if unit is not None:
        return HttpResponseRedirect(f"{reverse('admin:intake_bench')}?label={unit.pk}")
    return HttpResponseRedirect(reverse("admin:intake_bench"))
