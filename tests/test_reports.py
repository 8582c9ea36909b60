"""Issue 22, the managers' reports: every figure (on the page, in workflows.selectors.reports and
in each
CSV) equals what hand-written SQL over the rows says. The rows are made by the real actions,
then moved back in time (as weeks passing would) so the reports span several weeks."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from tests.helpers import refresh, staff_client
from workflows import actions
from workflows.actions import answers
from workflows.models import (
    Payout,
    Quote,
    ShippingLabel,
    State,
    TradeIn,
    Unit,
)
from workflows.rules import compliance
from workflows.selectors import reports


def sql(query: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchall()


def moment(value) -> datetime | None:
    """A timestamp as the database driver returns it (SQLite: text in UTC)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def day(value) -> date | None:
    return value if isinstance(value, date) or value is None else parse_date(str(value))


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def local_monday(value) -> date:
    return monday(timezone.localdate(moment(value)))


def back(trade_in: TradeIn, days: int) -> None:
    """Move everything that happened to a trade-in `days` earlier."""
    delta = timedelta(days=days)
    for field in ("created_at", "accepted_at", "received_at"):
        TradeIn.objects.filter(pk=trade_in.pk, **{f"{field}__isnull": False}).update(
            **{
                field: timezone.now()
                - delta
                + (timedelta(hours=1) if field != "created_at" else timedelta())
            }
        )
    # Its unit arrived when it did (the copy intake wrote).
    Unit.objects.filter(trade_in=trade_in, received_at__isnull=False).update(
        received_at=TradeIn.objects.get(pk=trade_in.pk).received_at
    )
    Quote.objects.filter(trade_in=trade_in).update(created_at=timezone.now() - delta)
    Payout.objects.filter(trade_in=trade_in, settled_at__isnull=False).update(
        settled_at=timezone.now() - delta + timedelta(days=2)
    )


@pytest.fixture
def shop(make_trade_in, staff, manager, settings):
    """A few weeks of a shop: paid and sold units, one in a lot, one on the shelf for 40
    days, open trade-ins, a decline, an auto-quote, refurbishment."""
    settings.TIME_ZONE = "America/New_York"
    closed = [make_trade_in(State.CLOSED) for _ in range(4)]
    shelf = make_trade_in(State.RECEIVED)
    fresh = make_trade_in(State.RECEIVED)
    others = [
        make_trade_in(State.SUBMITTED),
        make_trade_in(State.QUOTED),
        make_trade_in(State.DECLINED),
        make_trade_in(State.ACCEPTED),
        make_trade_in(State.REROUTED),
    ]
    Quote.objects.filter(trade_in=others[1]).update(auto_quoted=True)
    for trade_in, days in zip(closed, (3, 10, 24, 24), strict=True):
        back(trade_in, days)
    back(shelf, 40)
    back(others[2], 17)
    units = [refresh(t).unit for t in closed]
    actions.unit_add_refurbishment_cost(unit=units[0], actor=staff, amount="35.00", note="Screen")
    actions.unit_add_refurbishment_cost(unit=units[0], actor=staff, amount="12.25", note="Labour")
    today = timezone.localdate()
    actions.unit_change_status(
        unit=units[0],
        actor=staff,
        operation="sell",
        price="420.00",
        channel="storefront",
        sold_on=today,
    )
    actions.unit_change_status(
        unit=units[1],
        actor=staff,
        operation="sell",
        price="310.50",
        channel="marketplace",
        sold_on=today - timedelta(days=8),
    )
    actions.unit_sell_lot(
        units=units[2:], actor=staff, total="555.55", sold_on=today - timedelta(days=15)
    )
    Unit.objects.filter(pk=units[3].pk).update(grade="A")
    answers.shipping_label_voided(label=ShippingLabel.objects.get(trade_in=closed[1]))
    return {"closed": closed, "shelf": shelf, "fresh": fresh, "others": others}


def period() -> reports.Period:
    return reports.period(12)


def test_money_in_and_out_per_week_equals_sql(shop):
    p = period()
    expected: dict[date, list] = defaultdict(lambda: [0, Decimal(0), 0, Decimal(0)])
    for settled_at, amount in sql(
        "SELECT settled_at, amount FROM workflows_payout WHERE status = 'settled'"
    ):
        if moment(settled_at) >= p.since:
            week = expected[local_monday(settled_at)]
            week[0] += 1
            week[1] += money(amount)
    for sold_on, price in sql(
        "SELECT sold_on, sale_price FROM workflows_unit WHERE sale_price IS NOT NULL"
    ):
        if day(sold_on) >= p.first_day:
            week = expected[monday(day(sold_on))]
            week[2] += 1
            week[3] += money(price)
    rows = reports.money_per_week(p).rows
    assert rows == [
        [week, n_out, out, n_in, sales, sales - out]
        for week, (n_out, out, n_in, sales) in sorted(expected.items())
    ]
    assert len(rows) >= 3  # the shop's weeks, and only those
    assert sum(r[4] for r in rows) == Decimal("420.00") + Decimal("310.50") + Decimal("555.55")


