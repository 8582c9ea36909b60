"""What each unit earns, and the reports a manager reads (backoffice/reports.py draws them).
Over 400 lines: the reports share one period, one week and one money rule, read best together.

A unit's costs (payout, labels, refurbishment, their total) are carried on its row, written by
the one cost rule (workflows.actions._costs._carry_costs) in the transaction of each action that
changes them; margin = sale price − total cost. The reports read those columns, never
recompute them.

Each report is one or two aggregate queries over a period of whole weeks (Monday to Sunday in
the shop's time zone) and lists only the weeks that have data. Every figure is what SQL over
the rows says: tests/test_reports.py recomputes each one by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from workflows.models import (
    STOCKED_STATUSES,
    Payout,
    PayoutStatus,
    Quote,
    RefurbishmentCost,
    TradeIn,
    Unit,
)
from workflows.rules.compliance import HOLD_SHOWN_STATUSES, held_units


# --- a unit's money -----------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitMoney:
    payout: Decimal
    labels: Decimal
    refurbishment: Decimal
    total_cost: Decimal
    sale_price: Decimal | None
    margin: Decimal | None
    refurbishment_entries: list[RefurbishmentCost]


def unit_money(unit: Unit) -> UnitMoney:
    unit = Unit.objects.get(pk=unit.pk)  # the costs as the last action wrote them
    return UnitMoney(
        payout=unit.payout_cost,
        labels=unit.label_cost,
        refurbishment=unit.refurbishment_cost,
        total_cost=unit.total_cost,
        sale_price=unit.sale_price,
        margin=unit.margin,
        refurbishment_entries=list(unit.refurbishment_costs.select_related("added_by")),
    )


# --- the period and its weeks -------------------------------------------------------------------
PERIODS = (4, 12, 26, 52)  # weeks a manager can choose
DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class Period:
    weeks: int
    first_day: date  # a Monday
    today: date

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first_day, time.min))


def period(weeks: int = DEFAULT_WEEKS, today: date | None = None) -> Period:
    """The last `weeks` whole weeks, this one included."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return Period(weeks, monday - timedelta(weeks=weeks - 1), today)


def _week(field_name: str, *, of_day: bool = False):
    """The Monday of a timestamp's week in the shop's time zone (of a day: that day's)."""
    if of_day:
        return TruncWeek(field_name)
    return TruncWeek(field_name, tzinfo=timezone.get_current_timezone())


def _cents(value: Decimal | None) -> Decimal:
    """A sum as money: to the cent (SQLite's sums come back with float digits)."""
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _day(value: date | datetime) -> date:
    return timezone.localdate(value) if isinstance(value, datetime) else value


@dataclass
class Report:
    """A table (columns, rows) and what its chart plots."""

    slug: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


def without_jit(build):
    """Run a report (or the price list) with PostgreSQL's JIT compiler off: on these aggregates
    over ~100k index rows it spent longer compiling (up to 1.8 s at 1M rows) than running."""

    @wraps(build)
    def run(*args, **kwargs):
        if connection.vendor != "postgresql":
            return build(*args, **kwargs)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            return build(*args, **kwargs)

    return run


# --- money out and in ---------------------------------------------------------------------------
@without_jit
def money_per_week(p: Period) -> Report:
    paid = (
        Payout.objects.filter(status=PayoutStatus.SETTLED, settled_at__gte=p.since)
        .annotate(week=_week("settled_at"))
        .values("week")
        .annotate(n=Count("*"), total=Sum("amount"))
        .values_list("week", "n", "total")
    )
    sold = (
        Unit.objects.filter(sold_on__gte=p.first_day, sale_price__isnull=False)
        .annotate(week=_week("sold_on", of_day=True))
        .values("week")
        .annotate(n=Count("*"), total=Sum("sale_price"))
        .values_list("week", "n", "total")
    )
    weeks: dict[date, list] = {}
    for week, n, total in paid:
        weeks.setdefault(_day(week), [0, _cents(0), 0, _cents(0)])[0:2] = [n, _cents(total)]
    for week, n, total in sold:
        weeks.setdefault(_day(week), [0, _cents(0), 0, _cents(0)])[2:4] = [n, _cents(total)]
    return Report(
        "money",
        "Money out (payouts settled) and in (sales) per week",
        ["Week of", "Payouts settled", "Paid out", "Units sold", "Sales", "In − out"],
        [
            [week, n_out, out, n_in, sales, sales - out]
            for week, (n_out, out, n_in, sales) in sorted(weeks.items())
        ],
    )


