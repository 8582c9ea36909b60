"""The trade-in queue's filters (Queue / Archive / Everything, IMEI check, make) and the
read-only history tables under a trade-in's page (quotes, revised offers, timeline)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from backoffice.admin.base import ReadOnlyInline
from workflows.models import (
    ARCHIVED_STATES,
    Event,
    ImeiCheckStatus,
    Make,
    Quote,
    RevisedOffer,
    TradeIn,
)


class QuoteInline(ReadOnlyInline):
    model = Quote
    fields = [
        "created_at",
        "amount",
        "currency",
        "valid_until",
        "note",
        "sent_by",
        "auto_quoted",
        "responded_at",
    ]
    readonly_fields = fields
    verbose_name_plural = _("Quote history")


class EventInline(ReadOnlyInline):
    model = Event
    fields = ["created_at", "who", "kind", "from_state_label", "to_state_label", "note"]
    readonly_fields = fields
    verbose_name_plural = _("Timeline")
    ordering = ["created_at", "pk"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("Who"))
    def who(self, event: Event) -> str:
        return event.who

    @admin.display(description=_("From state"))
    def from_state_label(self, event: Event) -> str:
        return event.from_state_label

    @admin.display(description=_("To state"))
    def to_state_label(self, event: Event) -> str:
        return event.to_state_label


class RevisedOfferInline(ReadOnlyInline):
    model = RevisedOffer
    fields = [
        "created_at",
        "amount",
        "original_amount",
        "grade",
        "status",
        "answered_by",
        "respond_by",
        "sent_by",
    ]
    readonly_fields = fields
    verbose_name_plural = _("Revised offers")


class ArchiveFilter(admin.SimpleListFilter):
    """The queue shows work in progress; finished trade-ins (declined, expired, cancelled,
    returned, recycled, closed) are in the Archive, each with its decline reason."""

    title = _("view")
    parameter_name = "view"
    template = "backoffice/queue_view_kept.html"  # shown as tabs above the list

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [("archive", _("Archive")), ("all", _("Everything"))]

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == _("All"):  # no value: the queue itself
                choice["display"] = _("Queue")
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet[TradeIn]) -> QuerySet[TradeIn]:
        if self.value() == "archive":
            return queryset.filter(state__in=ARCHIVED_STATES)
        if self.value() == "all" or "state__exact" in request.GET:
            return queryset  # a state picked by hand is shown wherever it lives
        return queryset.filter(queue_rank=0)  # workflows.models.QUEUE_STATES


class RedFlagFilter(admin.SimpleListFilter):
    title = _("IMEI check")
    parameter_name = "imei"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return ImeiCheckStatus.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[TradeIn]) -> QuerySet[TradeIn]:
        if self.value():
            return queryset.filter(imei_status=self.value())
        return queryset


class MakeFilter(admin.SimpleListFilter):
    """Lists the makes from the small catalog table, not by scanning every trade-in."""

    title = _("make")
    parameter_name = "make"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return Make.objects.values_list("slug", "name")

    def queryset(self, request: HttpRequest, queryset: QuerySet[TradeIn]) -> QuerySet[TradeIn]:
        if self.value():
            return queryset.filter(product__device_model__make__slug=self.value())
        return queryset
