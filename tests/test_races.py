"""Concurrency on PostgreSQL: many people acting on the same row at once get one outcome.

SQLite serializes every write, so these only prove something on PostgreSQL; there they run
with real threads, each on its own connection, released together by a barrier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

from django.db import connections

from tests.helpers import RACE, assert_books_balance, declared, refresh, submission
from workflows import actions
from workflows.errors import DomainError
from workflows.models import Event, EventKind, Payout, PayoutStatus, Quote, State, TradeIn, Unit
from workflows.rules.inspection import checklist_as_disclosed

pytestmark = RACE


def race(*callables: Callable[[], object]) -> list[object]:
    """Run the callables at the same instant; return each one's result or DomainError."""
    barrier = threading.Barrier(len(callables))
    results: list[object] = [None] * len(callables)

    def run(i: int, fn: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[i] = fn()
        except DomainError as exc:
            results[i] = exc
        except Exception as exc:  # surfaced by the assertions below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(callables)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def outcomes(results: list[object]) -> tuple[int, int]:
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert not unexpected, unexpected
    refused = sum(isinstance(r, DomainError) for r in results)
    return len(results) - refused, refused


def test_it_accepts_a_quote_once_when_twenty_buyers_click_at_once(make_trade_in, product):
    trade_in = make_trade_in(State.QUOTED)
    quote = trade_in.latest_quote()
    accept = lambda: actions.trade_in_accept(quote=quote, declaration=declared())  # noqa: E731
    results = race(*[accept for _ in range(20)])
    assert outcomes(results) == (1, 19)
    product.refresh_from_db()
    assert product.stock == 1
    assert Unit.objects.filter(trade_in=trade_in).count() == 1
    assert Payout.objects.filter(trade_in=trade_in).count() == 1
    assert Event.objects.filter(trade_in=trade_in, kind=EventKind.ACCEPTED).count() == 1
    assert_books_balance()


def test_it_receives_an_imei_once_at_two_benches(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    receive = lambda: actions.trade_in_intake(  # noqa: E731
        trade_in=trade_in,
        scanned_imei=trade_in.imei,
        actor=staff,
        checklist=checklist_as_disclosed(trade_in),
        outcome="grade",
        grade="A",
    )
    assert outcomes(race(receive, receive)) == (1, 1)
    assert Event.objects.filter(trade_in=trade_in, kind=EventKind.RECEIVED).count() == 1
    assert refresh(trade_in).state == State.RECEIVED


def test_a_buyer_accepting_while_staff_counter_quote_gets_one_outcome(make_trade_in, staff):
    for _ in range(5):  # either side may win; both orders must be consistent
        trade_in = make_trade_in(State.QUOTED)
        quote = trade_in.latest_quote()
        accepted, countered = race(
            lambda quote=quote: actions.trade_in_accept(quote=quote, declaration=declared()),
            lambda trade_in=trade_in: actions.trade_in_quote(
                trade_in=trade_in, actor=staff, amount="999"
            ),
        )
        trade_in = refresh(trade_in)
        assert isinstance(accepted, DomainError) != isinstance(countered, DomainError)
        if isinstance(accepted, DomainError):  # the counter-quote won: the old link is dead
            assert trade_in.state == State.QUOTED and trade_in.offer_amount == 999
            assert not Payout.objects.filter(trade_in=trade_in).exists()
        else:  # the buyer won: no new quote was written, the payout is the accepted offer
            assert trade_in.state == State.ACCEPTED
            assert Quote.objects.filter(trade_in=trade_in).count() == 1
            assert trade_in.payout.amount == quote.amount
    assert_books_balance()


def test_two_managers_settling_one_payout_settle_it_once(make_trade_in, manager):
    from django.contrib.auth.models import Group, User

    other = User.objects.create_user("manager2", password="x", is_staff=True)
    other.groups.add(Group.objects.get(name="Manager"))
    trade_in = make_trade_in(State.RECEIVED)
    payout = trade_in.payout
    results = race(
        lambda: actions.payout_settle_check(
            payout=payout, actor=manager, check_number="1", check_date=date.today()
        ),
        lambda: actions.payout_settle_check(
            payout=payout, actor=other, check_number="2", check_date=date.today()
        ),
    )
    assert outcomes(results) == (1, 1)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SETTLED
    assert Event.objects.filter(trade_in=trade_in, kind=EventKind.PAYOUT_SETTLED).count() == 1
    assert refresh(trade_in).state == State.CLOSED


def test_a_double_tap_racing_itself_creates_one_trade_in(product):
    sub = submission(product)
    submit = lambda: actions.trade_in_submit(submission=sub, submission_key="same-tap")  # noqa: E731
    results = race(*[submit for _ in range(5)])
    assert outcomes(results) == (5, 0)
    assert TradeIn.objects.count() == 1
    assert len({r.pk for r in results}) == 1


def test_one_imei_accepted_on_two_trade_ins_at_once_is_stocked_once(make_trade_in, manager):
    """Two trade-ins of one device (a manager overrode the duplicate flag), of two different
    products so no product lock serializes them, accepted in the same instant: the unit
    constraint lets exactly one into stock."""
    from tests.factories import ProductFactory

    for _ in range(3):
        first = make_trade_in(State.QUOTED)
        second = make_trade_in(State.QUOTED, product=ProductFactory())
        TradeIn.objects.filter(pk=second.pk).update(imei=first.imei)
        quotes = [first.latest_quote(), refresh(second).latest_quote()]
        results = race(
            *[lambda q=q: actions.trade_in_accept(quote=q, declaration=declared()) for q in quotes]
        )
        assert outcomes(results) == (1, 1)
        assert Unit.objects.filter(imei=first.imei).count() == 1
        states = sorted(refresh(t).state for t in (first, second))
        assert states == [State.ACCEPTED, State.QUOTED]
    assert_books_balance()
