"""Exports that open right in a spreadsheet: human column headers, a CSV for Excel (UTF-8 with a
byte-order mark), the same rows in the same order in CSV and XLSX, money with two decimals.

The last test converts a shop's export with LibreOffice (headless), as the shop would open it.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from tests.conftest import declared, refresh
from tests.helpers import staff_client
from tests.test_import_export import HEADER
from workflows import actions
from workflows.models import Payout, State
from workflows.rules.inspection import checklist_as_disclosed

CSV_FORMAT, XLSX_FORMAT, EXCEL_CSV_FORMAT = "0", "1", "2"


def export(client, file_format: str, query: str = "") -> bytes:
    response = client.post(
        reverse("admin:workflows_payout_export") + query,
        {"format": file_format, "resource": "0"},
    )
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(body: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.fixture
def revised_to(make_trade_in, staff, drain):
    """An accepted trade-in whose device came in worse: the buyer accepts a revised amount."""

    def build(amount: str, **overrides):
        trade_in = make_trade_in(State.ACCEPTED, **overrides)
        actions.trade_in_intake(
            trade_in=trade_in,
            scanned_imei=trade_in.imei,
            actor=staff,
            checklist={**checklist_as_disclosed(trade_in), "screen": "cracked"},
            outcome="revise",
            grade="C",
            amount=amount,
            notes="Cracked glass",
        )
        drain()
        actions.revised_offer_accept(offer=trade_in.revised_offers.get(), declaration=declared())
        drain()
        return refresh(trade_in)

    return build


@pytest.fixture
def shop(make_trade_in, revised_to):
    """A shop's payouts: an accented name at 195.50, a round amount, an O'Brien."""
    revised_to("195.5", buyer_name="José Müller")
    make_trade_in(State.CLOSED, buyer_name="Zoë O'Brien")
    revised_to("42.10", buyer_name="Ann Smith")
    assert Payout.objects.get(trade_in__order__buyer_name="José Müller").amount == Decimal("195.50")


def test_headers_are_words_and_csv_and_xlsx_list_the_same_rows_in_the_same_order(shop, manager):
    client = staff_client(manager)
    for query in ("", "?o=3", "?o=-2"):  # the list's own order, by amount, by buyer descending
        as_csv = csv_rows(export(client, CSV_FORMAT, query))
        as_xlsx = xlsx_rows(export(client, XLSX_FORMAT, query))
        assert as_csv[0] == as_xlsx[0] == HEADER
        assert [r[0] for r in as_csv[1:]] == [r[0] for r in as_xlsx[1:]], query
        assert [r[1] for r in as_csv[1:]] == [r[1] for r in as_xlsx[1:]], query
        assert len(as_csv) == 4
    by_amount = [Decimal(r[3]) for r in csv_rows(export(client, CSV_FORMAT, "?o=3"))[1:]]
    assert by_amount == sorted(by_amount)


def test_the_csv_for_excel_starts_with_a_byte_order_mark_and_is_otherwise_the_csv(shop, manager):
    client = staff_client(manager)
    plain = export(client, CSV_FORMAT)
    for_excel = export(client, EXCEL_CSV_FORMAT)
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert for_excel == b"\xef\xbb\xbf" + plain
    assert "José Müller" in for_excel.decode("utf-8-sig")
    page = client.get(reverse("admin:workflows_payout_export")).content.decode()
    assert "csv for Excel" in page


def test_xlsx_money_is_a_number_shown_with_two_decimals(shop, manager):
    body = export(staff_client(manager), XLSX_FORMAT)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    amount = HEADER.index("Amount") + 1
    cells = [row[0] for row in sheet.iter_rows(min_row=2, min_col=amount, max_col=amount)]
    assert len(cells) == 3
    for cell in cells:
        assert cell.data_type == "n" and cell.number_format == "0.00"
    assert sorted(cell.value for cell in cells) == [42.1, 195.5, 300]


# --- LibreOffice, as a shop opens the files -------------------------------------------------------
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(
    not SOFFICE and os.environ.get("CI") != "true",
    reason="LibreOffice is missing (.ci/run installs it; CI=true makes this a failure)",
)
def test_a_shops_export_opens_in_libreoffice_with_the_right_numbers_and_accents(
    shop, manager, tmp_path
):
    assert SOFFICE, "CI=true but soffice is missing: .ci/run installs libreoffice-calc-nogui"
    client = staff_client(manager)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "payouts.xlsx").write_bytes(export(client, XLSX_FORMAT))
    (tmp_path / "in" / "excel.csv").write_bytes(export(client, EXCEL_CSV_FORMAT))
    for name in ("payouts.xlsx", "excel.csv"):
        out = tmp_path / name.replace(".", "-")
        # Read as a shop's LibreOffice reads it (a CSV as UTF-8, as its import dialog picks for
        # a file with a byte-order mark), written out as UTF-8 CSV with the cells as shown.
        # A private profile: no clash with another LibreOffice the machine runs.
        infilter = ["--infilter=CSV:44,34,76"] if name.endswith(".csv") else []
        subprocess.run(
            [
                SOFFICE, "--headless", "--norestore",
                f"-env:UserInstallation=file://{tmp_path}/profile", *infilter,
                "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                "--outdir", str(out), str(tmp_path / "in" / name),
            ],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        (converted,) = out.iterdir()
        rows = list(csv.reader(io.StringIO(converted.read_bytes().decode("utf-8"))))
        assert rows[0] == HEADER, name  # no stray byte-order mark in the first header
        by_buyer = {row[1]: row for row in rows[1:]}
        assert set(by_buyer) == {"José Müller", "Zoë O'Brien", "Ann Smith"}, name
        amounts = {buyer: row[HEADER.index("Amount")] for buyer, row in by_buyer.items()}
        assert {b: Decimal(a) for b, a in amounts.items()} == {
            "José Müller": Decimal("195.5"),
            "Zoë O'Brien": Decimal("300"),
            "Ann Smith": Decimal("42.1"),
        }, name
        if name.endswith(".xlsx"):  # shown with two decimals
            assert sorted(amounts.values()) == ["195.50", "300.00", "42.10"]
