"""`make bench`: the back office's performance numbers, measured side by side in one run.

Everything runs in a throwaway database (made like the test database and dropped at the end),
so it never touches real data. Run it with DATABASE_URL set to measure PostgreSQL.
"""

from __future__ import annotations

import gc
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote, urlencode

import requests
from django.conf import settings
from django.contrib import admin
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from backoffice.resources import PayoutResource
from backoffice.views import intake_bench
from bench.data import bench_user, imei_for, seed_trade_ins, throwaway_database, vacuum
from workflows.models import Payout, Product, State, TradeIn, Unit

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ["queue", "export", "intake", "submissions"]


class StockTradeInAdmin(admin.ModelAdmin):
    """The queue as a stock ModelAdmin would have it: same columns, no tuning."""

    list_display = [
        "reference",
        "created_at",
        "buyer_name",
        "product",
        "accessories",
        "state",
        "imei_status",
        "suggested_offer",
        "offer_amount",
        "fulfilment",
    ]
    list_filter = ["state", "order__fulfilment", "product__device_model__make"]
    search_fields = ["reference", "imei", "order__buyer_email", "order__buyer_name"]


def render(admins: list, user, repeat: int = 9) -> list[tuple[int, float]]:
    """Queries and median milliseconds to build and render each admin's changelist.

    The admins take turns, render by render, so a noisy moment on the machine falls on both
    sides of the comparison rather than on one.
    """
    factory = RequestFactory()
    timings: list[list[float]] = [[] for _ in admins]
    queries = [0] * len(admins)
    for _ in range(repeat + 1):  # the first render compiles templates: not counted
        for i, model_admin in enumerate(admins):
            request = factory.get("/dashboard/trade-ins/")
            request.user, request.session, request._messages = user, {}, []
            # Each render starts, as a request in a web worker would, without the garbage of
            # the seeding and of the previous render to collect.
            gc.collect()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                model_admin.changelist_view(request).render()
                timings[i].append((time.perf_counter() - started) * 1000)
            queries[i] = len(ctx)
    return [(q, statistics.median(t[1:])) for q, t in zip(queries, timings, strict=True)]


def measure(consume: Callable[[], Iterable]) -> tuple[float, int]:
    """Seconds to run an export to the end, then its peak Python memory (bytes).

    Two passes: tracing every allocation slows Python code several times over, which would
    make the timing unfair to the exports written in Python. (Rows are the payouts: ours hands
    on its CSV in pieces of many rows, so counting pieces would not count rows.)
    """
    started = time.perf_counter()
    for _ in consume():
        pass
    seconds = time.perf_counter() - started
    tracemalloc.start()
    for _ in consume():
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak


