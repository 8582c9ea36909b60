"""django-import-export resources: the payouts export for accounting and the price-list import,
and the file formats that open right in a spreadsheet (ExcelCSV, SpreadsheetXLSX)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from io import BytesIO

import openpyxl
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import CharField, DateTimeField, F, Func, QuerySet, TextField
from django.utils import timezone
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.formats.base_formats import CSV, XLSX

from workflows.formatting import FORMULA_PATTERN, neutralise
from workflows.models import ConditionDeduction, Payout, Product

# Local time, to the second: what an accountant's spreadsheet expects.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

# A cell a spreadsheet would run as a formula gets a leading apostrophe: the rule and its pattern
# are workflows.formatting's (the police report's CSV follows the same one). The same pattern runs
# in PostgreSQL for the COPY export, so both paths write the same bytes.

# What the streamed CSV hands on at a time (COPY's rows are joined up to this size).
CHUNK_BYTES = 64 * 1024

# A byte-order mark: Excel reads a CSV that starts with it as UTF-8 (else as the PC's code page,
# and "José Müller" arrives as "JosÃ© MÃ¼ller"). LibreOffice and Python's utf-8-sig skip it.
BOM = "\ufeff"


class MoneyWidget(widgets.DecimalWidget):
    """An amount: a number in the XLSX, shown with two decimals (SpreadsheetXLSX)."""


class SafeExportResource(resources.ModelResource):
    """Every export of every resource goes through export_field: text cells are neutralised."""

    def export_field(self, field, instance, **kwargs):
        return neutralise(super().export_field(field, instance, **kwargs))

    def export(self, *args, **kwargs):
        dataset = super().export(*args, **kwargs)
        # Read by SpreadsheetXLSX: which columns are money.
        dataset.money_columns = [
            f.column_name for f in self.get_export_fields() if isinstance(f.widget, MoneyWidget)
        ]
        return dataset


class ExcelCSV(CSV):
    """The CSV with a byte-order mark first, for Excel (accents stay accents). Streamed like the
    plain CSV where an admin streams (PayoutAdmin)."""

    def get_title(self):
        return "csv for Excel"

    def export_data(self, dataset, **kwargs):
        return BOM + dataset.export("csv", **kwargs)

    def can_import(self):
        return False


class SpreadsheetXLSX(XLSX):
    """XLSX whose money cells show two decimals (number format 0.00), still numbers."""

    def export_data(self, dataset, **kwargs):
        data = super().export_data(dataset, **kwargs)
        money = getattr(dataset, "money_columns", [])
        if not money or not dataset.headers:
            return data
        book = openpyxl.load_workbook(BytesIO(data))
        sheet = book.active
        for index, header in enumerate(dataset.headers, start=1):
            if header in money:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "0.00"
        out = BytesIO()
        book.save(out)
        return out.getvalue()


# import-export keeps numbers and dates native only for the formats listed here (by exact type).
base_formats.BINARY_FORMATS.append(SpreadsheetXLSX)


class PayoutResource(SafeExportResource):
    """One row per payout, as accounting wants it. Export only."""

    reference = fields.Field(attribute="trade_in__reference", column_name="Trade-in")
    # The order (the buyer's box) the device came in: one payout row per device, grouped by it.
    order = fields.Field(attribute="trade_in__order__reference", column_name="Order")
    buyer = fields.Field(attribute="trade_in__order__buyer_name", column_name="Buyer")
    email = fields.Field(attribute="trade_in__order__buyer_email", column_name="Email")
    # A number: in the XLSX the amounts add up, shown with two decimals.
    amount = fields.Field(attribute="amount", column_name="Amount", widget=MoneyWidget())
    currency = fields.Field(attribute="currency", column_name="Currency")
    method = fields.Field(attribute="method", column_name="Method")
    status = fields.Field(attribute="status", column_name="Status")
    created = fields.Field(
        attribute="created_at",
        column_name="Created",
        widget=widgets.DateTimeWidget(TIMESTAMP_FORMAT),
    )
    settled = fields.Field(
        attribute="settled_at",
        column_name="Settled",
        widget=widgets.DateTimeWidget(TIMESTAMP_FORMAT),
    )
    settlement_reference = fields.Field(
        attribute="settlement_reference", column_name="Settlement reference"
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
            # Last, so the columns accounting's sheets already read stay where they were.
            "order",
        ]
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        # One query for the trade-in columns, not one per row.
        return super().filter_export(queryset, **kwargs).select_related("trade_in__order")

    def stream_csv(self, queryset: QuerySet[Payout], *, bom: bool = False) -> Iterator[str]:
        """The same columns and rows, in the same order, as export(), streamed from a database
        cursor (with a byte-order mark first for Excel when `bom`).

        tablib builds the whole sheet in memory and formats each cell through a widget;
        accounting exports every payout of a year at once, so CSV skips both: memory stays
        flat. On PostgreSQL the filtered query runs through COPY, which formats the rows in
        the database instead of turning each value into a Python object and back.
        """
        fields = self.get_export_fields()
        writer = csv.writer(_Echo())
        yield (BOM if bom else "") + writer.writerow([field.column_name for field in fields])
        columns = [_column(queryset.model, field.attribute) for field in fields]
        # The queryset's own order (the list's sort, which export() keeps too), else by id.
        rows = (queryset if queryset.ordered else queryset.order_by("pk")).values_list(*columns)
        if connection.vendor == "postgresql":
            yield from _copy_csv(rows)
            return
        tz = timezone.get_current_timezone()
        lines = []
        for row in rows.iterator(chunk_size=2000):
            lines.append(writer.writerow([_cell(value, tz) for value in row]))
            if len(lines) == 500:  # ~64 KB
                yield "".join(lines)
                lines = []
        if lines:
            yield "".join(lines)


class LocalTimestamp(Func):
    """A timestamp as YYYY-MM-DD HH:MM:SS in the shop's time zone, formatted by PostgreSQL."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        # Cut to the second and printed as text: the same as to_char(…, 'YYYY-MM-DD
        # HH24:MI:SS') at half its cost, which a 100k-row export feels. (Printed in the ISO
        # DateStyle, PostgreSQL's default, which psycopg needs anyway to read any timestamp.)
        sql, params = compiler.compile(self.source_expressions[0])
        zone = timezone.get_current_timezone_name()
        return f"date_trunc('second', {sql} AT TIME ZONE %s)::text", [*params, zone]

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])  # formatted in Python (_cell)


