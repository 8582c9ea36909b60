"""Units in stock: each one's page (its life in stock, its as-found record) and bulk moves."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action, display

from backoffice.actions_ui import call_action, call_action_with_form
from backoffice.admin.base import PanelAdmin, Save, SavesThroughAnAction
from backoffice.labels import MAX_LABELS, labels_response
from workflows import actions
from workflows.actions.units import UNIT_EVENT_KINDS, unit_add_refurbishment_cost, unit_sell_lot
from workflows.errors import DomainError
from workflows.models import (
    SHIP_BACK_OPEN,
    Event,
    SaleChannel,
    ShipBack,
    Unit,
    UnitStatus,
    unit_can_refurbish,
)
from workflows.rules import compliance
from workflows.rules.inspection import compare
from workflows.rules.permissions import Operation, allowed
from workflows.selectors.reports import unit_money
from workflows.selectors.units import OPERATIONS, available_operations

BUTTONS = {
    "list": _("List for sale"),
    "unlist": _("Take off sale"),
    "sell": _("Mark sold"),
    "recycle": _("Recycle"),
    "parts": _("Use for parts"),
}
STATUS_COLOURS = {
    UnitStatus.RECEIVED: "info",
    UnitStatus.GRADED: "success",
    UnitStatus.LISTED: "primary",
    UnitStatus.SOLD: "success",
    UnitStatus.RETURNS: "warning",
    UnitStatus.RETURNED: "danger",
    UnitStatus.RECYCLED: "danger",
    UnitStatus.PARTS: "warning",
    UnitStatus.VOID: "danger",
    "hold": "warning",
}
# The statuses in which a running police hold is what staff need to see (the unit is still
# the shop's to list, sell or move; after that the hold no longer matters).
HOLD_SHOWN = {UnitStatus.RECEIVED, UnitStatus.GRADED, UnitStatus.LISTED, UnitStatus.RETURNS}


class SaleForm(forms.Form):
    price = forms.DecimalField(label=_("Sale price"), max_digits=10, decimal_places=2)
    channel = forms.ChoiceField(label=_("Channel"), choices=SaleChannel.choices)
    sold_on = forms.DateField(label=_("Sold on"), required=False)


class RefurbishmentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=10, decimal_places=2)
    note = forms.CharField(label=_("Parts or labour"), max_length=200, required=False)


class LotForm(forms.Form):
    total = forms.DecimalField(label=_("Lot price"), max_digits=12, decimal_places=2)
    sold_on = forms.DateField(label=_("Sold on"), required=False)
    note = forms.CharField(label=_("Buyer or note"), max_length=200, required=False)


def held(unit: Unit) -> str:
    """'On police hold until …' for a unit the hold still keeps on the shelf, or ''."""
    # Not before the device arrived: "awaiting arrival" is what matters then.
    received = unit.trade_in_id is not None and unit.trade_in.received_at is not None
    if received and unit.status in HOLD_SHOWN and compliance.unit_on_hold(unit):
        return compliance.hold_label(unit)
    return ""


def _bulk(request: HttpRequest, queryset: QuerySet[Unit], operation: str) -> None:
    """One action per unit, each in its own transaction: a refused unit does not stop the rest."""
    done, refused = 0, []
    for unit in queryset.order_by("pk"):
        try:
            actions.unit_change_status(unit=unit, actor=request.user, operation=operation)
            done += 1
        except DomainError as exc:
            refused.append((unit.imei, exc.message))
    label = OPERATIONS[operation][1]
    if done:
        messages.success(request, _("%(n)d unit(s) %(what)s.") % {"n": done, "what": label})
    if refused:
        # Every refused unit is named (a police hold, a wrong status); the first reasons in full.
        why = " ".join(message for _imei, message in refused[:5])
        if len(refused) > 5:
            why += " " + _("Also refused: %s.") % ", ".join(imei for imei, _m in refused[5:])
        messages.error(request, _("%(n)d refused: %(why)s") % {"n": len(refused), "why": why})


@admin.register(Unit)
class UnitAdmin(SavesThroughAnAction, PanelAdmin):
    list_display = ["imei", "product", "status_label", "grade", "trade_in", "created_at"]
    list_filter = ["status", "grade", "product__device_model__make"]
    search_fields = ["=imei", "trade_in__reference"]
    list_select_related = ["product__device_model__make", "trade_in"]
    readonly_fields = ["product", "imei", "status_label", "trade_in", "created_at", "graded_at"]
    fields = [
        "product",
        "imei",
        "status_label",
        "grade",
        "trade_in",
        "intake_notes",
        "created_at",
        "graded_at",
    ]
    show_full_result_count = False
    actions = [
        "list_selected",
        "sell_lot",
        "recycle_selected",
        "parts_selected",
        "print_labels",
    ]
    change_form_outer_before_template = "backoffice/unit_life.html"
    panel_url = "life"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # units are created when a buyer accepts

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Unit | None = None) -> bool:
        # Only a graded unit's grade and notes are edited (re-grading); any other unit is a
        # record without a Save button. Its life in stock moves by the panel's buttons.
        if obj is not None and obj.status != UnitStatus.GRADED:
            return False
        return super().has_change_permission(request, obj)

    def save_action(self, request: HttpRequest, obj: Unit, form, change: bool) -> Save:
        return Save(
            actions.unit_regrade,
            {
                "unit": obj,
                "actor": request.user,
                # Read-only (not graded) fields are not in the form: the action then says why.
                "grade": form.cleaned_data.get("grade", obj.grade),
                "notes": form.cleaned_data.get("intake_notes", obj.intake_notes),
            },
            _("Grade saved."),
        )

    @display(description=_("Status"), ordering="status", label=STATUS_COLOURS)
    def status_label(self, obj: Unit) -> tuple[str, str]:
        hold = held(obj)
        if hold:
            return "hold", f"{hold} · {obj.status}"
        return obj.status, obj.get_status_display()

    def panel_context(self, request: HttpRequest, unit: Unit) -> dict:
        trade_in = unit.trade_in
        history = (
            Event.objects.filter(trade_in=trade_in, kind__in=UNIT_EVENT_KINDS)
            .select_related("actor")
            .order_by("created_at", "pk")
            if trade_in
            else []
        )
        hold = held(unit)
        ship_back = ShipBack.objects.filter(unit=unit, status__in=SHIP_BACK_OPEN).first()
        operations = available_operations(unit, request.user)
        return {
            "unit": unit,
            "ship_back": ship_back,
            "hold": hold,
            "hold_message": compliance.hold_message(unit) if hold else "",
            "operations": [(name, BUTTONS[name]) for name, _label in operations],
            "rows": compare(trade_in, unit.as_found) if trade_in and unit.as_found else [],
            "photos": trade_in.photos.all() if trade_in else [],
            "history": history,
            "can_sell": any(name == "sell" for name, _l in operations),
            "channels": SaleChannel.choices,
            "today": timezone.localdate(),
            "currency": settings.CURRENCY,
            "money": unit_money(unit),
            "can_refurbish": allowed(request.user, Operation.ADD_REFURBISHMENT_COST)
            and unit_can_refurbish(unit),
        }

    def panel_post(self, request: HttpRequest, unit: Unit, step: str) -> None:
        if step == "refurbish":
            call_action_with_form(
                request,
                RefurbishmentForm(request.POST),
                unit_add_refurbishment_cost,
                unit=unit,
                actor=request.user,
                success=_("Refurbishment cost added to unit %s.") % unit.imei,
            )
            return
        if step == "sell":
            call_action_with_form(
                request,
                SaleForm(request.POST),
                actions.unit_change_status,
                unit=unit,
                actor=request.user,
                operation="sell",
                note=request.POST.get("note", "")[:500],
                success=_("Unit %s sold.") % unit.imei,
            )
            return
        call_action(
            request,
            actions.unit_change_status,
            unit=unit,
            actor=request.user,
            operation=step,
            note=request.POST.get("note", "")[:500],
            success=_("Unit %(imei)s %(what)s.")
            % {"imei": unit.imei, "what": OPERATIONS.get(step, ("", ""))[1]},
        )

    @action(description=_("List the selected units for sale"))
    def list_selected(self, request: HttpRequest, queryset: QuerySet[Unit]) -> None:
        _bulk(request, queryset, "list")

    @action(description=_("Sell as a wholesale lot"))
    def sell_lot(self, request: HttpRequest, queryset: QuerySet[Unit]) -> HttpResponse | None:
        """One price for the selected units, spread over them in proportion to each one's
        payout (workflows.actions.units.spread). Asks for the price first."""
        units = list(queryset.select_related("product__device_model__make").order_by("pk"))
        form = LotForm(request.POST if "total" in request.POST else None)
        if form.is_bound and form.is_valid():
            call_action(
                request,
                unit_sell_lot,
                units=units,
                actor=request.user,
                total=form.cleaned_data["total"],
                sold_on=form.cleaned_data["sold_on"],
                note=form.cleaned_data["note"],
                success=_("%(n)d unit(s) sold as one wholesale lot for %(total)s.")
                % {"n": len(units), "total": form.cleaned_data["total"]},
            )
            return None
        return TemplateResponse(
            request,
            "backoffice/unit_sell_lot.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Sell as a wholesale lot"),
                "opts": self.opts,
                "units": units,
                "form": form,
                "today": timezone.localdate(),
                "currency": settings.CURRENCY,
                "action_name": "sell_lot",
            },
        )

    @action(description=_("Mark the selected units recycled"))
    def recycle_selected(self, request: HttpRequest, queryset: QuerySet[Unit]) -> None:
        _bulk(request, queryset, "recycle")

    @action(description=_("Mark the selected units used for parts"))
    def parts_selected(self, request: HttpRequest, queryset: QuerySet[Unit]) -> None:
        _bulk(request, queryset, "parts")

    @action(description=_("Print labels for the selected units"))
    def print_labels(self, request: HttpRequest, queryset: QuerySet[Unit]):
        # A PDF, one 100 x 50 mm label per page (workflows.documents.labels); nothing changes.
        units = queryset.select_related("product__device_model__make", "trade_in").order_by("pk")
        return labels_response(units[:MAX_LABELS])
