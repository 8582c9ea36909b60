from __future__ import annotations

import os
import uuid

import pytest
from django.contrib.auth.models import Group, User

from backoffice.roles import sync_roles
from tests.factories import ProductFactory, load_deductions

# Re-exported: test modules used to import these from here.
from tests.helpers import (  # noqa: F401
    PASSWORD,
    assert_books_balance,
    declared,
    intake_data,
    links_in_last_mail,
    refresh,
    submission,
    verify_second_step,
)
from tests.integrations import provider_spec
from workflows import actions
from workflows.models import (
    BlockedImei,
    Product,
    Quote,
    State,
    TradeIn,
)
from workflows.rules.inspection import checklist_as_disclosed
from workflows.tasks import run_due_side_effects


def pytest_configure(config):
    """Stop before collecting anything when the providers' specs cannot be found."""
    try:
        provider_spec.specs_dir()
    except provider_spec.SpecsNotFound as missing:
        raise pytest.UsageError(str(missing)) from None


def pytest_collection_modifyitems(config, items):
    """`postgres_only` tests run once, in .ci/run's PostgreSQL run; skipped on SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(
        reason="slow; runs once, in CI's PostgreSQL run: set DATABASE_URL=postgres://... to run it"
    )
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


def _user(username: str, group: str) -> User:
    sync_roles()  # transactional (browser) tests flush the groups the migration made
    user = User.objects.create_user(username, f"{username}@shop.example", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture(autouse=True)
def _fresh_process_cache():
    """Each worker's in-memory cache (popular models, rate counts) starts empty per test."""
    from django.core.cache import caches

    caches["default"].clear()
    if os.environ.get("REDIS_URL"):
        # The shared cache is Redis then (rate counts): it outlives a test's database.
        caches["shared"].clear()


@pytest.fixture
def staff(db) -> User:
    return _user("staff", "Staff")


@pytest.fixture
def manager(db) -> User:
    return _user("manager", "Manager")


@pytest.fixture
def admin_user(db) -> User:
    return _user("admin", "Admin")


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin client, past the second step an admin must take."""
    client.force_login(admin_user)
    verify_second_step(client, admin_user)
    return client


@pytest.fixture
def product(db) -> Product:
    load_deductions()
    return ProductFactory()


@pytest.fixture
def drain():
    """Run the side effects that are due, as the django-q2 worker would after commit."""

    def run() -> int:
        total = 0
        while n := run_due_side_effects():
            total += n
        return total

    return run


@pytest.fixture
def make_trade_in(db, product, drain, staff, manager):
    """Build a trade-in in any state by calling the real actions, in order."""

    def build(state: str = State.SUBMITTED, *, flagged: bool = False, **overrides) -> TradeIn:
        sub = submission(overrides.pop("product", product), **overrides)
        if flagged:
            BlockedImei.objects.create(imei=sub.imei, reason=BlockedImei.Reason.BLACKLISTED)
        trade_in = actions.trade_in_submit(submission=sub, submission_key=uuid.uuid4().hex)
        drain()
        if state == State.SUBMITTED:
            return refresh(trade_in)
        if state == State.DECLINED and not overrides.get("_after_quote"):
            actions.trade_in_decline(trade_in=trade_in, actor=staff, reason="Not buying these")
            return refresh(trade_in)
        quote = actions.trade_in_quote(
            trade_in=trade_in,
            actor=manager if flagged else staff,
            amount="300.00",
            override_reason="Carrier cleared it by phone" if flagged else "",
        )
        drain()
        if state == State.QUOTED:
            return refresh(trade_in)
        if state == State.EXPIRED:
            Quote.objects.filter(pk=quote.pk).update(valid_until=quote.created_at)
            actions.trade_in_expire(trade_in=trade_in)
            return refresh(trade_in)
        actions.trade_in_accept(quote=quote, declaration=declared())
        drain()
        if state == State.ACCEPTED:
            return refresh(trade_in)
        if state == State.CANCELLED:
            actions.trade_in_cancel(trade_in=trade_in, actor=staff, reason="Never arrived")
            return refresh(trade_in)
        if state in (State.REOFFERED, State.RETURNED):
            actions.trade_in_intake(
                trade_in=trade_in,
                scanned_imei=trade_in.imei,
                actor=staff,
                checklist={**checklist_as_disclosed(trade_in), "screen": "cracked"},
                outcome="revise",
                grade="C",
                amount="200.00",
                notes="Cracked glass, top left",
            )
            drain()
            if state == State.RETURNED:
                offer = trade_in.revised_offers.get()
                actions.revised_offer_decline(offer=offer)
                drain()
            return refresh(trade_in)
        actions.trade_in_intake(
            trade_in=trade_in,
            scanned_imei=trade_in.imei,
            actor=staff,
            checklist=checklist_as_disclosed(trade_in),
            outcome="grade",
            grade="B",
        )
        if state == State.RECEIVED:
            return refresh(trade_in)
        if state in (State.REROUTED, State.RECYCLED):
            case = actions.trade_in_reroute(
                trade_in=trade_in, actor=staff, reason="Cracked back glass"
            )
            if state == State.RECYCLED:
                actions.return_case_resolve(
                    case=case, actor=staff, resolution="recycled", note="Buyer agreed"
                )
            drain()
            return refresh(trade_in)
        if state == State.CLOSED:
            from datetime import date

            actions.payout_settle_check(
                payout=trade_in.payout, actor=manager, check_number="1001", check_date=date.today()
            )
            return refresh(trade_in)
        raise ValueError(state)

    return build
