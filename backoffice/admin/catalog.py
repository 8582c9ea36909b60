from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import display

from backoffice.admin.base import ReadOnlyInline, SavesThroughAnAction, call_action
from backoffice.resources import ConditionDeductionResource, ProductPriceResource
from workflows.actions import unit_regrade
from workflows.models import (
    BlockedImei,
    ConditionDeduction,
    DeviceModel,
    Make,
    Product,
    Unit,
    UnitStatus,
)


@admin.register(Make)
class MakeAdmin(ModelAdmin):
    list_display = ["name", "slug", "sort_order"]
    prepopulated_fields = {"slug": ["name"]}


class ProductInline(TabularInline):
    model = Product
    fields = ["storage_gb", "sku", "base_price", "stock"]
    readonly_fields = ["stock"]
    extra = 0


@admin.register(DeviceModel)
class DeviceModelAdmin(ModelAdmin):
    list_display = ["__str__", "release_year", "weight_grams", "is_active"]
    list_filter = ["make", "is_active", "release_year"]
    search_fields = ["name", "make__name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ProductInline]
    list_select_related = ["make"]


class UnitInline(ReadOnlyInline):
    model = Unit
    fields = ["imei", "status", "grade", "trade_in", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Unit]:
        return (
            super().get_queryset(request).select_related("trade_in").exclude(status=UnitStatus.VOID)
        )


class PriceListAdmin(ModelAdmin, ImportExportModelAdmin):
    """Managers own prices: they edit them here or import a CSV, with preview and errors."""

    import_form_class = ImportForm
    export_form_class = ExportForm
    formats = [CSV, XLSX]

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)


@admin.register(Product)
class ProductAdmin(PriceListAdmin):
    resource_classes = [ProductPriceResource]
    list_display = ["__str__", "sku", "base_price", "stock"]
    list_filter = ["device_model__make"]
    search_fields = ["sku", "device_model__name", "device_model__make__name"]
    list_select_related = ["device_model__make"]
    # Stock moves only through the trade-in actions, so it always matches the units.
    readonly_fields = ["stock"]
    inlines = [UnitInline]
    list_per_page = 50


@admin.register(Unit)
class UnitAdmin(SavesThroughAnAction):
    list_display = ["imei", "product", "status_label", "grade", "trade_in", "created_at"]
    list_filter = ["status", "grade", "product__device_model__make"]
    search_fields = ["=imei", "trade_in__reference"]
    list_select_related = ["product__device_model__make", "trade_in"]
    readonly_fields = [
        "product",
        "imei",
        "status",
        "trade_in",
        "as_found",
        "created_at",
        "graded_at",
    ]
    fields = [
        "product",
        "imei",
        "status",
        "grade",
        "trade_in",
        "as_found",
        "intake_notes",
        "created_at",
        "graded_at",
    ]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # units are created when a buyer accepts

    def get_readonly_fields(self, request: HttpRequest, obj: Unit | None = None) -> list[str]:
        if obj is not None and obj.status != UnitStatus.GRADED:
            return [*self.readonly_fields, "grade", "intake_notes"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Unit, form, change: bool) -> None:
        call_action(
            request,
            unit_regrade,
            unit=obj,
            actor=request.user,
            grade=form.cleaned_data["grade"],
            notes=form.cleaned_data["intake_notes"],
            success=_("Grade saved."),
        )

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @display(
        description="Status",
        ordering="status",
        label={
            UnitStatus.RECEIVED: "info",
            UnitStatus.GRADED: "success",
            UnitStatus.RETURNS: "warning",
            UnitStatus.VOID: "danger",
        },
    )
    def status_label(self, obj: Unit) -> tuple[str, str]:
        return obj.status, obj.get_status_display()


@admin.register(ConditionDeduction)
class ConditionDeductionAdmin(PriceListAdmin):
    resource_classes = [ConditionDeductionResource]
    list_display = ["question", "answer", "percent"]
    list_editable = ["percent"]
    list_filter = ["question"]


@admin.register(BlockedImei)
class BlockedImeiAdmin(ModelAdmin):
    list_display = ["imei", "reason", "note", "created_at"]
    list_filter = ["reason"]
    search_fields = ["=imei"]
    fields = ["imei", "reason", "note"]
