"""CPU per intake scan and per buyer submission, for comparing two releases on one machine.

Wall-clock through gunicorn moves by tens of percent when other work shares the CPUs; the CPU
time of this process plus its PostgreSQL backend (read from /proc) moves far less. Run it from
the worktree of each release with that release's own virtualenv, one right after the other:

    cd ../old && DATABASE_URL=postgres://.../cpu_old .venv/bin/python ../main/bench/cpu.py
    cd ../main && DATABASE_URL=postgres://.../cpu_new .venv/bin/python bench/cpu.py

Both use that release's throwaway database and seeding (bench.data, or backoffice.benchdata in
releases before bench/ existed), DEBUG off with collected static files (run collectstatic
first), the intake view called as `python -m bench` calls it and the buyer form posted through
Django's test client as wrk posts it. PostgreSQL only (the backend's CPU is read from /proc).
Environment: CPU_TRADE_INS (default 30000), CPU_ROUNDS (default 5).

`--calls` counts the Python function calls of each instead (cProfile), on any database: the
same count however loaded the machine is, for when the CPU figures of two releases differ by
less than two runs of one release do.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from urllib.parse import urlencode

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
os.environ.setdefault("DEBUG", "False")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("BUYER_SUBMIT_RATE", "1000000/m")
os.environ.setdefault("SECRET_KEY", "bench-cpu-" + "x" * 50)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402

try:
    from bench.data import bench_user, seed_trade_ins, throwaway_database, vacuum
except ImportError:  # a release before bench/ existed
    from backoffice.benchdata import bench_user, seed_trade_ins, throwaway_database, vacuum
from backoffice.views import intake_bench  # noqa: E402
from workflows.models import Product, State, TradeIn  # noqa: E402

TRADE_INS = int(os.environ.get("CPU_TRADE_INS", "30000"))
ROUNDS = int(os.environ.get("CPU_ROUNDS", "5"))


def cpu_seconds() -> tuple[float, float]:
    """(this process, its PostgreSQL backend)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().split(")")[1].split()
    return time.process_time(), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_call(run, calls: int) -> tuple[float, float]:
    """Median ms of CPU per call over ROUNDS rounds: (total, Python alone)."""
    totals, pythons = [], []
    for round_ in range(ROUNDS):
        py0, db0 = cpu_seconds()
        for i in range(calls):
            run(round_ * calls + i)
        py1, db1 = cpu_seconds()
        totals.append((py1 - py0 + db1 - db0) * 1000 / calls)
        pythons.append((py1 - py0) * 1000 / calls)
    return statistics.median(totals), statistics.median(pythons)


def luhn(digits: str) -> str:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def calls_per_call(run, calls: int) -> float:
    """Python function calls per call (cProfile): deterministic, unlike CPU time."""
    profile = cProfile.Profile()
    profile.enable()
    for i in range(calls):
        run(i)
    profile.disable()
    return pstats.Stats(profile).total_calls / calls


def main() -> None:
    counting = "--calls" in sys.argv
    if connection.vendor != "postgresql" and not counting:
        raise SystemExit("bench/cpu.py reads the PostgreSQL backend's CPU: set DATABASE_URL")
    named = "sqlite_file" in throwaway_database.__code__.co_varnames
    with throwaway_database("cpu") if named else throwaway_database():
        seed_trade_ins(TRADE_INS, units=True)
        vacuum()
        user = bench_user("Staff")
        factory = RequestFactory()
        imeis = list(
            TradeIn.objects.filter(state=State.ACCEPTED).values_list("imei", flat=True)[:2000]
        )
        random.Random(1).shuffle(imeis)
        if len(imeis) < 20 + ROUNDS * 100:
            raise SystemExit("Too few accepted trade-ins: raise CPU_TRADE_INS")

        def scan(i: int) -> None:
            request = factory.get("/dashboard/intake/", {"imei": imeis[i % len(imeis)]})
            request.user, request.session, request._messages = user, {}, []
            assert b"intake-match" in intake_bench(request).render().content

        for i in range(20):  # templates compiled, connections open
            scan(i)
        if counting:
            print(f"intake scan: {calls_per_call(lambda i: scan(20 + i), 100):.0f} calls")
        else:
            total, python = per_call(lambda i: scan(20 + i), 100)
            print(f"intake scan: {total:.2f} ms CPU ({python:.2f} Python)")

        product = Product.objects.select_related("device_model__make").first()
        path = f"/trade-in/?make={product.device_model.make.slug}&model={product.device_model.slug}"
        client = Client(enforce_csrf_checks=True)
        client.get(path)
        body = urlencode(
            {
                "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
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
        )

        def submit(i: int) -> None:
            imei = f"35{700000000 + i:012d}"
            response = client.post(
                path,
                f"{body}&imei={imei}{luhn(imei)}&submission_key=cpu-{i}",
                content_type="application/x-www-form-urlencoded",
            )
            assert response.status_code == 302, response.status_code

        for i in range(10):
            submit(1_000_000 + i)
        if counting:
            print(f"buyer submission: {calls_per_call(submit, 100):.0f} calls")
        else:
            total, python = per_call(submit, 60)
            print(f"buyer submission: {total:.2f} ms CPU ({python:.2f} Python)")


if __name__ == "__main__":
    main()
