"""Bulk rows for benchmarks: realistic shapes, written fast, never through the actions.

The benchmarks measure reads (the queue, the export, the intake lookup), so the rows only
need the columns those reads touch; building 100k trade-ins through the actions would take
longer than the measurements themselves.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, connections
from django.test.utils import (
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)
from django.utils import timezone
from stdnum import luhn

from workflows.models import (
    Order,
    Payout,
    PayoutStatus,
    Product,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)

STATE_MIX = (
    [State.SUBMITTED] * 2
    + [State.QUOTED] * 2
    + [State.ACCEPTED]
    + [State.RECEIVED]
    + [State.CLOSED] * 8
    + [State.DECLINED] * 3
    + [State.EXPIRED]
)


def imei_for(n: int) -> str:
    body = f"35{n:012d}"
    return body + luhn.calc_check_digit(body)


def seed_trade_ins(
    total: int, *, states: list[str] = STATE_MIX, units: bool = False, batch: int = 5000
) -> None:
    """Add trade-ins until there are `total`, with a payout (and, with `units`, a unit)
    for each accepted one."""
    products = list(Product.objects.all()[:200])
    if not products:
        raise SystemExit("Load the catalog first: manage.py seed_demo")
    rng = random.Random(total)
    now = timezone.now()
    start = TradeIn.objects.count()
    last_pk = TradeIn.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    # Orders and trade-ins were numbered alike until the first basket of two: count apart.
    last_order = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for offset in range(start, total, batch):
        rows = []
        orders = []
        for n in range(offset, min(offset + batch, total)):
            pk = last_pk + n - start + 1
            order_pk = last_order + n - start + 1
            state = rng.choice(states)
            product = rng.choice(products)
            offer = (product.base_price * Decimal("0.8")).quantize(Decimal("1.00"))
            created_at = now - timedelta(minutes=rng.randint(0, 60 * 24 * 90))
            # A one-device order each; its device has its reference (as today's buyer gets).
            orders.append(
                Order(
                    pk=order_pk,
                    reference=f"TI-{order_pk:06d}",
                    submission_key=f"bench-{pk}",
                    created_at=created_at,
                    buyer_name=f"Buyer {pk}",
                    buyer_email=f"b{pk}@example.com",
                    fulfilment="ship",
                    address_line1="1 Main St",
                    city="Chicago",
                    postcode="60601",
                    payout_method="check",
                )
            )
            rows.append(
                TradeIn(
                    pk=pk,
                    order_id=order_pk,
                    position=1,
                    reference=f"TI-{order_pk:06d}",
                    state=state,
                    product=product,
                    screen="scratched",
                    body="worn",
                    battery="good",
                    accessories="box",
                    imei=imei_for(pk),
                    suggested_offer=offer,
                    offer_amount=None if state == State.SUBMITTED else offer,
                    imei_status="flagged" if pk % 50 == 0 else "clean",
                    submission_key=f"bench-{pk}",
                    created_at=created_at,
                    accepted_at=now
                    if state in (State.ACCEPTED, State.RECEIVED, State.CLOSED)
                    else None,
                )
            )
        Order.objects.bulk_create(orders)
        TradeIn.objects.bulk_create(rows)
        payouts = [
            Payout(
                trade_in_id=t.pk,
                amount=t.offer_amount,
                currency="USD",
                method="check",
                status=PayoutStatus.SETTLED if t.state == State.CLOSED else PayoutStatus.PENDING,
                settlement_reference=f"check {t.pk}" if t.state == State.CLOSED else "",
                settled_at=now if t.state == State.CLOSED else None,
            )
            for t in rows
            if t.accepted_at
        ]
        Payout.objects.bulk_create(payouts)
        if units:
            Unit.objects.bulk_create(
                [
                    Unit(
                        product_id=t.product_id,
                        imei=t.imei,
                        trade_in_id=t.pk,
                        status=UnitStatus.RECEIVED
                        if t.state == State.ACCEPTED
                        else UnitStatus.GRADED,
                    )
                    for t in rows
                    if t.accepted_at
                ]
            )
    # Rows were written with explicit ids: move PostgreSQL's sequences past them, or the next
    # real insert (a buyer's submission in the benchmark) would collide.
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Order, TradeIn, Payout, Unit]):
            cursor.execute(sql)


def bench_user(role: str = "Manager") -> User:
    from backoffice.roles import sync_roles

    sync_roles()
    user, _ = User.objects.get_or_create(
        username=f"bench-{role.lower()}", defaults={"is_staff": True}
    )
    user.groups.add(Group.objects.get(name=role))
    return user


@contextmanager
def throwaway_database(name: str = "bench", *, sqlite_file: bool = True):
    """A fresh, migrated database made like the test database and dropped afterwards.

    Benchmarks never touch real data, and what they seed is committed (and, on PostgreSQL,
    vacuumed) like real data, so counts and index-only scans behave as in production. Each
    benchmark names its own (`<configured name>_<name>` on PostgreSQL), so two benchmarks, or
    two clones sharing a server, never drop each other's. `sqlite_file=False` keeps Django's
    in-memory SQLite test database (the browser benchmarks share it with the live server).
    """
    for conn in connections.all():
        test = conn.settings_dict.setdefault("TEST", {})
        if conn.vendor != "sqlite":
            test["NAME"] = f"{conn.settings_dict['NAME']}_{name}"[:63]
        elif sqlite_file:
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)  # a fresh clone has none yet
            test["NAME"] = str(settings.VAR_DIR / f"{name}.sqlite3")
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        call_command("loaddata", "catalog", verbosity=0)
        yield
    finally:
        close_other_sessions()
        teardown_databases(old, verbosity=0)
        teardown_test_environment()


def close_other_sessions() -> None:
    """Before the throwaway database is dropped: this thread's connections closed, and on
    PostgreSQL every other session on it ended (a live server's request threads, a gunicorn
    worker that has not exited yet), or DROP DATABASE refuses: "being accessed by other
    users"."""
    for conn in connections.all():
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
        conn.close()


@contextmanager
def kept_database(name: str):
    """A database kept between runs (created and migrated on first use; later runs apply new
    migrations only), for measuring again without seeding again. Never the configured one."""
    default = connections["default"]
    if name == default.settings_dict["NAME"]:
        raise SystemExit(f"{name} is the configured database: name another one")
    with default._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    default.close()
    default.settings_dict["NAME"] = name
    call_command("migrate", verbosity=0)
    vacuum()  # what a migration rewrote (quick where nothing changed)
    if not Product.objects.exists():
        call_command("loaddata", "catalog", verbosity=0)
    yield


def vacuum() -> None:
    """Planner statistics and visibility maps for what was just seeded."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