# --- margin by model and grade ------------------------------------------------------------------
@without_jit
def margin_by_model(p: Period) -> Report:
    # The costs as each unit's row carries them, read off unit_margin_idx alone (PostgreSQL).
    sold = Unit.objects.filter(sold_on__gte=p.first_day, sale_price__isnull=False)
    rows = (
        sold.values("product__device_model__make__name", "product__device_model__name", "grade")
        .annotate(
            n=Count("*"),
            sales=Sum("sale_price"),
            payouts=Sum("payout_cost"),
            labels=Sum("label_cost"),
            refurbishment=Sum("refurbishment_cost"),
            costs=Sum("total_cost"),
        )
        .order_by("product__device_model__make__name", "product__device_model__name", "grade")
    )
    table = []
    for row in rows:
        for key in ("sales", "payouts", "labels", "refurbishment", "costs"):
            row[key] = _cents(row[key])
        margin = row["sales"] - row["costs"]
        share = round(100 * margin / row["sales"], 1) if row["sales"] else None
        table.append(
            [
                f"{row['product__device_model__make__name']} {row['product__device_model__name']}",
                row["grade"] or "–",
                row["n"],
                row["sales"],
                row["payouts"],
                row["labels"],
                row["refurbishment"],
                margin,
                share,
            ]
        )
    return Report(
        "margin",
        "Margin by model and grade (units sold)",
        [
            "Model",
            "Grade",
            "Units sold",
            "Sales",
            "Payouts",
            "Labels",
            "Refurbishment",
            "Margin",
            "Margin %",
        ],
        table,
    )


# --- stock ageing -------------------------------------------------------------------------------
# (label, first day, last day) of each bucket; None: no upper end.
BUCKETS = [
    ("0–7 days", 0, 7),
    ("8–30 days", 8, 30),
    ("31–90 days", 31, 90),
    ("over 90 days", 91, None),
]


def _bucket_case(days_expression) -> Case:
    whens = [
        When(**{f"{days_expression}__lte": timedelta(days=last)}, then=Value(i))
        for i, (_label, _first, last) in enumerate(BUCKETS)
        if last is not None
    ]
    return Case(*whens, default=Value(len(BUCKETS) - 1), output_field=IntegerField())


@without_jit
def stock_ageing(p: Period) -> Report:
    """Days from received to sold for the units sold in the period, and the units still on
    the shelf (stocked, arrived) by the days since they were received, in the same buckets."""
    tz = timezone.get_current_timezone()
    # When the unit arrived (written at intake), read off the unit's indexes alone.
    sold = dict(
        Unit.objects.filter(
            sold_on__gte=p.first_day, sale_price__isnull=False, received_at__isnull=False
        )
        .annotate(
            age=ExpressionWrapper(
                F("sold_on") - TruncDate("received_at", tzinfo=tz),
                output_field=DurationField(),
            )
        )
        .annotate(bucket=_bucket_case("age"))
        .values("bucket")
        .annotate(n=Count("*"))
        .values_list("bucket", "n")
    )
    # On the shelf: bucket i holds units received on or after the start of (today − last day).
    starts = [
        timezone.make_aware(datetime.combine(p.today - timedelta(days=last), time.min))
        for _label, _first, last in BUCKETS
        if last is not None
    ]
    shelf_case = Case(
        *[When(received_at__gte=start, then=Value(i)) for i, start in enumerate(starts)],
        default=Value(len(BUCKETS) - 1),
        output_field=IntegerField(),
    )
    shelf = dict(
        Unit.objects.filter(status__in=STOCKED_STATUSES, received_at__isnull=False)
        .annotate(bucket=shelf_case)
        .values("bucket")
        .annotate(n=Count("*"))
        .values_list("bucket", "n")
    )
    return Report(
        "ageing",
        "Stock ageing: days from received to sold, and what is still on the shelf",
        ["Days", "Sold in the period", "On the shelf now"],
        [[label, sold.get(i, 0), shelf.get(i, 0)] for i, (label, *_rest) in enumerate(BUCKETS)],
    )


