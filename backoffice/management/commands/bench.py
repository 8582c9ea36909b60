"""`make bench`: every performance number of the project, measured side by side in one run.

Seeds a throwaway dataset inside a transaction that is rolled back at the end, so it can run
against any database without leaving rows behind.
"""

from __future__ import annotations

import random
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterable

from django.contrib import admin
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import RequestFactory

from backoffice.benchdata import bench_user, seed_trade_ins
from backoffice.management.commands.bench_queue import StockTradeInAdmin, render
from backoffice.resources import PayoutResource
from backoffice.views import intake_bench
from workflows.models import Payout, State, TradeIn, Unit


def measure(consume: Callable[[], Iterable]) -> tuple[float, int, int]:
    """Seconds and rows to run an export to the end, then its peak Python memory (bytes).

    Two passes: tracing every allocation slows Python code several times over, which would
    make the timing unfair to the exports written in Python.
    """
    started = time.perf_counter()
    rows = sum(1 for _ in consume())
    seconds = time.perf_counter() - started
    tracemalloc.start()
    for _ in consume():
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, rows, peak


def analyze() -> None:
    """Rows seeded in this transaction are invisible to autovacuum: give the planner stats."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def copy_rows() -> Iterable:
    sql = ("COPY (SELECT t.reference, t.buyer_name, t.buyer_email, p.amount, p.currency, "
           "p.method, p.status, p.created_at, p.settled_at, p.settlement_reference "
           "FROM workflows_payout p JOIN workflows_tradein t ON t.id = p.trade_in_id) "
           "TO STDOUT WITH CSV HEADER")
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        yield from copy


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument("--trade-ins", type=int, default=100_000)
        parser.add_argument("--payouts", type=int, default=100_000)
        parser.add_argument("--scale", action="store_true",
                            help="grow to 1M units for the intake benchmark")

    def line(self, text: str = "") -> None:
        self.stdout.write(text)

    def handle(self, *args, **options) -> None:
        self.line(f"database: {connection.vendor}; everything below is rolled back")
        with transaction.atomic():
            self.queue(options["trade_ins"])
            self.export(options["payouts"])
            self.intake(1_000_000 if options["scale"] else 0)
            transaction.set_rollback(True)

    def queue(self, size: int) -> None:
        user = bench_user("Manager")
        ours, stock = admin.site._registry[TradeIn], StockTradeInAdmin(TradeIn, admin.site)
        self.line("\nqueue changelist (median of 5 renders, 50 rows)")
        self.line(f"{'trade-ins':>10} {'ours q':>7} {'ours ms':>8} {'stock q':>8} "
                  f"{'stock ms':>9} {'ratio':>6}")
        for n in sorted({1000, size}):
            seed_trade_ins(n, units=True)
            analyze()
            oq, oms = render(ours, user, 5)
            sq, sms = render(stock, user, 5)
            self.line(f"{n:>10} {oq:>7} {oms:>8.1f} {sq:>8} {sms:>9.1f} {sms / oms:>5.1f}x")

    def export(self, wanted: int) -> None:
        missing = wanted - Payout.objects.count()
        if missing > 0:  # top up with closed trade-ins, each with a settled payout
            seed_trade_ins(TradeIn.objects.count() + missing, states=[State.CLOSED], units=True)
        analyze()
        queryset = Payout.objects.all()
        count = queryset.count()
        self.line(f"\npayout CSV export, {count} rows")
        self.line(f"{'':>22} {'rows/s':>10} {'peak MB':>8} {'vs ours':>8}")
        ours = measure(lambda: PayoutResource().stream_csv(queryset))
        stock = measure(lambda: PayoutResource().export(queryset).csv.splitlines())
        results = [("ours (streamed)", ours), ("stock import-export", stock)]
        if connection.vendor == "postgresql":
            results.append(("PostgreSQL COPY", measure(copy_rows)))
        for name, (seconds, rows, peak) in results:
            self.line(f"{name:>22} {rows / seconds:>10,.0f} {peak / 1e6:>8.1f} "
                      f"{ours[0] / seconds:>7.2f}x")

    def intake(self, units: int) -> None:
        missing = units - Unit.objects.count()
        if missing > 0:  # every closed trade-in leaves one unit
            seed_trade_ins(TradeIn.objects.count() + missing, states=[State.CLOSED], units=True)
        analyze()
        user = bench_user("Staff")
        factory = RequestFactory()
        imeis = list(TradeIn.objects.filter(state=State.ACCEPTED).values_list("imei", flat=True)[:2000])
        random.Random(1).shuffle(imeis)
        timings = []
        for imei in imeis[:300]:
            request = factory.get("/dashboard/intake/", {"imei": imei})
            request.user, request.session, request._messages = user, {}, []
            started = time.perf_counter()
            response = intake_bench(request).render()
            timings.append((time.perf_counter() - started) * 1000)
            assert b"intake-match" in response.content
        timings.sort()
        units = Unit.objects.count()
        self.line(f"\nintake scan → match page, {units:,} units, {len(timings)} scans")
        self.line(f"  p50 {statistics.median(timings):.1f} ms   "
                  f"p95 {timings[int(len(timings) * 0.95)]:.1f} ms")
