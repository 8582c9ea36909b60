"""The trade-ins queue and the trade-in page. The queue's filters and the page's history tables
are in backoffice.admin.tradein_lists; the workflow panel above the page is
backoffice.admin.tradein_panel."""

from __future__ import annotations

import functools

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseGone
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import action, display
from unfold.overrides import FORMFIELD_OVERRIDES
from unfold.widgets import UnfoldAdminSelectWidget

from backoffice.admin import tradein_panel
from backoffice.admin.base import NoDeleteAdmin, PanelAdmin, Save, SavesThroughAnAction
from backoffice.admin.tradein_lists import (
    ArchiveFilter,
    EventInline,
    MakeFilter,
    QuoteInline,
    RedFlagFilter,
    RevisedOfferInline,
)
from backoffice.display import choice_label
from backoffice.paginator import EstimatedCountPaginator
from workflows import actions
from workflows.actions.corrections import EDITABLE_DETAILS
from workflows.errors import DomainError
from workflows.models import (
    LABEL_ERASED,
    Direction,
    Fulfilment,
    ImeiCheckStatus,
    Order,
    State,
    TradeIn,
)
from workflows.rules.payout_details import PAYOUT_DETAILS, payout_details_need_a_request
from workflows.rules.permissions import Operation
from workflows.rules.permissions import allowed as may
from workflows.selectors.orders import order_size

STATE_COLOURS = {
    State.SUBMITTED: "info",
    State.QUOTED: "warning",
    State.ACCEPTED: "primary",
    State.RECEIVED: "success",
    State.CLOSED: "success",
    State.DECLINED: "danger",
    State.EXPIRED: "danger",
    State.CANCELLED: "danger",
    State.REROUTED: "danger",
    State.REOFFERED: "warning",
    State.RETURNED: "danger",
    State.RECYCLED: "danger",
}
CHECK_COLOURS = {
    ImeiCheckStatus.PENDING: "info",
    ImeiCheckStatus.CLEAN: "success",
    ImeiCheckStatus.FLAGGED: "danger",
    ImeiCheckStatus.UNKNOWN: "warning",
    ImeiCheckStatus.ERROR: "warning",
}


@functools.cache
def _short_fulfilment(language: str | None) -> dict[str, str]:
    # Translated once per language, not once per row of the queue.
    return {Fulfilment.PICKUP: str(_("Drop-off")), Fulfilment.SHIP: str(_("Label"))}


