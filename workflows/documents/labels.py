"""Unit labels: a 100 × 50 mm sticker per unit with two Code 128 barcodes (the unit's id and
its IMEI, each with its text underneath) and the model, one label per page, for a label printer.

fpdf2 draws Code 39 and Interleaved 2 of 5 only, so python-barcode encodes Code 128 (its
module pattern) and fpdf2 draws the bars as vector rectangles: sharp at any printer resolution.
"""

from __future__ import annotations

from collections.abc import Iterable

from barcode import Code128
from fpdf import FPDF

from workflows.models import Unit

LABEL_SIZE = (100, 50)  # mm
QUIET_ZONE_MODULES = 10  # blank space a scanner needs on each side


def unit_code(unit: Unit) -> str:
    """What the unit-id barcode holds: "U" and the unit's number (not to be taken for an IMEI)."""
    return f"U{unit.pk}"


def code128_modules(text: str) -> str:
    """The Code 128 bars and spaces for `text`, one character per module ("1" = bar)."""
    return "".join(Code128(text, writer=None).build())


def _barcode(pdf: FPDF, text: str, *, y: float, height: float, caption: str) -> None:
    modules = code128_modules(text)
    width_mm = LABEL_SIZE[0] - 8
    module = min(0.5, width_mm / (len(modules) + 2 * QUIET_ZONE_MODULES))
    x = (LABEL_SIZE[0] - module * len(modules)) / 2
    run_start = None
    for i, bit in enumerate(modules + "0"):
        if bit == "1" and run_start is None:
            run_start = i
        elif bit == "0" and run_start is not None:
            pdf.rect(x + run_start * module, y, (i - run_start) * module, height, style="F")
            run_start = None
    pdf.set_font("Helvetica", size=8)
    pdf.set_xy(0, y + height + 0.5)
    pdf.cell(LABEL_SIZE[0], 3.5, caption, align="C")


def unit_labels_pdf(units: Iterable[Unit]) -> bytes:
    """One label per page for each unit."""
    pdf = FPDF(unit="mm", format=LABEL_SIZE)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title("Unit labels")
    pdf.set_fill_color(0, 0, 0)
    for unit in units:
        pdf.add_page()
        grade = f" · grade {unit.grade}" if unit.grade else ""
        pdf.set_font("Helvetica", style="B", size=9)
        pdf.set_xy(0, 2.5)
        # Helvetica is Latin-1: a model name outside it is shown without the odd character.
        title = f"{unit.product}{grade}".encode("latin-1", "replace").decode("latin-1")
        pdf.cell(LABEL_SIZE[0], 4, title, align="C")
        _barcode(pdf, unit_code(unit), y=8, height=11, caption=f"Unit {unit_code(unit)}")
        _barcode(pdf, unit.imei, y=27.5, height=13, caption=f"IMEI {unit.imei}")
        if unit.trade_in_id:
            pdf.set_font("Helvetica", size=6)
            pdf.set_xy(0, 45)
            pdf.cell(LABEL_SIZE[0], 3, f"Trade-in {unit.trade_in.reference}", align="C")
    return bytes(pdf.output())
