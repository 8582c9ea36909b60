"""Benchmark the trade-ins queue: queries and milliseconds per render, ours next to a stock
ModelAdmin on the same rows. Runs inside a transaction that is rolled back."""

from __future__ import annotations

import statistics
import time

from django.contrib import admin
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from backoffice.benchdata import bench_user, seed_trade_ins
from workflows.models import TradeIn


class StockTradeInAdmin(admin.ModelAdmin):
    """What an admin page looks like before anyone tunes it: same columns, no tuning."""

    list_display = ["reference", "created_at", "product", "state", "imei_status",
                    "suggested_offer", "offer_amount", "fulfilment"]
    list_filter = ["state", "fulfilment", "product__device_model__make"]
    search_fields = ["reference", "imei", "buyer_email", "buyer_name"]


def render(model_admin, user, repeat: int) -> tuple[int, float]:
    factory = RequestFactory()
    timings, queries = [], 0
    for _ in range(repeat):
        request = factory.get("/dashboard/trade-ins/")
        request.user = user
        request.session = {}
        request._messages = []
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            model_admin.changelist_view(request).render()
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(ctx)
    return queries, statistics.median(timings)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sizes", default="1000,100000")
        parser.add_argument("--repeat", type=int, default=5)

    def handle(self, *args, **options) -> None:
        sizes = [int(s) for s in options["sizes"].split(",")]
        ours = admin.site._registry[TradeIn]
        stock = StockTradeInAdmin(TradeIn, admin.site)
        self.stdout.write(f"queue changelist on {connection.vendor}, median of "
                          f"{options['repeat']} renders, 50 rows a page")
        self.stdout.write(f"{'trade-ins':>10} {'ours q':>7} {'ours ms':>8} {'stock q':>8} "
                          f"{'stock ms':>9} {'speed-up':>9}")
        with transaction.atomic():
            user = bench_user("Manager")
            for size in sizes:
                seed_trade_ins(size)
                ours_q, ours_ms = render(ours, user, options["repeat"])
                stock_q, stock_ms = render(stock, user, options["repeat"])
                self.stdout.write(f"{size:>10} {ours_q:>7} {ours_ms:>8.1f} {stock_q:>8} "
                                  f"{stock_ms:>9.1f} {stock_ms / ours_ms:>8.1f}x")
            transaction.set_rollback(True)
