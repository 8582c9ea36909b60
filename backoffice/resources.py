"""django-import-export resources: the payouts export for accounting and the price-list import."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from import_export import fields, resources

from workflows.models import ConditionDeduction, Payout, Product


class PayoutResource(resources.ModelResource):
    """One row per payout, as accounting wants it. Export only."""

    reference = fields.Field(attribute="trade_in__reference", column_name="reference")
    buyer = fields.Field(attribute="trade_in__buyer_name", column_name="buyer")
    email = fields.Field(attribute="trade_in__buyer_email", column_name="email")
    amount = fields.Field(attribute="amount", column_name="amount")
    currency = fields.Field(attribute="currency", column_name="currency")
    method = fields.Field(attribute="method", column_name="method")
    status = fields.Field(attribute="status", column_name="status")
    created = fields.Field(attribute="created_at", column_name="created")
    settled = fields.Field(attribute="settled_at", column_name="settled")
    settlement_reference = fields.Field(attribute="settlement_reference",
                                        column_name="settlement_reference")

    class Meta:
        model = Payout
        fields = ["reference", "buyer", "email", "amount", "currency", "method", "status",
                  "created", "settled", "settlement_reference"]
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        # One query for the trade-in columns, not one per row.
        return super().filter_export(queryset, **kwargs).select_related("trade_in")

    def stream_csv(self, queryset: QuerySet[Payout]) -> Iterator[str]:
        """The same columns as export(), streamed from a database cursor.

        tablib builds the whole sheet in memory and formats each cell through a widget;
        accounting exports every payout of a year at once, so CSV skips both: memory stays
        flat and rows go out as fast as the database sends them.
        """
        fields = self.get_export_fields()
        out = _Echo()
        writer = csv.writer(out)
        yield writer.writerow([field.column_name for field in fields])
        rows = queryset.order_by().values_list(*[field.attribute for field in fields])
        tz = timezone.get_current_timezone()
        for row in rows.iterator(chunk_size=2000):
            yield writer.writerow([_cell(value, tz) for value in row])


class _Echo:
    """csv.writer writes each row here, and we hand it straight on."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object, tz) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    return value


class ProductPriceResource(resources.ModelResource):
    """The base price list, matched by SKU. Unknown SKUs are errors, never new products."""

    class Meta:
        model = Product
        import_id_fields = ["sku"]
        fields = ["sku", "base_price"]
        export_order = ["sku", "base_price"]
        skip_unchanged = True
        report_skipped = False
        clean_model_instances = True

    def init_instance(self, row=None):
        raise ValidationError(
            f"Unknown SKU {row.get('sku')!r}: add the product to the catalog first."
        )


class ConditionDeductionResource(resources.ModelResource):
    """The percentage each condition answer takes off, matched by question and answer."""

    class Meta:
        model = ConditionDeduction
        import_id_fields = ["question", "answer"]
        fields = ["question", "answer", "percent"]
        export_order = fields
        skip_unchanged = True
        clean_model_instances = True

    def init_instance(self, row=None):
        raise ValidationError(
            f"Unknown answer {row.get('question')}={row.get('answer')}: "
            "the questionnaire's answers are fixed."
        )