MARGIN_SQL = """
SELECT mk.name, dm.name, u.grade, COUNT(*), SUM(u.sale_price),
       SUM(CASE WHEN p.status IN ('pending', 'failed', 'settled') THEN p.amount ELSE 0 END),
       SUM(COALESCE((SELECT SUM(l.cost) FROM workflows_shippinglabel l
                     WHERE l.trade_in_id = u.trade_in_id AND l.voided_at IS NULL), 0)),
       SUM(COALESCE((SELECT SUM(r.amount) FROM workflows_refurbishmentcost r
                     WHERE r.unit_id = u.id), 0))
FROM workflows_unit u
JOIN workflows_product pr ON pr.id = u.product_id
JOIN workflows_devicemodel dm ON dm.id = pr.device_model_id
JOIN workflows_make mk ON mk.id = dm.make_id
LEFT JOIN workflows_payout p ON p.trade_in_id = u.trade_in_id
WHERE u.sale_price IS NOT NULL AND u.sold_on >= %s
GROUP BY mk.name, dm.name, u.grade
ORDER BY mk.name, dm.name, u.grade
"""


def test_margin_by_model_and_grade_equals_sql(shop):
    p = period()
    expected = []
    for make, model, grade, n, sales, payouts, labels, refurbishment in sql(
        MARGIN_SQL, [p.first_day]
    ):
        sales, payouts, labels, refurbishment = map(money, (sales, payouts, labels, refurbishment))
        margin = sales - payouts - labels - refurbishment
        expected.append(
            [
                f"{make} {model}",
                grade,
                n,
                sales,
                payouts,
                labels,
                refurbishment,
                margin,
                round(100 * margin / sales, 1),
            ]
        )
    rows = reports.margin_by_model(p).rows
    assert rows == expected
    # The figures themselves: 4 units paid 300.00 each, 3 labels of 7.50 (one voided), 47.25
    # of refurbishment, 1286.05 of sales.
    assert sum(r[2] for r in rows) == 4
    assert sum(r[7] for r in rows) == Decimal("1286.05") - 1200 - Decimal("22.50") - Decimal(
        "47.25"
    )
    assert {r[1] for r in rows} == {"A", "B"}


BUCKET_OF = [(0, 7), (8, 30), (31, 90), (91, 10**6)]


def bucket(days: int) -> int:
    return next(i for i, (low, high) in enumerate(BUCKET_OF) if low <= days <= high)


def test_stock_ageing_equals_sql(shop):
    p = period()
    sold, shelf = [0] * 4, [0] * 4
    for sold_on, received_at in sql(
        "SELECT u.sold_on, t.received_at FROM workflows_unit u "
        "JOIN workflows_tradein t ON t.id = u.trade_in_id "
        "WHERE u.sale_price IS NOT NULL AND t.received_at IS NOT NULL"
    ):
        if day(sold_on) >= p.first_day:
            sold[bucket((day(sold_on) - timezone.localdate(moment(received_at))).days)] += 1
    for (received_at,) in sql(
        "SELECT t.received_at FROM workflows_unit u "
        "JOIN workflows_tradein t ON t.id = u.trade_in_id "
        "WHERE u.status IN ('received', 'graded', 'listed') AND t.received_at IS NOT NULL"
    ):
        shelf[bucket((p.today - timezone.localdate(moment(received_at))).days)] += 1
    rows = reports.stock_ageing(p).rows
    assert [r[1] for r in rows] == sold and [r[2] for r in rows] == shelf
    assert sum(sold) == 4 and shelf[2] == 1 and shelf[0] >= 1  # 40 days, and the fresh one


