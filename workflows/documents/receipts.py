"""The purchase receipt: one PDF per purchase, printed by staff and emailed to the buyer.

It is the written record a second-hand dealer keeps: the shop, the seller, the device with its
IMEI, the price and the declaration the seller made, word for word.
"""

from __future__ import annotations

import io
import unicodedata

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

from workflows.formatting import money
from workflows.models import Declaration, TradeIn
from workflows.rules.compliance import identity_of

# The core PDF fonts speak Latin-1; typographic quotes and dashes have plain equivalents.
_PLAIN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "•": "*"})


def _text(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value)).translate(_PLAIN)
    return text.encode("latin-1", "replace").decode("latin-1")


def receipt_filename(trade_in: TradeIn) -> str:
    return f"purchase-receipt-{trade_in.reference or trade_in.pk}.pdf"


def purchase_receipt_pdf(trade_in: TradeIn) -> bytes:
    """The receipt of an accepted trade-in, as PDF bytes. The ID number is shown masked."""
    quote = trade_in.quotes.filter(responded_at__isnull=False).order_by("-responded_at").first()
    payout = getattr(trade_in, "payout", None)
    price = payout.amount if payout is not None else (quote.amount if quote else None)
    declaration = Declaration.objects.filter(trade_in=trade_in).first()
    identity = identity_of(trade_in)
    unit = getattr(trade_in, "unit", None)

    pdf = FPDF(unit="mm", format="Letter")
    # Uncompressed: one page of text is a few KB either way, and the text stays searchable
    # (by a records clerk's tools, and by the tests).
    pdf.set_compression(False)
    pdf.set_title(f"Purchase receipt {trade_in.reference}")
    pdf.set_author(settings.SITE_NAME)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _text(settings.SITE_NAME), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 5, _text(settings.SHOP_ADDRESS), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _text(f"Purchase receipt {trade_in.reference}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    when = trade_in.accepted_at or timezone.now()
    pdf.cell(
        0,
        5,
        _text(f"Offer accepted {timezone.localtime(when):%Y-%m-%d %H:%M %Z}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )

    def section(title: str, rows: list[tuple[str, object]]) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, _text(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(200, 200, 200)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(1)
        for label, value in rows:
            pdf.set_font("Helvetica", "", 9)
            pdf.cell(45, 6, _text(label))
            pdf.set_font("Helvetica", "B" if label in ("IMEI", "Price") else "", 10)
            shown = _text(value if value not in (None, "") else "-")
            pdf.multi_cell(0, 6, shown, new_x="LMARGIN", new_y="NEXT")

    seller = [
        ("Name", trade_in.buyer_name),
        ("Address", ", ".join(trade_in.address_lines) or "(drop-off, no address given)"),
        ("Email", trade_in.buyer_email),
        ("Phone", trade_in.buyer_phone),
    ]
    if identity is not None:
        seller += [
            ("Photo ID", f"{identity.get_id_type_display()} {identity.masked_number}"),
            ("Issued by", identity.issuer),
            ("ID expires", f"{identity.expires_on:%Y-%m-%d}" if identity.expires_on else ""),
        ]
    section("Seller", seller)
    section(
        "Device",
        [
            ("Make and model", trade_in.product),
            ("IMEI", trade_in.imei),
            ("Condition as declared", " / ".join(str(a) for _, a in trade_in.condition_answers())),
            ("Grade on intake", unit.get_grade_display() if unit and unit.grade else "not yet"),
        ],
    )
    section(
        "Price",
        [
            (
                "Price",
                money(price),
            ),
            ("Paid by", trade_in.get_payout_method_display()),
        ],
    )
    if declaration is not None:
        made = timezone.localtime(declaration.made_at)
        section(
            "Seller's declaration",
            [
                ("Declared", f'"{declaration.wording}"'),
                (
                    "Confirmed",
                    f"{made:%Y-%m-%d %H:%M %Z}"
                    + (f" from {declaration.ip}" if declaration.ip else ""),
                ),
            ],
        )
        signature = getattr(declaration, "counter_signature", None)
        if signature is not None:  # signed at the counter: the drawing, beside the wording
            pdf.set_font("Helvetica", "", 9)
            pdf.cell(45, 6, "Signature")
            width = 60
            pdf.image(
                io.BytesIO(bytes(signature.png)),
                x=pdf.get_x(),
                y=pdf.get_y(),
                w=width,
                h=width * signature.height / signature.width,
            )
            pdf.ln(width * signature.height / signature.width + 2)
    pdf.ln(6)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(
        0,
        4,
        _text(
            "Keep this receipt. The shop keeps this record for "
            f"{settings.RETENTION_DAYS} days as the law requires."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
