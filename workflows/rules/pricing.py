"""Suggested offers from the price list: base price minus a percentage per condition answer."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from workflows.models import ConditionDeduction, Product


def suggested_offer(
    product: Product,
    answers: dict[str, str],
    deductions: Sequence[ConditionDeduction] | None = None,
) -> Decimal | None:
    """Return the offer for these answers, or None when the product has no base price.
    `deductions`: the table read once by a caller pricing many devices (else one query)."""
    if not product.base_price:
        return None
    wanted = {(question, answer) for question, answer in answers.items()}
    if deductions is None:
        deductions = ConditionDeduction.objects.all()
    percent = sum(
        (d.percent for d in deductions if (d.question, d.answer) in wanted),
        Decimal("0"),
    )
    offer = product.base_price * (Decimal("100") - min(percent, Decimal("100"))) / Decimal("100")
    # Whole currency units, rounded in the shop's favour.
    return offer.quantize(Decimal("1"), rounding=ROUND_DOWN).quantize(Decimal("0.01"))


def price_table(device_model) -> dict:
    """What the buyer page needs to show an instant estimate without asking the server."""
    return {
        "products": {str(p.pk): str(p.base_price) for p in device_model.products.all()},
        "deductions": {
            f"{d.question}:{d.answer}": str(d.percent) for d in ConditionDeduction.objects.all()
        },
    }