class FormulaSafe(Func):
    """neutralise() in SQL, for the COPY export (the Python writer calls neutralise())."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"CASE WHEN {sql} ~ %s THEN '''' || {sql} ELSE {sql} END",
            [*params, FORMULA_PATTERN, *params, *params],
        )

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])


def _column(model, path: str) -> F | Func:
    field = model._meta.get_field(path.split("__")[0])
    for part in path.split("__")[1:]:
        field = field.related_model._meta.get_field(part)
    if isinstance(field, DateTimeField):
        return LocalTimestamp(F(path))
    if isinstance(field, CharField | TextField) and field.editable and not field.choices:
        # Text a person typed (a name, an email, a settlement reference). A choice is one of
        # our own values and a field nobody edits (the reference) is ours too: neither can
        # start a formula, and the guard's regex costs the database a pass over each cell.
        return FormulaSafe(F(path))
    return F(path)


def _copy_csv(rows: QuerySet) -> Iterator[str]:
    sql, params = rows.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # Rows in the list's order as they are found (an index on the order, then the join),
        # rather than all of them joined and sorted before the first goes out: the database
        # and Python then work side by side. Only where no index gives the order is it sorted.
        cursor.execute("SET LOCAL enable_sort = off")
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        select = raw.mogrify(sql, params)  # COPY cannot take bound parameters
        with raw.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)") as copy:
            # COPY hands over one row at a time: passed on in pieces of ~64 KB, not 100,000
            # pieces of ~100 bytes (each one a write to the client's socket).
            rows, size = [], 0
            for block in copy:
                rows.append(block)
                size += len(block)
                if size >= CHUNK_BYTES:
                    yield b"".join(rows).decode()
                    rows, size = [], 0
            if rows:
                yield b"".join(rows).decode()
        # Nothing was written: rolling back ends the SET LOCAL, also inside a caller's
        # transaction (where this block is a savepoint).
        transaction.set_rollback(True)


class _Echo:
    """csv.writer writes each row here, and we hand it straight on."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object, tz) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime(TIMESTAMP_FORMAT)
    return neutralise(value)


class ProductPriceResource(SafeExportResource):
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


class ConditionDeductionResource(SafeExportResource):
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
