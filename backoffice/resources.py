"""django-import-export resources: the payouts export for accounting and the price-list import."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import CharField, DateTimeField, F, Func, QuerySet
from django.utils import timezone
from import_export import fields, resources, widgets

from workflows.models import ConditionDeduction, Payout, Product

# Local time, to the second: what an accountant's spreadsheet expects.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


class PayoutResource(resources.ModelResource):
    """One row per payout, as accounting wants it. Export only."""

    reference = fields.Field(attribute="trade_in__reference", column_name="reference")
    buyer = fields.Field(attribute="trade_in__buyer_name", column_name="buyer")
    email = fields.Field(attribute="trade_in__buyer_email", column_name="email")
    amount = fields.Field(attribute="amount", column_name="amount")
    currency = fields.Field(attribute="currency", column_name="currency")
    method = fields.Field(attribute="method", column_name="method")
    status = fields.Field(attribute="status", column_name="status")
    created = fields.Field(
        attribute="created_at",
        column_name="created",
        widget=widgets.DateTimeWidget(TIMESTAMP_FORMAT),
    )
    settled = fields.Field(
        attribute="settled_at",
        column_name="settled",
        widget=widgets.DateTimeWidget(TIMESTAMP_FORMAT),
    )
    settlement_reference = fields.Field(
        attribute="settlement_reference", column_name="settlement_reference"
    )

    class Meta:
        model = Payout
        fields = [
            "reference",
            "buyer",
            "email",
            "amount",
            "currency",
            "method",
            "status",
            "created",
            "settled",
            "settlement_reference",
        ]
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        # One query for the trade-in columns, not one per row.
        return super().filter_export(queryset, **kwargs).select_related("trade_in")

    def stream_csv(self, queryset: QuerySet[Payout]) -> Iterator[str]:
        """The same columns as export(), streamed from a database cursor.

        tablib builds the whole sheet in memory and formats each cell through a widget;
        accounting exports every payout of a year at once, so CSV skips both: memory stays
        flat. On PostgreSQL the filtered query runs through COPY, which formats the rows in
        the database instead of turning each value into a Python object and back.
        """
        fields = self.get_export_fields()
        writer = csv.writer(_Echo())
        yield writer.writerow([field.column_name for field in fields])
        columns = [_column(queryset.model, field.attribute) for field in fields]
        rows = queryset.order_by().values_list(*columns)
        if connection.vendor == "postgresql":
            yield from _copy_csv(rows)
            return
        tz = timezone.get_current_timezone()
        for row in rows.iterator(chunk_size=2000):
            yield writer.writerow([_cell(value, tz) for value in row])


class LocalTimestamp(Func):
    """A timestamp as YYYY-MM-DD HH:MM:SS in the shop's time zone, formatted by PostgreSQL."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        zone = timezone.get_current_timezone_name()
        return f"to_char({sql} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')", [*params, zone]

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])  # formatted in Python (_cell)


def _column(model, path: str) -> F | LocalTimestamp:
    field = model._meta.get_field(path.split("__")[0])
    for part in path.split("__")[1:]:
        field = field.related_model._meta.get_field(part)
    return LocalTimestamp(F(path)) if isinstance(field, DateTimeField) else F(path)


def _copy_csv(rows: QuerySet) -> Iterator[str]:
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        select = raw.mogrify(sql, params)  # COPY cannot take bound parameters
        with raw.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)") as copy:
            for block in copy:
                yield bytes(block).decode()


class _Echo:
    """csv.writer writes each row here, and we hand it straight on."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object, tz) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime(TIMESTAMP_FORMAT)
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
