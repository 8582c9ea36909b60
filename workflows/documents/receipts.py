"""The purchase receipts: one PDF per purchase, printed by staff and emailed to the buyer, and
one for an order of several devices (issue 20), listing every device the shop bought.

It is the written record a second-hand dealer keeps: the shop, the seller, the device with its
IMEI, the price and the declaration the seller made, word for word. Both receipts are drawn by
the same helpers below, so they look alike.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

from workflows.formatting import money
from workflows.models import Declaration, Order, PayoutStatus, TradeIn
from workflows.rules.compliance import identity_of

# The core PDF fonts speak Latin-1; typographic quotes and dashes have plain equivalents.
_PLAIN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "•": "*"})
_SAME_DECLARATION = timedelta(minutes=1)
# A payout in one of these is not owed: the device went back, never came, or was refused.
_NOT_BOUGHT = (PayoutStatus.VOID, PayoutStatus.DECLINED)


def _text(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value)).translate(_PLAIN)
    return text.encode("latin-1", "replace").decode("latin-1")


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def receipt_filename(trade_in: TradeIn) -> str:
    return f"purchase-receipt-{trade_in.reference or trade_in.pk}.pdf"


def order_receipt_filename(order: Order) -> str:
    return f"purchase-receipt-{order.reference or order.pk}.pdf"


# --- the shared drawing ------------------------------------------------------------------------
def _start(title: str, subtitle: str) -> FPDF:
    """A Letter page with the shop's header, the receipt's title and its date line."""
    pdf = FPDF(unit="mm", format="Letter")
    # Uncompressed: one page of text is a few KB either way, and the text stays searchable
    # (by a records clerk's tools, and by the tests).
    pdf.set_compression(False)
    pdf.set_title(title)
    pdf.set_author(settings.SITE_NAME)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _text(settings.SITE_NAME), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 5, _text(settings.SHOP_ADDRESS), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _text(subtitle), new_x="LMARGIN", new_y="NEXT")
    return pdf


def _heading(pdf: FPDF, title: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, _text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(200, 200, 200)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1)


def _section(pdf: FPDF, title: str, rows: list[tuple[str, object]]) -> None:
    """A titled block of label / value rows; IMEI and prices in bold."""
    _heading(pdf, title)
    for label, value in rows:
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(45, 6, _text(label))
        pdf.set_font("Helvetica", "B" if label in ("IMEI", "Price", "Total") else "", 10)
        shown = _text(value if value not in (None, "") else "-")
        pdf.multi_cell(0, 6, shown, new_x="LMARGIN", new_y="NEXT")


def _seller(pdf: FPDF, trade_in: TradeIn) -> None:
    """The seller as the trade-in records them, with the current version of their ID."""
    identity = identity_of(trade_in)
    rows = [
        ("Name", trade_in.buyer_name),
        ("Address", ", ".join(trade_in.address_lines) or "(drop-off, no address given)"),
        ("Email", trade_in.buyer_email),
        ("Phone", trade_in.buyer_phone),
    ]
    if identity is not None:
        rows += [
            ("Photo ID", f"{identity.get_id_type_display()} {identity.masked_number}"),
            ("Issued by", identity.issuer),
            ("ID expires", f"{identity.expires_on:%Y-%m-%d}" if identity.expires_on else ""),
        ]
    _section(pdf, "Seller", rows)


def _declaration(pdf: FPDF, declaration: Declaration, *, title: str = "Seller's declaration"):
    """The declaration word for word, when and from where, and a counter signature's drawing."""
    _section(
        pdf,
        title,
        [
            ("Declared", f'"{declaration.wording}"'),
            (
                "Confirmed",
                _when(declaration.made_at) + (f" from {declaration.ip}" if declaration.ip else ""),
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


def _finish(pdf: FPDF) -> bytes:
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


# --- one device --------------------------------------------------------------------------------
def purchase_receipt_pdf(trade_in: TradeIn) -> bytes:
    """The receipt of an accepted trade-in, as PDF bytes. The ID number is shown masked."""
    quote = trade_in.quotes.filter(responded_at__isnull=False).order_by("-responded_at").first()
    payout = getattr(trade_in, "payout", None)
    price = payout.amount if payout is not None else (quote.amount if quote else None)
    declaration = Declaration.objects.filter(trade_in=trade_in).first()
    unit = getattr(trade_in, "unit", None)

    when = trade_in.accepted_at or timezone.now()
    pdf = _start(f"Purchase receipt {trade_in.reference}", f"Offer accepted {_when(when)}")
    _seller(pdf, trade_in)
    _section(
        pdf,
        "Device",
        [
            ("Make and model", trade_in.product),
            ("IMEI", trade_in.imei),
            ("Condition as declared", " / ".join(str(a) for _, a in trade_in.condition_answers())),
            ("Grade on intake", unit.get_grade_display() if unit and unit.grade else "not yet"),
        ],
    )
    _section(
        pdf, "Price", [("Price", money(price)), ("Paid by", trade_in.get_payout_method_display())]
    )
    if declaration is not None:
        _declaration(pdf, declaration)
    return _finish(pdf)


# --- an order of several devices -----------------------------------------------------------------
@dataclass(frozen=True)
class OrderPurchase:
    """What the shop bought in an order: the devices whose payout is owed or paid, each at its
    final amount (a revised offer the buyer accepted is its payout's amount), and the others."""

    bought: list[TradeIn]
    not_bought: list[TradeIn]
    total: Decimal
    # Each declaration the sellers made for the bought devices, with the devices it covers;
    # the same wording from the same address at the same moment is shown once.
    declarations: list[tuple[Declaration, list[TradeIn]]]


def order_purchase(order: Order) -> OrderPurchase:
    """The order's purchase in three queries, however many devices it holds."""
    devices = list(
        TradeIn.objects.filter(order=order)
        .select_related("product__device_model__make", "payout", "unit", "order")
        .order_by("position")
    )
    bought = [
        device
        for device in devices
        if getattr(device, "payout", None) is not None and device.payout.status not in _NOT_BOUGHT
    ]
    bought_ids = {device.pk: device for device in bought}
    rows = (
        Declaration.objects.filter(trade_in_id__in=bought_ids)
        .select_related("counter_signature")
        .order_by("made_at", "pk")
        if bought
        else []
    )
    # One answer to the order's page stores one row per device, microseconds apart: the same
    # wording from the same address within a minute of the first is the same declaration.
    grouped: list[tuple[Declaration, list[TradeIn]]] = []
    for row in rows:
        group = next(
            (
                (first, covered)
                for first, covered in grouped
                if (first.wording, first.ip) == (row.wording, row.ip)
                and row.made_at - first.made_at <= _SAME_DECLARATION
            ),
            None,
        )
        if group is None:
            group = (row, [])
            grouped.append(group)
        if bought_ids[row.trade_in_id] not in group[1]:
            group[1].append(bought_ids[row.trade_in_id])
    return OrderPurchase(
        bought=bought,
        not_bought=[device for device in devices if device.pk not in bought_ids],
        total=sum((device.payout.amount for device in bought), Decimal("0.00")),
        declarations=grouped,
    )


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text cut to its column (a long model name would run into the next one)."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text + "..."


def _device_lines(pdf: FPDF, devices: Iterable[TradeIn], total: Decimal) -> None:
    """One line per device bought: reference, model, IMEI, grade, amount; then the total."""
    widths = (26, 56, 30, 58)  # the amount takes the rest of the line (26 mm)
    _heading(pdf, "Devices bought")
    pdf.set_font("Helvetica", "B", 8)
    for width, label in zip(widths, ("Reference", "Make and model", "IMEI", "Grade"), strict=True):
        pdf.cell(width, 6, label)
    pdf.cell(0, 6, "Amount", align="R", new_x="LMARGIN", new_y="NEXT")
    for device in devices:
        unit = getattr(device, "unit", None)
        cells = (
            device.reference,
            device.product,
            device.imei,
            unit.get_grade_display() if unit and unit.grade else "not yet",
        )
        pdf.set_font("Helvetica", "", 9)
        for width, value in zip(widths, cells, strict=True):
            pdf.cell(width, 6, _fit(pdf, _text(value), width - 2))
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(0, 6, _text(money(device.payout.amount)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(200, 200, 200)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(sum(widths), 7, "Total")
    pdf.cell(0, 7, _text(money(total)), align="R", new_x="LMARGIN", new_y="NEXT")


def order_receipt_pdf(order: Order, purchase: OrderPurchase | None = None) -> bytes:
    """ONE receipt for an order of several devices: every device bought, at its final amount,
    with the total and the declaration as recorded. Devices declined, cancelled or returned
    are named as not bought, without a price."""
    purchase = purchase or order_purchase(order)
    lead = purchase.bought[0] if purchase.bought else None
    accepted = [device.accepted_at for device in purchase.bought if device.accepted_at]
    pdf = _start(
        f"Purchase receipt {order.reference}",
        f"Order of {_when(order.created_at)}"
        + (f", offer accepted {_when(min(accepted))}" if accepted else ""),
    )
    if lead is not None:
        _seller(pdf, lead)
    _device_lines(pdf, purchase.bought, purchase.total)
    if lead is not None:
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(0, 6, _text(f"Paid by {lead.get_payout_method_display()}"))
        pdf.ln(6)
    if purchase.not_bought:
        _section(
            pdf,
            "Not bought",
            [(device.reference, device.get_state_display()) for device in purchase.not_bought],
        )
    for declaration, covered in purchase.declarations:
        title = "Seller's declaration"
        if len(covered) != len(purchase.bought):
            title += " for " + ", ".join(device.reference for device in covered)
        _declaration(pdf, declaration, title=title)
    return _finish(pdf)
