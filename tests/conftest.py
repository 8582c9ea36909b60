from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.db.models import Sum

from backoffice.roles import sync_roles
from tests.factories import ProductFactory, load_deductions, valid_imei
from workflows import actions
from workflows.models import (
    STOCKED_STATUSES,
    BlockedImei,
    Payout,
    PayoutStatus,
    Product,
    Quote,
    State,
    TradeIn,
    Unit,
)
from workflows.tasks import run_due_side_effects

PASSWORD = "tradein-demo"


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


def submission(product: Product, /, **overrides) -> actions.Submission:
    fields = dict(
        product=product,
        screen="scratched",
        body="like_new",
        battery="good",
        accessories="box",
        imei=valid_imei(),
        buyer_name="Ada Buyer",
        buyer_email="ada@example.com",
        buyer_phone="555-0100",
        fulfilment="ship",
        address_line1="1 Main St",
        city="Chicago",
        region="IL",
        postcode="60601",
        payout_method="check",
    )
    fields.update(overrides)
    return actions.Submission(**fields)


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
        actions.trade_in_receive(trade_in=trade_in, actor=staff, grade="B")
        if state == State.RECEIVED:
            return refresh(trade_in)
        if state == State.REROUTED:
            actions.trade_in_reroute(trade_in=trade_in, actor=staff, reason="Cracked back glass")
            return refresh(trade_in)
        if state == State.CLOSED:
            from datetime import date

            actions.payout_settle_check(
                payout=trade_in.payout, actor=manager, check_number="1001", check_date=date.today()
            )
            return refresh(trade_in)
        raise ValueError(state)

    return build


def declared(**overrides) -> actions.DeclarationInput:
    """The buyer's declaration as the offer page sends it (ticked, the configured wording)."""
    from workflows.compliance import declaration_text

    fields = dict(confirmed=True, wording=declaration_text(), ip="127.0.0.1")
    fields.update(overrides)
    return actions.DeclarationInput(**fields)


def declaration_post(**extra: str) -> dict[str, str]:
    """The accept form's declaration fields, ticked."""
    from workflows.compliance import declaration_fingerprint

    return {"declare": "on", "wording": declaration_fingerprint(), **extra}


def refresh(obj):
    obj.refresh_from_db()
    return obj


def links_in_last_mail(to: str | None = None) -> list[str]:
    messages = [m for m in mail.outbox if to is None or to in m.to]
    assert messages, "no email was sent"
    return re.findall(r"https?://\S+", messages[-1].body)


def assert_books_balance() -> None:
    """Stock, units and payouts add up: every stocked unit is counted once, every accepted
    trade-in owes exactly its accepted quote, and nothing that left stock is still owed."""
    for product in Product.objects.all():
        stocked = Unit.objects.filter(product=product, status__in=STOCKED_STATUSES).count()
        assert product.stock == stocked, f"{product}: stock {product.stock} != {stocked} units"
    for trade_in in TradeIn.objects.all():
        has_payout = Payout.objects.filter(trade_in=trade_in).exists()
        ever_accepted = trade_in.state in (
            State.ACCEPTED,
            State.RECEIVED,
            State.CLOSED,
            State.CANCELLED,
            State.REROUTED,
        )
        assert has_payout == ever_accepted, trade_in
        assert Unit.objects.filter(trade_in=trade_in).exists() == ever_accepted, trade_in
    owed = Payout.objects.filter(status__in=[PayoutStatus.PENDING, PayoutStatus.FAILED])
    for payout in owed:
        assert payout.trade_in.state in (State.ACCEPTED, State.RECEIVED), payout
    settled = Payout.objects.filter(status=PayoutStatus.SETTLED).aggregate(s=Sum("amount"))["s"]
    accepted_offers = sum(
        (t.latest_quote().amount for t in TradeIn.objects.filter(state=State.CLOSED)), Decimal(0)
    )
    assert (settled or Decimal(0)) == accepted_offers
