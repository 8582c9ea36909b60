"""Orders: what one buyer sent in one submission (issue 20). Written by the actions only
(workflows.actions.submission, the counter), so this page reads and links to each device."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action, display

from backoffice.admin.base import ReadOnlyAdmin
from backoffice.device_lists import quote_suggested
from backoffice.display import choice_label
from workflows.models import Order, TradeIn
from workflows.rules.permissions import Operation, allowed


def device_links(order: Order) -> str:
    """Each device of the order, its reference linked to its trade-in page."""
    return format_html_join(
        ", ",
        '<a href="{}" class="text-primary-600 dark:text-primary-500">{}</a>',
        (
            (reverse("admin:workflows_tradein_change", args=[t.pk]), t.reference or t.pk)
            for t in order.devices.all()
        ),
    )


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["reference", "created_at", "device_count", "buyer", "devices"]
    list_display_links = ["reference"]
    # Any device's IMEI or the buyer's email finds the order (both live on the devices).
    search_fields = ["=reference", "=devices__imei", "devices__buyer_email"]
    search_help_text = _("Order reference, any device's IMEI, or the buyer's email")
    list_per_page = 50
    show_full_result_count = False
    ordering = ["-created_at", "-id"]
    fields = ["reference", "created_at", "device_count", "buyer", "device_table"]
    readonly_fields = fields
    # Business sellers (backoffice/device_lists.py): upload a customer's list; quote in bulk.
    actions_list = ["upload_device_list"]
    actions = ["quote_suggested_orders"]

    @action(
        description=_("Upload a device list"),
        url_path="upload-device-list",
        permissions=["upload_device_list"],
        icon="upload_file",
    )
    def upload_device_list(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:order_upload"))

    def has_upload_device_list_permission(self, request: HttpRequest) -> bool:
        return allowed(request.user, Operation.SUBMIT_DEVICE_LIST)

    @admin.action(description=_("Quote every device at its suggested offer"))
    def quote_suggested_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        for order in queryset:
            quote_suggested(request, order)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        # The count for the column and one prefetch for every row's devices: no query per row.
        return (
            super()
            .get_queryset(request)
            .annotate(device_total=Count("devices"))
            .prefetch_related(Prefetch("devices", queryset=TradeIn.objects.order_by("position")))
        )

    @display(description=_("Devices"), ordering="device_total")
    def device_count(self, obj: Order) -> int:
        return obj.device_total

    @display(description=_("Buyer"))
    def buyer(self, obj: Order) -> str:
        # The same person on every device of the order (the basket writes it onto each).
        first = next(iter(obj.devices.all()), None)
        return f"{first.buyer_name} <{first.buyer_email}>" if first else "-"

    @display(description=_("Trade-ins"))
    def devices(self, obj: Order) -> str:
        return device_links(obj)

    @display(description=_("Devices in this order"))
    def device_table(self, obj: Order) -> str:
        rows = format_html_join(
            "",
            '<tr><td class="px-2 py-1"><a href="{}" class="text-primary-600 '
            'dark:text-primary-500">{}</a></td><td class="px-2 py-1">{}</td>'
            '<td class="px-2 py-1">{}</td><td class="px-2 py-1">{}</td></tr>',
            (
                (
                    reverse("admin:workflows_tradein_change", args=[t.pk]),
                    t.reference or t.pk,
                    t.product,
                    t.imei,
                    choice_label(t, "state"),
                )
                for t in obj.devices.select_related("product__device_model__make").order_by(
                    "position"
                )
            ),
        )
        return format_html("<table>{}</table>", rows)