# --- the funnel ---------------------------------------------------------------------------------
@without_jit
def funnel(p: Period) -> Report:
    """Trade-ins submitted each week, and how many of those got as far as each step so far."""
    # "Paid" joins only the payouts settled in the period: a payout settles after its
    # trade-in was submitted, so a trade-in submitted in the period was paid in it too. Both
    # sides are read off covering indexes (tradein_funnel_idx, payout_settled_idx).
    rows = (
        TradeIn.objects.filter(created_at__gte=p.since)
        .alias(
            paid_payout=FilteredRelation(
                "payout",
                condition=Q(payout__status=PayoutStatus.SETTLED, payout__settled_at__gte=p.since),
            )
        )
        .annotate(week=_week("created_at"))
        .values("week")
        .annotate(
            submitted=Count("*"),
            quoted=Count("offer_amount"),
            accepted=Count("accepted_at"),
            received=Count("received_at"),
            paid=Count("paid_payout__trade_in"),
        )
        .order_by("week")
    )
    return Report(
        "funnel",
        "Funnel by week of submission: submitted → quoted → accepted → received → paid",
        ["Week of", "Submitted", "Quoted", "Accepted", "Received", "Paid"],
        [
            [_day(r["week"]), r["submitted"], r["quoted"], r["accepted"], r["received"], r["paid"]]
            for r in rows
        ],
    )


# --- auto-quote share ---------------------------------------------------------------------------
@without_jit
def auto_quote_share(p: Period) -> Report:
    rows = (
        Quote.objects.filter(created_at__gte=p.since)
        .annotate(week=_week("created_at"))
        .values("week")
        .annotate(n=Count("pk"), auto=Count("pk", filter=Q(auto_quoted=True)))
        .order_by("week")
    )
    return Report(
        "auto-quote",
        "Quotes sent by the auto-quote policy, per week",
        ["Week of", "Quotes", "By staff", "Auto-quoted", "Auto-quoted %"],
        [
            [
                _day(r["week"]),
                r["n"],
                r["n"] - r["auto"],
                r["auto"],
                round(100 * r["auto"] / r["n"], 1),
            ]
            for r in rows
        ],
    )


# --- units on police hold -----------------------------------------------------------------------
@without_jit
def units_on_hold(limit: int | None = 200) -> Report:
    """The units the police hold keeps on the shelf today (workflows.rules.compliance.unit_on_hold,
    as one query), oldest first."""
    # One pass over the held units' ids (index-only) gives the first `limit` and the count
    # (a window over all of them); then only those units are read in full.
    held = (
        held_units(Unit.objects.filter(status__in=HOLD_SHOWN_STATUSES))
        .annotate(total=Window(Count("*")))
        .order_by("trade_in__received_at", "pk")
        .values_list("pk", "total")
    )
    first = list(held[:limit] if limit else held)
    total = first[0][1] if first else 0
    ids = [pk for pk, _total in first]
    loaded = Unit.objects.select_related("product__device_model__make", "trade_in").in_bulk(ids)
    units = [loaded[pk] for pk in ids]
    start = "received_at" if settings.POLICE_REPORT == "off" else "reported_at"
    rows = []
    for unit in units:
        began = getattr(unit.trade_in, start)
        until = timezone.localdate(began) + timedelta(days=settings.HOLD_DAYS) if began else None
        rows.append(
            [
                unit.imei,
                str(unit.product),
                unit.get_status_display(),
                timezone.localdate(unit.trade_in.received_at),
                until or "not reported yet",
            ]
        )
    shown = f" (the first {limit})" if limit and total > limit else ""
    return Report(
        "on-hold",
        f"Units on police hold: {total}{shown}",
        ["IMEI", "Product", "Status", "Received", "Hold until"],
        rows,
        note="" if settings.HOLD_DAYS else "The police hold is off (HOLD_DAYS = 0).",
    )


@without_jit
def on_hold_count() -> int:
    return held_units(Unit.objects.filter(status__in=HOLD_SHOWN_STATUSES)).count()


REPORTS = {
    "money": money_per_week,
    "margin": margin_by_model,
    "ageing": stock_ageing,
    "funnel": funnel,
    "auto-quote": auto_quote_share,
}
