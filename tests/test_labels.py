"""Unit labels (issue 22): a Code 128 barcode of the unit's id and of its IMEI, each with its
text underneath, and the model; from the unit page, the units list and the intake bench."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import intake_data, staff_client
from workflows.documents.labels import unit_code
from workflows.models import State

LABELS = "/dashboard/labels/"
TOOLS = shutil.which("pdftoppm") and shutil.which("zbarimg") and shutil.which("pdftotext")
needs_tools = pytest.mark.skipif(
    not TOOLS and not os.getenv("CI"),
    reason="zbar-tools and poppler-utils are not installed (.ci/run installs them)",
)


def decode(pdf: bytes, tmp_path: Path) -> tuple[list[str], str]:
    """The barcodes zbar reads from the PDF rendered at 300 dpi, and the PDF's text."""
    (tmp_path / "labels.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "300", "-png", tmp_path / "labels.pdf", tmp_path / "page"], check=True
    )
    codes = []
    for page in sorted(tmp_path.glob("page*.png")):
        out = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Scode128.enable", page],
            capture_output=True,
            text=True,
            check=True,
        )
        codes += out.stdout.split()
    text = subprocess.run(
        ["pdftotext", "-layout", tmp_path / "labels.pdf", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return codes, text


@needs_tools
def test_it_prints_a_label_from_the_unit_page_that_scans_back(make_trade_in, staff, tmp_path):
    unit = make_trade_in(State.RECEIVED).unit
    client = staff_client(staff)
    page = client.get(f"/dashboard/units/{unit.pk}/change/").content.decode()
    assert f'href="{LABELS}?unit={unit.pk}"' in page and "Print label" in page
    response = client.get(LABELS, {"unit": unit.pk})
    assert response["Content-Type"] == "application/pdf"
    codes, text = decode(response.content, tmp_path)
    assert sorted(codes) == sorted([unit_code(unit), unit.imei])
    assert f"Unit {unit_code(unit)}" in text and f"IMEI {unit.imei}" in text
    assert str(unit.product) in text and "grade B" in text


@needs_tools
def test_it_prints_labels_in_bulk_from_the_units_list(make_trade_in, staff, tmp_path):
    units = [make_trade_in(State.RECEIVED).unit for _ in range(3)]
    response = staff_client(staff).post(
        "/dashboard/units/",
        {"action": "print_labels", "_selected_action": [u.pk for u in units]},
    )
    assert response["Content-Type"] == "application/pdf"
    codes, text = decode(response.content, tmp_path)
    assert sorted(codes) == sorted([unit_code(u) for u in units] + [u.imei for u in units])
    assert text.count("\f") == 3  # one label per page


def test_the_intake_bench_offers_the_label_right_after_receiving(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    client = staff_client(staff)
    response = client.post("/dashboard/intake/", intake_data(trade_in), follow=True)
    unit = trade_in.unit
    page = response.content.decode()
    assert f'{LABELS}?unit={unit.pk}"' in page and "Print label" in page
    assert client.get(LABELS, {"unit": unit.pk})["Content-Type"] == "application/pdf"


def test_the_intake_bench_prints_the_days_labels_in_one_go(make_trade_in, staff):
    first, second = make_trade_in(State.ACCEPTED), make_trade_in(State.ACCEPTED)
    client = staff_client(staff)
    for trade_in in (first, second):
        client.post("/dashboard/intake/", intake_data(trade_in))
    page = client.get("/dashboard/intake/").content.decode()
    link = f"{LABELS}?unit={first.unit.pk}&amp;unit={second.unit.pk}"
    assert link in page and "Print the labels of the 2 units received today" in page


def test_only_staff_with_unit_access_print_labels(make_trade_in, client):
    unit = make_trade_in(State.RECEIVED).unit
    assert client.get(LABELS, {"unit": unit.pk}).status_code == 302  # to the sign-in page
