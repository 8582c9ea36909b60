"""Offers that learn: a suggested buy price per model × storage × grade from what units sold for.

The method (stated on the price list page too):

- the median realised sale price of units of that product and grade sold in the last
  PRICING_WINDOW_DAYS days, when there are at least PRICING_MIN_SALES of them;
- otherwise the median of the market resale prices a manager imported for that product and
  grade, observed in the same window;
- minus the grade's expected refurbishment cost (PRICING_REFURBISHMENT), minus the shop's
  target margin (PRICING_TARGET_MARGIN_PERCENT of that median), rounded down to the dollar.

The price list is one base price per product plus percent deductions per condition answer, so
a grade's offer today is what the list gives a device described like that grade
(GRADE_ANSWERS). Applying a grade's suggestion sets the base price that makes that grade's offer
the suggestion. These are reads only: a suggestion changes nothing until a manager applies it
(workflows.actions.pricing), and quoting reads the price list, never this module.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    Value,
    When,
)
from django.utils import timezone

from workflows.models import ConditionDeduction, Grade, MarketPrice, Product, Quote, Unit
from workflows.selectors.reports import without_jit

# The grades the price list offers for (D is parts or repair: priced by hand).
PRICED_GRADES = [Grade.A, Grade.B, Grade.C]

# How a device of each grade is typically described by its seller.
GRADE_ANSWERS: dict[str, dict[str, str]] = {
    Grade.A: {
        "screen": "flawless",
        "body": "like_new",
        "battery": "good",
        "accessories": "complete",
    },
    Grade.B: {"screen": "scratched", "body": "worn", "battery": "good", "accessories": "complete"},
    Grade.C: {"screen": "cracked", "body": "worn", "battery": "worn", "accessories": "complete"},
}

MONEY = DecimalField(max_digits=12, decimal_places=2)
DOLLAR = Decimal("1")
CENT = Decimal("0.01")


def expected_grade(prefix: str = ""):
    """The grade a submission's answers point to, as a database expression (for the rates);
    `prefix` reads the answers through a relation ("trade_in__")."""

    def q(**kw) -> Q:
        return Q(**{prefix + k: v for k, v in kw.items()})

    return Case(
        When(q(screen="broken"), then=Value(Grade.D)),
        When(q(screen="cracked") | q(body="damaged") | q(battery="service"), then=Value(Grade.C)),
        When(q(screen="scratched") | q(body="worn") | q(battery="worn"), then=Value(Grade.B)),
        default=Value(Grade.A),
        output_field=CharField(),
    )


def grade_deductions() -> dict[str, Decimal]:
    """The percent the price list takes off for each grade's typical answers."""
    percent = {(d.question, d.answer): d.percent for d in ConditionDeduction.objects.all()}
    return {
        grade: min(
            sum((percent.get(item, Decimal("0")) for item in answers.items()), Decimal("0")),
            Decimal("100"),
        )
        for grade, answers in GRADE_ANSWERS.items()
    }


def floor_dollar(amount: Decimal) -> Decimal:
    return amount.quantize(DOLLAR, rounding=ROUND_DOWN).quantize(CENT)


def offer_for(base_price: Decimal | None, deduction: Decimal) -> Decimal | None:
    """The list's offer for a grade (the arithmetic of workflows.rules.pricing.suggested_offer)."""
    if not base_price:
        return None
    return floor_dollar(base_price * (Decimal("100") - deduction) / Decimal("100"))


def base_for(offer: Decimal, deduction: Decimal) -> Decimal:
    """The smallest whole-dollar base price whose offer for a grade with this deduction is
    `offer` (rounded up here, since the offer is rounded down)."""
    if deduction >= Decimal("100"):
        return floor_dollar(offer)
    base = offer * Decimal("100") / (Decimal("100") - deduction)
    return base.quantize(DOLLAR, rounding=ROUND_UP).quantize(CENT)


def buy_price(median: Decimal, grade: str) -> Decimal:
    """What the shop can pay for a device that resells at `median`, keeping its margin."""
    refurbishment = Decimal(settings.PRICING_REFURBISHMENT.get(grade, 0))
    margin = median * Decimal(settings.PRICING_TARGET_MARGIN_PERCENT) / Decimal("100")
    return max(floor_dollar(median - refurbishment - margin), Decimal("0.00"))


def median(values: list[Decimal]) -> Decimal:
    return Decimal(statistics.median(sorted(values))).quantize(CENT)


@dataclass(frozen=True)
class PriceRow:
    """One line of the price list page: a product in one grade."""

    product: Product
    grade: str
    deduction: Decimal
    offer: Decimal | None  # today's offer from the applied list
    suggestion: Decimal | None
    source: str  # "sales", "market" or ""
    samples: int
    sales: int  # sales in the window, even when too few to use
    sent: int
    accepted: int

    @property
    def basis(self) -> str:
        if self.source == "sales":
            return f"median of {self.samples} sales"
        if self.source == "market":
            prices = "price" if self.samples == 1 else "prices"
            few = f" ({self.sales} of {settings.PRICING_MIN_SALES} sales)" if self.sales else ""
            return f"market, {self.samples} {prices}{few}"
        if self.sales:
            return f"{self.sales} of {settings.PRICING_MIN_SALES} sales needed, no market prices"
        return "no sales or market prices"

    @property
    def acceptance(self) -> Decimal | None:
        if not self.sent:
            return None
        return (Decimal(self.accepted) * 100 / Decimal(self.sent)).quantize(Decimal("1"))

    @property
    def difference_percent(self) -> Decimal | None:
        if self.suggestion is None or not self.offer:
            return None
        return ((self.suggestion - self.offer) * 100 / self.offer).quantize(Decimal("0.1"))

    @property
    def new_base_price(self) -> Decimal | None:
        if self.suggestion is None:
            return None
        return base_for(self.suggestion, self.deduction)

    def beyond(self, threshold: Decimal) -> bool:
        """Is the suggestion more than `threshold` percent away from today's offer?"""
        if self.suggestion is None:
            return False
        if not self.offer:
            return self.suggestion > 0  # no offer yet: any suggestion is a change
        return abs(self.difference_percent) > threshold


