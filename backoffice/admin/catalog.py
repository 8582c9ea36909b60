from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from backoffice.admin.base import FilteredExportAdmin, ReadOnlyInline
from backoffice.resources import ConditionDeductionResource, ProductPriceResource
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


class PriceListAdmin(FilteredExportAdmin, ImportExportModelAdmin):
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