def copy_rows() -> Iterable:
    sql = (
        "COPY (SELECT t.reference, t.buyer_name, t.buyer_email, p.amount, p.currency, "
        "p.method, p.status, p.created_at, p.settled_at, p.settlement_reference "
        "FROM workflows_payout p JOIN workflows_tradein t ON t.id = p.trade_in_id) "
        "TO STDOUT WITH CSV HEADER"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        yield from copy


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument("--trade-ins", type=int, default=100_000)
        parser.add_argument("--payouts", type=int, default=100_000)
        parser.add_argument(
            "--scale", action="store_true", help="grow to 1M units for the intake benchmark"
        )
        parser.add_argument("--only", choices=SECTIONS, action="append")
        parser.add_argument(
            "--seconds", type=int, default=10, help="how long buyers keep submitting"
        )

    def line(self, text: str = "") -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args, **options) -> None:
        sections = options["only"] or SECTIONS
        with throwaway_database():
            self.line(
                f"database: {connection.vendor} (throwaway); "
                f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}"
            )
            if "queue" in sections:
                self.queue(options["trade_ins"])
            if "export" in sections:
                self.export(options["payouts"])
            if "intake" in sections:
                self.intake(1_000_000 if options["scale"] else 0)
            if "submissions" in sections:
                self.submissions(options["seconds"])

    def queue(self, size: int) -> None:
        user = bench_user("Manager")
        ours, stock = admin.site._registry[TradeIn], StockTradeInAdmin(TradeIn, admin.site)
        self.line("\nqueue changelist (median of 9 renders, 50 rows a page)")
        self.line(
            f"{'trade-ins':>10} {'ours q':>7} {'ours ms':>8} {'stock q':>8} "
            f"{'stock ms':>9} {'faster':>7}"
        )
        for n in sorted({1000, size}):
            seed_trade_ins(n, units=True)
            vacuum()
            (oq, oms), (sq, sms) = render([ours, stock], user)
            self.line(f"{n:>10} {oq:>7} {oms:>8.1f} {sq:>8} {sms:>9.1f} {sms / oms:>6.1f}x")

    def export(self, wanted: int) -> None:
        missing = wanted - Payout.objects.count()
        if missing > 0:  # top up with closed trade-ins, each with a settled payout
            seed_trade_ins(TradeIn.objects.count() + missing, states=[State.CLOSED], units=True)
            vacuum()
        queryset = Payout.objects.all()
        rows = queryset.count()
        self.line(f"\npayout CSV export, {rows:,} rows")
        self.line(f"{'':>22} {'rows/s':>10} {'peak MB':>8} {'vs ours':>8}")
        ours = measure(lambda: PayoutResource().stream_csv(queryset))
        results = [
            ("ours (streamed)", ours),
            (
                "stock import-export",
                measure(lambda: PayoutResource().export(queryset).csv.splitlines()),
            ),
        ]
        if connection.vendor == "postgresql":
            results.append(("PostgreSQL COPY", measure(copy_rows)))
        for name, (seconds, peak) in results:
            self.line(
                f"{name:>22} {rows / seconds:>10,.0f} {peak / 1e6:>8.1f} {ours[0] / seconds:>7.2f}x"
            )

    def intake(self, units: int) -> None:
        missing = units - Unit.objects.count()
        if missing > 0:  # every closed trade-in leaves one unit
            seed_trade_ins(TradeIn.objects.count() + missing, states=[State.CLOSED], units=True)
            vacuum()
        user = bench_user("Staff")
        factory = RequestFactory()
        imeis = list(
            TradeIn.objects.filter(state=State.ACCEPTED).values_list("imei", flat=True)[:2000]
        )
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
        self.line(
            f"\nintake scan → match page, {Unit.objects.count():,} units, {len(timings)} scans"
        )
        self.line(
            f"  p50 {statistics.median(timings):.1f} ms   "
            f"p95 {timings[int(len(timings) * 0.95)]:.1f} ms"
        )

    def submissions(self, duration: int) -> None:
        """Buyer form POSTs per second through gunicorn with 2 workers, 8 buyers at once."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DEBUG": "False",
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "BUYER_SUBMIT_RATE": "1000000/m",  # one client address sends everything
            "VAR_DIR": str(settings.VAR_DIR),
            "SERVE_COLLECTED_STATIC": "True",
        }
        # Production serves the collected, hashed static files (a fresh clone has none yet).
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "backoffice.wsgi",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,  # the access log (gunicorn.conf.py), a line a request
        )
        base = f"http://127.0.0.1:{port}"
        product = Product.objects.select_related("device_model__make").first()
        path = f"/trade-in/?make={product.device_model.make.slug}&model={product.device_model.slug}"
        try:
            for _ in range(100):
                try:
                    requests.get(base + path, timeout=2)
                    break
                except (requests.ConnectionError, requests.Timeout):  # still booting
                    time.sleep(0.1)
            before = TradeIn.objects.count()
            session = requests.Session()
            session.get(base + path, timeout=10)
            token = session.cookies["csrftoken"]
            fields = {
                "csrfmiddlewaretoken": token,
                "product": product.pk,
                "screen": "scratched",
                "body": "worn",
                "battery": "good",
                "accessories": "box",
                "buyer_name": "Bench Buyer",
                "buyer_email": "bench@example.com",
                "fulfilment": "pickup",
                "payout_method": "check",
                "website": "",
            }
            if shutil.which("wrk"):
                client = "wrk, 2 threads"
                seconds = self.wrk(base, path, token, urlencode(fields), duration)
            else:  # a Python client: it competes with the server for the CPUs
                client = "Python client (install wrk for a fair number)"
                seconds = self.python_client(base + path, fields, duration)
        finally:
            server.terminate()
            server.wait(timeout=30)
        made = TradeIn.objects.count() - before
        self.line(f"\nbuyer submissions through gunicorn, 2 workers, 8 connections ({client})")
        self.line(f"  {made} trade-ins in {seconds:.1f} s = {made / seconds:.0f}/s")

    def wrk(self, base: str, path: str, token: str, body: str, duration: int) -> float:
        env = {**os.environ, "BODY": body, "TOKEN": token, "FORM_PATH": path}
        started = time.perf_counter()
        result = subprocess.run(
            [
                "wrk",
                "-t2",
                "-c8",
                f"-d{duration}s",
                "-s",
                str(Path(__file__).with_name("submit.lua")),
                base,
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        if "Non-2xx" in result.stdout:  # a refused submission is not throughput: say so
            self.line(result.stdout)
        return time.perf_counter() - started

    def python_client(self, url: str, fields: dict, duration: int) -> float:
        deadline = time.perf_counter() + duration
        counter, lock = iter(range(10**9, 2 * 10**9)), threading.Lock()

        def buyer() -> None:
            session = requests.Session()
            session.cookies.set("csrftoken", fields["csrfmiddlewaretoken"])
            while time.perf_counter() < deadline:
                with lock:
                    i = next(counter)
                session.post(
                    url,
                    timeout=30,
                    allow_redirects=False,
                    data={**fields, "imei": imei_for(i), "submission_key": f"bench-post-{i}"},
                )

        threads = [threading.Thread(target=buyer) for _ in range(8)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - started
