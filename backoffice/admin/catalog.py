from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from backoffice.admin.base import (
    FilteredExportAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    Save,
    SavesThroughAnAction,
)
from backoffice.admin.units import held
from backoffice.resources import ConditionDeductionResource, ProductPriceResource
from workflows import actions
from workflows.errors import DomainError
from workflows.models import (
    BlockedImei,
    BlockedImeiChange,
    ConditionDeduction,
    DeviceModel,
    Make,
    Product,
    Unit,
    UnitStatus,
)
from workflows.rules.parsers import normalize_imei


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
    fields = ["imei", "status_shown", "grade", "trade_in", "created_at"]
    readonly_fields = fields

    @admin.display(description="Status")
    def status_shown(self, unit: Unit) -> str:
        # A held unit says so here too, not "Graded, sellable" (backoffice.admin.units.held).
        return held(unit) or unit.get_status_display()

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
    list_display = ["question", "answer_label", "percent"]
    list_editable = ["percent"]
    list_filter = ["question"]

    @admin.display(description=_("Answer"), ordering="answer")
    def answer_label(self, row: ConditionDeduction) -> str:
        return row.answer_label

    def get_changelist_form(self, request: HttpRequest, **kwargs):
        """Each row's percent field is named by its row: a screen reader says which answer
        it changes (the column header alone is not a label)."""
        base = super().get_changelist_form(request, **kwargs)

        class LabelledRow(base):
            def __init__(self, *args, **kw) -> None:
                super().__init__(*args, **kw)
                row = self.instance
                self.fields["percent"].widget.attrs["aria-label"] = (
                    f"{_('Percent off')}: {row.get_question_display()}, {row.answer_label}"
                )

        return LabelledRow


class BlockedImeiForm(forms.ModelForm):
    imei = forms.CharField(label="IMEI", max_length=40)  # typed with spaces or dashes

    class Meta:
        model = BlockedImei
        fields = ["imei", "reason", "note"]

    def clean_imei(self) -> str:
        try:
            return normalize_imei(self.cleaned_data["imei"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(BlockedImei)
class BlockedImeiAdmin(SavesThroughAnAction, ModelAdmin):
    """Staff add entries; only managers change or remove them. Every write is an action that
    leaves a `BlockedImeiChange` row (the permissions are checked there too)."""

    form = BlockedImeiForm
    list_display = ["imei", "reason", "note", "created_at"]
    list_filter = ["reason"]
    search_fields = ["=imei"]
    fields = ["imei", "reason", "note"]

    def get_readonly_fields(self, request: HttpRequest, obj: BlockedImei | None = None):
        return ["imei"] if obj is not None else []

    def save_action(self, request: HttpRequest, obj: BlockedImei, form, change: bool) -> Save:
        data = {"reason": form.cleaned_data["reason"], "note": form.cleaned_data["note"]}
        if change:
            return Save(actions.blocked_imei_change, {"entry": obj, "actor": request.user, **data})
        # A refusal (e.g. added by somebody else a moment ago) shows the form again, saying so.
        return Save(
            actions.blocked_imei_add,
            {"actor": request.user, "imei": form.cleaned_data["imei"], **data},
        )

    def delete_action(self, request: HttpRequest, obj: BlockedImei) -> Save:
        return Save(actions.blocked_imei_remove, {"entry": obj, "actor": request.user})

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[BlockedImei]) -> None:
        for entry in queryset:
            actions.blocked_imei_remove(entry=entry, actor=request.user)


@admin.register(BlockedImeiChange)
class BlockedImeiChangeAdmin(ReadOnlyAdmin):
    """The blocklist's audit trail, written only by the blocklist actions."""

    list_display = ["created_at", "imei", "kind", "actor", "before", "after", "note"]
    list_filter = ["kind"]
    search_fields = ["=imei"]
    list_select_related = ["actor"]
