"""To ship back: every device that must leave the shop for its buyer, with its return label
(or "counter pickup"), packed, shipped with tracking, until the carrier confirms delivery or
the buyer collects it. Written only by workflows.actions.ship_back."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseGone
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed
from unfold.decorators import display
from unfold.widgets import UnfoldAdminTextInputWidget

from backoffice import badges
from backoffice.actions_ui import call_action, call_action_with_form
from backoffice.admin.base import PanelAdmin, ReadOnlyAdmin
from workflows import actions
from workflows.models import LABEL_ERASED, SHIP_BACK_OPEN, ShipBack, ShipBackStatus
from workflows.rules.permissions import Operation
from workflows.rules.permissions import allowed as may

STATUS_COLOURS = {
    ShipBackStatus.TO_PACK: "danger",
    ShipBackStatus.PACKED: "warning",
    ShipBackStatus.SHIPPED: "info",
    ShipBackStatus.DELIVERED: "success",
    ShipBackStatus.COLLECTED: "success",
}


def ship_back_card(request: HttpRequest) -> tuple[str, int, str] | None:
    """The dashboard's count card: devices that must still leave the shop (always shown to
    those who can see the list, so a zero says "nothing left on a shelf")."""
    if not request.user.has_perm("workflows.view_shipback"):
        return None
    return (
        "To ship back",
        badges.counts(request).open_ship_backs,
        reverse("admin:workflows_shipback_changelist"),
    )


class ShipForm(forms.Form):
    tracking_number = forms.CharField(
        label=_("Tracking number"), max_length=80, widget=UnfoldAdminTextInputWidget
    )
    carrier = forms.CharField(
        label=_("Carrier"), max_length=40, required=False, widget=UnfoldAdminTextInputWidget
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the timeline"),
        max_length=300,
        required=False,
        widget=UnfoldAdminTextInputWidget,
    )


class DeliveredForm(forms.Form):
    note = forms.CharField(
        label=_("How you know it was delivered"), max_length=300, widget=UnfoldAdminTextInputWidget
    )


class StillToDoFilter(admin.SimpleListFilter):
    """The list shows what is still in the shop or on its way; "Done" shows the rest."""

    title = _("view")
    parameter_name = "view"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [("done", _("Done")), ("all", _("Everything"))]

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == _("All"):
                choice["display"] = _("Still to do")
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet[ShipBack]) -> QuerySet[ShipBack]:
        if self.value() == "done":
            return queryset.exclude(status__in=SHIP_BACK_OPEN)
        if self.value() == "all":
            return queryset
        return queryset.filter(status__in=SHIP_BACK_OPEN)


@admin.register(ShipBack)
class ShipBackAdmin(PanelAdmin, ReadOnlyAdmin):
    list_display = [
        "trade_in",
        "buyer",
        "device",
        "imei",
        "label_link",
        "status_label",
        "tracking_number",
        "created_at",
    ]
    list_filter = [StillToDoFilter, "status", "counter_pickup"]
    search_fields = ["=trade_in__reference", "=unit__imei", "=tracking_number"]
    list_select_related = ["trade_in__order", "unit__product__device_model__make", "label"]
    readonly_fields = [
        "trade_in",
        "unit",
        "status",
        "counter_pickup",
        "reason",
        "tracking_number",
        "carrier",
        "created_at",
        "packed_at",
        "packed_by",
        "shipped_at",
        "shipped_by",
        "closed_at",
        "closed_note",
    ]
    fields = readonly_fields
    change_form_outer_before_template = "backoffice/ship_back.html"
    panel_url = "step"

    @display(description=_("Buyer"))
    def buyer(self, obj: ShipBack) -> str:
        return obj.trade_in.buyer_name

    @display(description=_("Device"))
    def device(self, obj: ShipBack) -> str:
        return str(obj.unit.product)

    @display(description=_("IMEI"))
    def imei(self, obj: ShipBack) -> str:
        return obj.unit.imei

    @display(description=_("Return label"))
    def label_link(self, obj: ShipBack) -> str:
        if obj.counter_pickup:
            return _("counter pickup")
        if obj.label_id is None:
            return _("label being made")
        if obj.label.erased:
            return _("erased")
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("admin:workflows_shipback_label", args=[obj.pk]),
            _("Label PDF") + (" (SAMPLE)" if obj.label.is_sample else ""),
        )

    @display(description=_("Status"), ordering="status", label=STATUS_COLOURS)
    def status_label(self, obj: ShipBack) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    # --- the return label's PDF -----------------------------------------------------------------
    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.label_view)
        return [
            path("<path:object_id>/label.pdf", view, name="workflows_shipback_label"),
            *super().get_urls(),
        ]

    def label_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        ship_back = self.get_object(request, object_id)
        if ship_back is None or ship_back.label_id is None:
            raise Http404(_("No return label for this device."))
        if ship_back.label.erased:
            return HttpResponseGone(LABEL_ERASED, content_type="text/plain; charset=utf-8")
        response = HttpResponse(bytes(ship_back.label.pdf), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="return-label-{ship_back.trade_in.reference}.pdf"'
        )
        return response

    # --- the steps ------------------------------------------------------------------------------
    def panel_context(self, request: HttpRequest, ship_back: ShipBack) -> dict:
        can = may(request.user, Operation.SHIP_BACK)
        return {
            "ship_back": ship_back,
            "trade_in": ship_back.trade_in,
            "can_pack": can and can_proceed(ship_back.pack),
            "ship_form": ShipForm(
                initial={
                    "tracking_number": ship_back.tracking_number,
                    "carrier": ship_back.carrier,
                }
            )
            if can and can_proceed(ship_back.ship)
            else None,
            "collect_form": NoteForm() if can and can_proceed(ship_back.collect) else None,
            "delivered_form": DeliveredForm() if can and can_proceed(ship_back.deliver) else None,
        }

    def panel_post(self, request: HttpRequest, ship_back: ShipBack, step: str) -> None:
        common = {"ship_back": ship_back, "actor": request.user}
        if step == "pack":
            call_action(request, actions.ship_back_pack, success=_("Packed."), **common)
        elif step == "ship":
            call_action_with_form(
                request,
                ShipForm(request.POST),
                actions.ship_back_ship,
                success=_("Shipped: it stays on the list until the carrier confirms delivery."),
                **common,
            )
        elif step == "collect":
            call_action_with_form(
                request,
                NoteForm(request.POST),
                actions.ship_back_collect,
                success=_("Handed to the buyer."),
                **common,
            )
        elif step == "delivered":
            call_action_with_form(
                request,
                DeliveredForm(request.POST),
                actions.ship_back_confirm_delivery,
                success=_("Delivery confirmed."),
                **common,
            )
        else:
            self.message_user(request, _("You cannot do that here."), level="error")