def window_start(today: date | None = None) -> date:
    return (today or timezone.localdate()) - timedelta(days=settings.PRICING_WINDOW_DAYS)


@without_jit
def price_rows(products=None, *, today: date | None = None) -> list[PriceRow]:
    """The suggestion, its basis and the acceptance rate for each product × priced grade."""
    since = window_start(today)
    products = list(
        (products if products is not None else Product.objects.all()).select_related(
            "device_model__make"
        )
    )
    ids = [p.pk for p in products]
    sales = sale_medians(ids, since)
    market: dict[tuple[int, str], list[Decimal]] = defaultdict(list)
    for product_id, grade, price in MarketPrice.objects.filter(
        product_id__in=ids, observed_on__gte=since
    ).values_list("product_id", "grade", "price"):
        market[(product_id, grade)].append(price)
    rates = acceptance_counts(ids, since)
    deductions = grade_deductions()
    rows = []
    for product in products:
        for grade in PRICED_GRADES:
            n_sold, sold_median = sales.get((product.pk, grade), (0, None))
            seen = market.get((product.pk, grade), [])
            if n_sold >= settings.PRICING_MIN_SALES:
                source, samples, middle = "sales", n_sold, sold_median
            elif seen:
                source, samples, middle = "market", len(seen), median(seen)
            else:
                source, samples, middle = "", 0, None
            sent, accepted = rates.get((product.pk, grade), (0, 0))
            rows.append(
                PriceRow(
                    product=product,
                    grade=grade,
                    deduction=deductions[grade],
                    offer=offer_for(product.base_price, deductions[grade]),
                    suggestion=buy_price(middle, grade) if middle is not None else None,
                    source=source,
                    samples=samples,
                    sales=n_sold,
                    sent=sent,
                    accepted=accepted,
                )
            )
    return rows


class _Middle(Aggregate):
    """PostgreSQL's percentile_disc(0.5): the lower middle value in ascending order, the upper
    one in descending order (the same value when the count is odd). Exact on numeric, where
    percentile_cont would interpolate in floating point and could round a cent differently."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s %(direction)s)"


def sale_medians(product_ids: list[int], since: date) -> dict[tuple[int, str], tuple]:
    """(units sold, median sale price) per product × priced grade, sold on or after `since`.

    The median is the middle sale price, or the mean of the two middle ones, to the cent: in
    SQL on PostgreSQL (two percentile_disc per group, read off the sale-day index); on SQLite,
    which has no ordered-set aggregates, in Python over the rows (tests/test_pricing.py checks
    both give what statistics.median gives)."""
    sold = Unit.objects.filter(
        product_id__in=product_ids,
        grade__in=PRICED_GRADES,
        sold_on__gte=since,
        sale_price__isnull=False,
    )
    if connection.vendor == "postgresql":
        rows = (
            sold.values("product_id", "grade")
            .annotate(
                n=Count("*"),
                low=_Middle("sale_price", direction="ASC", output_field=MONEY),
                high=_Middle("sale_price", direction="DESC", output_field=MONEY),
            )
            .order_by()
            .values_list("product_id", "grade", "n", "low", "high")
        )
        return {
            (product_id, grade): (n, ((low + high) / 2).quantize(CENT))
            for product_id, grade, n, low, high in rows
        }
    prices: dict[tuple[int, str], list[Decimal]] = defaultdict(list)
    for product_id, grade, price in sold.values_list("product_id", "grade", "sale_price"):
        prices[(product_id, grade)].append(price)
    return {key: (len(values), median(values)) for key, values in prices.items()}


def acceptance_counts(product_ids: list[int], since: date) -> dict[tuple[int, str], tuple]:
    """(quotes sent, quotes accepted) per product × expected grade since `since`.

    A quote counts as accepted when the buyer accepted it: it was answered, its trade-in was
    accepted, and no later quote replaced it (nothing can be quoted after an acceptance).
    """
    start = timezone.make_aware(
        timezone.datetime.combine(since, timezone.datetime.min.time()),
        timezone.get_current_timezone(),
    )
    later = Quote.objects.filter(trade_in=OuterRef("trade_in"), pk__gt=OuterRef("pk"))
    counts = (
        Quote.objects.filter(trade_in__product_id__in=product_ids, created_at__gte=start)
        .annotate(grade=expected_grade("trade_in__"))
        .values("trade_in__product_id", "grade")
        .annotate(
            sent=Count("pk"),
            accepted=Count(
                "pk",
                filter=Q(responded_at__isnull=False, trade_in__accepted_at__isnull=False)
                & ~Exists(later),
            ),
        )
    )
    return {(c["trade_in__product_id"], c["grade"]): (c["sent"], c["accepted"]) for c in counts}


def pick_for_product(rows: list[PriceRow], threshold: Decimal) -> list[PriceRow]:
    """For "apply all": one row per product (one base price), the best-founded one beyond the
    threshold: sales before market prices, then the most samples, then the better grade."""
    best: dict[int, PriceRow] = {}
    for row in rows:
        if not row.beyond(threshold):
            continue
        key = (row.source == "sales", row.samples, -PRICED_GRADES.index(row.grade))
        current = best.get(row.product.pk)
        if current is None or key > (
            current.source == "sales",
            current.samples,
            -PRICED_GRADES.index(current.grade),
        ):
            best[row.product.pk] = row
    return list(best.values())