class TradeInDetailsForm(forms.ModelForm):
    """The buyer's details on a device's page. They are its order's (workflows.models.orders),
    so they are form fields of their own, shown with the order's values; Save hands the changed
    ones to trade_in_update_details, which corrects them on the order."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        excluded = set(self._meta.exclude or ())  # the admin's read-only ones
        for name in EDITABLE_DETAILS:
            if name in excluded:
                self.fields.pop(name, None)
            elif name in self.fields and self.instance.order_id:
                self.initial[name] = getattr(self.instance.order, name)


def _unfold_formfield(db_field, **kwargs) -> forms.Field:
    """The admin's own widgets for the order's fields (Django's bare ones have no border, and
    three to a row ran past a 1280 px window)."""
    if db_field.choices:
        kwargs["widget"] = UnfoldAdminSelectWidget
    else:
        kwargs = {**FORMFIELD_OVERRIDES.get(type(db_field), {}), **kwargs}
    return db_field.formfield(**kwargs)


for _fields in (TradeInDetailsForm.base_fields, TradeInDetailsForm.declared_fields):
    _fields.update(
        forms.fields_for_model(
            Order,
            fields=EDITABLE_DETAILS,
            formfield_callback=_unfold_formfield,
            # As the label-retry and payout-details forms word them (was "Address line1").
            labels={"address_line1": _("Street"), "address_line2": _("Apartment, suite")},
        )
    )


@admin.register(TradeIn)
class TradeInAdmin(SavesThroughAnAction, PanelAdmin, NoDeleteAdmin):
    form = TradeInDetailsForm
    list_display = [
        "reference",
        "order_link",
        "age",
        "buyer",
        "device",
        "condition",
        "accessories",
        "imei_badge",
        "state_label",
        "suggested_offer",
        "offer_amount",
        "ships",
    ]
    list_display_links = ["reference"]
    list_filter = [
        ArchiveFilter,
        "state",
        RedFlagFilter,
        MakeFilter,
        "order__fulfilment",
        ("created_at", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = ["=reference", "=imei", "order__buyer_email", "order__buyer_name"]
    search_help_text = _("Reference, IMEI, email or name")
    list_per_page = 50
    show_full_result_count = False
    # The queue is open all day: rows rendered in one pass (backoffice/templatetags/fast_list.py)
    # and a cheap count at scale.
    change_list_template = "backoffice/tradein_changelist.html"
    list_before_template = "backoffice/queue_tabs.html"  # Queue / Archive / Everything
    paginator = EstimatedCountPaginator
    inlines = [QuoteInline, RevisedOfferInline, EventInline]
    actions = ["quote_at_suggested"]
    actions_on_top = True
    change_form_outer_before_template = "backoffice/tradein_workflow.html"
    change_form_template = "backoffice/tradein_change_form.html"
    readonly_fields = [
        "reference",
        "order_link",
        "state",
        "product",
        "screen",
        "body",
        "battery",
        "accessories",
        "imei",
        "imei_status",
        "suggested_offer",
        "offer_amount",
        "payout_method",
        "decline_reason",
        "red_flag_override_reason",
        "red_flag_override_by",
        "created_at",
        "accepted_at",
        "received_at",
    ]
    fieldsets = [
        (
            _("Device"),
            {
                "fields": [
                    ("reference", "order_link", "state"),
                    "product",
                    ("imei", "imei_status"),
                    ("suggested_offer", "offer_amount"),
                    "payout_method",
                ]
            },
        ),
        (
            _("Buyer"),
            {
                "fields": [
                    "buyer_name",
                    ("buyer_email", "buyer_phone"),
                    "fulfilment",
                    "address_line1",
                    "address_line2",
                    ("city", "region", "postcode"),
                    "country",
                ]
            },
        ),
        (
            _("Outcome"),
            {
                "fields": [
                    "decline_reason",
                    ("red_flag_override_reason", "red_flag_override_by"),
                    ("created_at", "accepted_at", "received_at"),
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TradeIn]:
        # The order's size is a subquery of the same row, read off the order index: no query
        # per row of the queue.
        return (
            super()
            .get_queryset(request)
            .select_related("product__device_model__make", "order")
            .annotate(order_size=order_size())
        )

    def get_readonly_fields(self, request: HttpRequest, obj: TradeIn | None = None) -> list[str]:
        # After acceptance the payout details change only by a request a manager approves
        # (the panel's form); the plain form keeps the rest (phone, fulfilment) editable.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and payout_details_need_a_request(obj):
            fields += [f for f in PAYOUT_DETAILS if f not in fields]
        return fields

    ordering = ["queue_rank", "created_at", "id"]  # open work first, oldest first

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # trade-ins come from buyers

    # --- columns ---------------------------------------------------------------------------------
    @display(description=_("Order"), ordering="order__reference")
    def order_link(self, obj: TradeIn) -> str:
        """The order (the buyer's basket) this device came in, linked to its page, and how many
        devices it holds: "TI-000123 · 3 devices"."""
        size = getattr(obj, "order_size", None)
        text = obj.order.reference
        if size:
            text = ngettext("%(ref)s · %(n)d device", "%(ref)s · %(n)d devices", size) % {
                "ref": text,
                "n": size,
            }
        return format_html(
            '<a href="{}" class="text-primary-600 dark:text-primary-500">{}</a>',
            reverse("admin:workflows_order_change", args=[obj.order_id]),
            text,
        )

    @display(description=_("Age"), ordering="created_at")
    def age(self, obj: TradeIn) -> str:
        return timesince(obj.created_at, timezone.now()).split(",")[0]

    @display(description=_("Buyer"), ordering="order__buyer_name")
    def buyer(self, obj: TradeIn) -> str:
        return obj.buyer_name

    @display(description=_("Payout method"))
    def payout_method(self, obj: TradeIn) -> str:
        # Read-only here, the order's: shown by its label, as the order's field would be.
        return obj.get_payout_method_display()

    @display(description=_("Sends by"), ordering="order__fulfilment")
    def ships(self, obj: TradeIn) -> str:
        return _short_fulfilment(get_language())[obj.fulfilment]

    @display(description=_("Device"), ordering="product__device_model__name")
    def device(self, obj: TradeIn) -> str:
        return str(obj.product)

    @display(description=_("Condition"))
    def condition(self, obj: TradeIn) -> str:
        # One line in the queue, clipped; the whole text on hover (title) and when the row
        # has focus (backoffice.css), and always to a screen reader.
        text = escape(" · ".join(choice_label(obj, name) for name in ("screen", "body", "battery")))
        return mark_safe(f'<span class="bo-clip" title="{text}">{text}</span>')  # noqa: S308

    @display(description=_("IMEI check"), ordering="imei_status", label=CHECK_COLOURS)
    def imei_badge(self, obj: TradeIn) -> tuple[str, str]:
        flagged = obj.imei_status == ImeiCheckStatus.FLAGGED
        text = "RED FLAG" if flagged else choice_label(obj, "imei_status")
        if obj.model_mismatch:
            text += " · " + _("model mismatch")
        return obj.imei_status, text

    @display(description=_("State"), ordering="state", label=STATE_COLOURS)
    def state_label(self, obj: TradeIn) -> tuple[str, str]:
        return obj.state, choice_label(obj, "state")

    # --- the label at the counter ---------------------------------------------------------------
    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.label_view)
        return [
            path("<path:object_id>/label.pdf", view, name="workflows_tradein_label"),
            *super().get_urls(),
        ]

    def label_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The shipping label's PDF, to open and print at the counter."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        trade_in = self.get_object(request, object_id)  # None for an id that is not one
        if trade_in is None:
            raise Http404(_("No such trade-in."))
        label = trade_in.labels.filter(voided_at__isnull=True, direction=Direction.TO_SHOP).first()
        if label is None:
            raise Http404(_("No shipping label for this trade-in."))
        if label.erased:
            return HttpResponseGone(LABEL_ERASED, content_type="text/plain; charset=utf-8")
        response = HttpResponse(bytes(label.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="label-{trade_in.reference}.pdf"'
        return response

    # --- bulk work from the queue -----------------------------------------------------------------
    @action(description=_("Quote at the suggested offer"), permissions=["quote"])
    def quote_at_suggested(self, request: HttpRequest, queryset: QuerySet[TradeIn]) -> None:
        """Each selected submission goes through the quote action on its own: one refused row
        (a red flag, no price, already quoted) says why and does not stop the others."""
        sent = 0
        for trade_in in queryset.order_by("created_at"):
            if trade_in.suggested_offer is None:
                messages.error(
                    request, _("%(ref)s: no suggested offer to quote.") % {"ref": trade_in}
                )
                continue
            try:
                actions.trade_in_quote(
                    trade_in=trade_in, actor=request.user, amount=trade_in.suggested_offer
                )
            except DomainError as exc:
                messages.error(request, f"{trade_in}: {exc.message}")
            else:
                sent += 1
        if sent:
            messages.success(
                request,
                ngettext(
                    "%(n)d quote sent at the suggested offer.",
                    "%(n)d quotes sent at the suggested offer.",
                    sent,
                )
                % {"n": sent},
            )

    def has_quote_permission(self, request: HttpRequest) -> bool:
        return may(request.user, Operation.QUOTE)

    # --- the workflow panel above the form -------------------------------------------------------
    panel_url = "workflow"

    def panel_context(self, request: HttpRequest, trade_in: TradeIn) -> dict:
        return tradein_panel.panel_context(request, trade_in)

    def panel_post(self, request: HttpRequest, trade_in: TradeIn, step: str) -> None:
        tradein_panel.post_step(request, trade_in, step)

    def save_action(self, request: HttpRequest, obj: TradeIn, form, change: bool) -> Save | None:
        """Edits go through the action, so the timeline records who changed what."""
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not changes:
            # Say plainly that nothing happened: no "saved" for a click that changed nothing.
            self.message_user(request, _("Nothing to save: the buyer details are unchanged."))
            return None
        return Save(
            actions.trade_in_update_details,
            {"trade_in": obj, "actor": request.user, "changes": changes},
            _("Buyer details saved."),
        )

    def message_user(self, request: HttpRequest, message, *args, **kwargs) -> None:
        # save_model has already said what the action did; not Django's generic "changed".
        if "was changed successfully" not in str(message):
            super().message_user(request, message, *args, **kwargs)