def test_the_funnel_equals_sql(shop):
    p = period()
    expected: dict[date, list[int]] = defaultdict(lambda: [0] * 5)
    for created_at, quoted, accepted_at, received_at, paid in sql(
        "SELECT t.created_at, "
        "EXISTS (SELECT 1 FROM workflows_quote q WHERE q.trade_in_id = t.id), "
        "t.accepted_at, t.received_at, "
        "EXISTS (SELECT 1 FROM workflows_payout p WHERE p.trade_in_id = t.id "
        "        AND p.status = 'settled') "
        "FROM workflows_tradein t"
    ):
        if moment(created_at) < p.since:
            continue
        week = expected[local_monday(created_at)]
        for i, reached in enumerate(
            [True, quoted, accepted_at is not None, received_at is not None, paid]
        ):
            week[i] += int(bool(reached))
    rows = reports.funnel(p).rows
    assert rows == [[week, *counts] for week, counts in sorted(expected.items())]
    assert sum(r[5] for r in rows) == 4  # the four paid


def test_the_auto_quote_share_equals_sql(shop):
    p = period()
    expected: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for created_at, auto in sql("SELECT created_at, auto_quoted FROM workflows_quote"):
        if moment(created_at) >= p.since:
            week = expected[local_monday(created_at)]
            week[0] += 1
            week[1] += int(bool(auto))
    rows = reports.auto_quote_share(p).rows
    assert rows == [
        [week, n, n - auto, auto, round(100 * auto / n, 1)]
        for week, (n, auto) in sorted(expected.items())
    ]
    assert sum(r[3] for r in rows) == 1


def test_units_on_hold_are_the_ones_the_hold_predicate_holds(make_trade_in, manager, settings):
    settings.HOLD_DAYS, settings.POLICE_REPORT = 21, "off"
    units = [make_trade_in(State.RECEIVED).unit for _ in range(4)]
    TradeIn.objects.filter(pk=units[0].trade_in_id).update(
        received_at=timezone.now() - timedelta(days=21)
    )
    TradeIn.objects.filter(pk=units[1].trade_in_id).update(
        received_at=timezone.now() - timedelta(days=20)
    )
    actions.unit_hold_release(unit=units[2], actor=manager, police_reference="PD 1")
    make_trade_in(State.ACCEPTED)  # not arrived: not "on hold" yet
    held = [
        u
        for u in Unit.objects.all()
        if compliance.unit_on_hold(u) and refresh(u.trade_in).received_at
    ]
    report = reports.units_on_hold()
    assert sorted(r[0] for r in report.rows) == sorted(u.imei for u in held)
    assert {r[0] for r in report.rows} == {units[1].imei, units[3].imei}
    assert reports.on_hold_count() == 2


# --- the page and its CSVs ----------------------------------------------------------------------
def csv_rows(client, slug: str) -> list[list[str]]:
    response = client.get(reverse("admin:report_csv", args=[slug]), {"weeks": 12})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def as_text(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


@pytest.mark.parametrize("slug", ["money", "margin", "ageing", "funnel", "auto-quote"])
def test_each_csv_is_the_reports_rows(shop, manager, slug):
    report = reports.REPORTS[slug](period())
    rows = csv_rows(staff_client(manager), slug)
    assert rows[0] == report.columns
    assert rows[1:] == [[as_text(v) for v in row] for row in report.rows]
    assert len(rows) > 1


def test_the_page_shows_each_chart_with_its_table_and_csv_to_managers_only(shop, manager, staff):
    client = staff_client(manager)
    page = client.get(reverse("admin:reports")).content.decode()
    for slug in ("money", "margin", "ageing", "funnel", "auto-quote", "on-hold"):
        assert f'id="report-{slug}"' in page
        if slug != "on-hold":
            assert reverse("admin:report_csv", args=[slug]) in page
    assert page.count('class="chart"') == 5  # nothing on hold: no chart, a sentence
    assert "No unit is on hold." in page
    assert "555.55" in page  # the lot's week of sales
    assert reverse("admin:reports") in client.get(reverse("admin:index")).content.decode()
    # Staff: no page, no CSV, no sidebar item.
    other = staff_client(staff)
    assert other.get(reverse("admin:reports")).status_code == 403
    assert other.get(reverse("admin:report_csv", args=["money"])).status_code == 403
    assert reverse("admin:reports") not in other.get(reverse("admin:index")).content.decode()


def test_a_chart_with_one_week_of_data_has_one_week(make_trade_in, staff, manager):
    unit = make_trade_in(State.RECEIVED).unit
    actions.unit_change_status(
        unit=unit, actor=staff, operation="sell", price="99", channel="parts"
    )
    page = staff_client(manager).get(reverse("admin:reports")).content.decode()
    start = page.index('id="report-money"')
    canvas = page[page.index('data-value="', start) + 12 :]
    data = json.loads(canvas[: canvas.index('"')].replace("&quot;", '"'))
    week = monday(timezone.localdate())
    assert data["labels"] == [week.strftime("%b %d")]
    assert data["datasets"][1]["data"] == [99.0]
