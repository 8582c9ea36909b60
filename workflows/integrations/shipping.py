"""Shipping labels. The sample provider draws a PDF marked SAMPLE; no carrier is involved."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from fpdf import FPDF

from workflows.models import TradeIn


@dataclass(frozen=True)
class Label:
    label_id: str
    tracking_number: str
    carrier: str
    pdf: bytes


class ShippingProvider(Protocol):
    name: str
    is_demo: bool

    def create_label(self, trade_in: TradeIn, *, idempotency_key: str) -> Label: ...

    def void_label(self, label_id: str) -> None: ...


class SampleShippingProvider:
    name = "sample"
    is_demo = True

    def create_label(self, trade_in: TradeIn, *, idempotency_key: str) -> Label:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
        tracking = f"SAMPLE{digest}"
        return Label(
            label_id=f"sample-{digest.lower()}",
            tracking_number=tracking,
            carrier="sample",
            pdf=_sample_pdf(trade_in, tracking),
        )

    def void_label(self, label_id: str) -> None:
        return None


def _sample_pdf(trade_in: TradeIn, tracking: str) -> bytes:
    pdf = FPDF(unit="mm", format=(101.6, 152.4))  # a 4x6 inch label
    pdf.set_title("SAMPLE shipping label - not valid for carriage")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 40)
    pdf.set_text_color(200, 0, 0)
    pdf.cell(0, 16, "SAMPLE", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 6, "NOT A REAL SHIPPING LABEL - demo provider", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "FROM", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in [trade_in.buyer_name, *trade_in.address_lines]:
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "TO", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in [settings.SITE_NAME, settings.SHOP_ADDRESS]:
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, f"Ref {trade_in.reference}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"Tracking {tracking}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The built-in PDF fonts are Latin-1; a name in another script still prints legibly enough.
    return text.encode("latin-1", "replace").decode("latin-1")


def get_provider() -> ShippingProvider:
    return SampleShippingProvider()
