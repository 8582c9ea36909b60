"""Orders: what one buyer sent in one box (issue 20). Written by the actions only
(workflows.actions.submission, the counter), so these pages read: the list (devices, states,
money, buyer) and the order page (every device in the box with its own panel, the order's
totals and its timeline). Each device's actions stay on its own trade-in page."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action, display

from backoffice.admin.base import ReadOnlyAdmin
from backoffice.device_lists import quote_suggested
from workflows import formatting
from workflows.documents import receipts
from workflows.models import Order, State, TradeIn
from workflows.rules.orders import is_multi_device
from workflows.rules.permissions import Operation, allowed
from workflows.selectors import orders as order_reads


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


class WaitingFilter(admin.SimpleListFilter):
    """Orders with at least one device waiting for staff's quote, or for its box."""

    title = _("devices waiting")
    parameter_name = "waiting"
    STATES = {"quote": State.SUBMITTED, "arrival": State.ACCEPTED}

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("quote", _("for a quote")), ("arrival", _("to arrive"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        state = self.STATES.get(self.value() or "")
        if state is None:
            return queryset
        return queryset.filter(Exists(TradeIn.objects.filter(order_id=OuterRef("pk"), state=state)))


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "created_at",
        "device_count",
        "state_summary",
        "total_offered",
        "buyer",
        "devices",
    ]
    list_display_links = ["reference"]
    list_filter = [WaitingFilter]
    # Any device's IMEI or the buyer's email finds the order.
    search_fields = ["=reference", "=devices__imei", "buyer_email"]
    search_help_text = _("Order reference, any device's IMEI, or the buyer's email")
    list_per_page = 50
    show_full_result_count = False
    ordering = ["-created_at", "-id"]
    fields = ["reference", "created_at", "buyer"]
    readonly_fields = fields
    # Every device in the box with its own panel, the totals and the timeline.
    change_form_outer_before_template = "backoffice/order_page.html"
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
        # The count, the offers' sum and one prefetch for every row's devices: no query per row.
        return (
            super()
            .get_queryset(request)
            .annotate(device_total=Count("devices"), offered_total=Sum("devices__offer_amount"))
            .prefetch_related(Prefetch("devices", queryset=TradeIn.objects.order_by("position")))
        )

    def get_object(self, request: HttpRequest, object_id: str, from_field=None) -> Order | None:
        # The page reads its devices through the selectors: the bare row, read once a request
        # (change_view and Django's form view both ask for it).
        cached = getattr(request, "_backoffice_order", None)
        if cached is not None and str(cached.pk) == str(object_id):
            return cached
        order = Order.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        request._backoffice_order = order
        return order

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        order = self.get_object(request, object_id)
        if order is not None:
            devices = order_reads.order_devices(order)
            # The buyer is the same on every device (the basket writes it onto each).
            order._prefetched_objects_cache = {"devices": devices}
            extra_context = {
                **(extra_context or {}),
                "order_device_rows": [
                    {
                        "device": device,
                        "flags": order_reads.device_flags(device),
                        "payout": getattr(device, "payout", None),
                    }
                    for device in devices
                ],
                "order_totals": order_reads.order_totals(order),
                "order_payout": order_reads.order_payout_of(devices),
                "may_settle": allowed(request.user, Operation.SETTLE_PAYOUT),
                "order_summary": order_reads.state_summary(devices),
                "order_timeline": order_reads.order_timeline(order, devices),
                # An order of one keeps its device's own receipt (on the trade-in page).
                "order_receipt_url": reverse("admin:workflows_order_receipt", args=[order.pk])
                if len(devices) > 1
                and any(device.accepted_at for device in devices)
                and allowed(request.user, Operation.PRINT_RECEIPT)
                else "",
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        receipt = path(
            "<int:order_id>/receipt/",
            self.admin_site.admin_view(self.receipt_view),
            name="workflows_order_receipt",
        )
        return [receipt, *super().get_urls()]

    def receipt_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        """The order's one purchase receipt (every device bought, the total), to print."""
        if not allowed(request.user, Operation.PRINT_RECEIPT):
            raise PermissionDenied
        order = Order.objects.filter(pk=order_id).first()
        if order is None or not is_multi_device(order):
            raise Http404(_("An order of one device has its device's own receipt."))
        purchase = receipts.order_purchase(order)
        if not purchase.bought:
            raise Http404(_("There is no purchase yet: no offer was accepted."))
        response = HttpResponse(
            receipts.order_receipt_pdf(order, purchase), content_type="application/pdf"
        )
        filename = receipts.order_receipt_filename(order)
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response

    @display(description=_("Devices"), ordering="device_total")
    def device_count(self, obj: Order) -> int:
        return obj.device_total

    @display(description=_("States"))
    def state_summary(self, obj: Order) -> str:
        return order_reads.state_summary(obj.devices.all())

    @display(description=_("Offered"), ordering="offered_total")
    def total_offered(self, obj: Order) -> str:
        return formatting.money(obj.offered_total) or "-"

    @display(description=_("Buyer"), ordering="buyer_name")
    def buyer(self, obj: Order) -> str:
        return f"{obj.buyer_name} <{obj.buyer_email}>"

    @display(description=_("Trade-ins"))
    def devices(self, obj: Order) -> str:
        return device_links(obj)
