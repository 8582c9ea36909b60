"""The price list's median sale price (workflows.selectors.learning.sale_medians): in SQL on
PostgreSQL,
in Python on SQLite, both equal to statistics.median over the rows, to the cent."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from tests.factories import ProductFactory
from tests.test_pricing import sold
from workflows.models import Unit
from workflows.selectors.learning import sale_medians, window_start


def test_the_median_of_each_product_and_grade_equals_statistics_median_over_the_rows(db):
    first, second = ProductFactory(), ProductFactory()
    prices = {
        (first, "A"): ["400.00", "430.00", "520.00", "610.00"],  # even: mean of 430 and 520
        (first, "B"): ["10.01", "10.02"],  # a half cent: rounded to even, as Decimal does
        (first, "C"): ["99.99"],
        (second, "A"): ["300.00", "100.00", "200.00"],  # odd, unsorted
        (second, "B"): ["50.00", "50.00", "70.00", "10.05", "10.05"],
    }
    for (product, grade), values in prices.items():
        for n, price in enumerate(values):
            sold(product, grade, price, days_ago=n + 1)
    sold(first, "A", "9999.00", days_ago=200)  # before the window: not counted
    sold(first, "D", "80.00")  # grade D is priced by hand: not counted
    unpriced = sold(second, "C", "80.00")
    Unit.objects.filter(pk=unpriced.pk).update(sale_price=None)  # no price: not counted

    since = window_start()
    expected: dict[tuple[int, str], list[Decimal]] = defaultdict(list)
    for product_id, grade, price in Unit.objects.filter(
        grade__in=["A", "B", "C"], sold_on__gte=since, sale_price__isnull=False
    ).values_list("product_id", "grade", "sale_price"):
        expected[(product_id, grade)].append(Decimal(price))
    got = sale_medians([first.pk, second.pk], since)
    assert got == {
        key: (len(values), Decimal(statistics.median(values)).quantize(Decimal("0.01")))
        for key, values in expected.items()
    }
    assert got[(first.pk, "A")] == (4, Decimal("475.00"))
    assert got[(first.pk, "B")] == (2, Decimal("10.02"))
    assert got[(second.pk, "B")] == (5, Decimal("50.00"))
    assert sale_medians([second.pk], timezone.localdate() - timedelta(days=1)) == {
        (second.pk, "A"): (1, Decimal("300.00")),
        (second.pk, "B"): (1, Decimal("50.00")),
    }
