"""Every allowed and every forbidden transition of DESIGN.md's table, with its timeline row."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers import assert_books_balance, refresh
from workflows import actions
from workflows.errors import DomainError
from workflows.models import Event, EventKind, Quote, State

ALL_STATES = list(State.values)

# transition -> (from states, to state), exactly DESIGN.md's table
TABLE = {
    "quote": ([State.SUBMITTED, State.QUOTED, State.DECLINED, State.EXPIRED], State.QUOTED),
    "accept": ([State.QUOTED], State.ACCEPTED),
    "decline": ([State.SUBMITTED, State.QUOTED], State.DECLINED),
    "expire": ([State.QUOTED], State.EXPIRED),
    "cancel": ([State.ACCEPTED], State.CANCELLED),
    "receive": ([State.ACCEPTED], State.RECEIVED),
    "reroute": ([State.RECEIVED], State.REROUTED),
    "close": ([State.RECEIVED], State.CLOSED),
}
EVENT_KIND = {
    "quote": (EventKind.QUOTED, EventKind.COUNTER_QUOTED),
    "accept": (EventKind.ACCEPTED,),
    "decline": (EventKind.DECLINED,),
    "expire": (EventKind.EXPIRED,),
    "cancel": (EventKind.CANCELLED,),
    "receive": (EventKind.RECEIVED,),
    "reroute": (EventKind.REROUTED,),
    "close": (EventKind.CLOSED,),
}


def perform(transition: str, trade_in, staff, manager):
    if transition == "quote":
        return actions.trade_in_quote(trade_in=trade_in, actor=staff, amount="250")
    if transition == "accept":
        quote = trade_in.latest_quote()
        if quote is None:  # nothing to accept: build a dangling quote row to try with
            quote = Quote.objects.create(
                trade_in=trade_in,
                amount=1,
                currency="USD",
                valid_until=trade_in.created_at.replace(year=2100),
                sent_by=staff,
            )
        return actions.trade_in_accept(quote=quote)
    if transition == "decline":
        return actions.trade_in_decline(trade_in=trade_in, actor=staff, reason="Too damaged")
    if transition == "expire":
        quote = trade_in.latest_quote()
        if quote is not None:
            Quote.objects.filter(pk=quote.pk).update(valid_until=quote.created_at)
        return actions.trade_in_expire(trade_in=trade_in)
    if transition == "cancel":
        return actions.trade_in_cancel(trade_in=trade_in, actor=staff, reason="Never arrived")
    if transition == "receive":
        return actions.trade_in_receive(trade_in=trade_in, actor=staff, grade="A")
    if transition == "reroute":
        return actions.trade_in_reroute(trade_in=trade_in, actor=staff, reason="Bent frame")
    if transition == "close":
        if trade_in.state == State.RECEIVED or hasattr(trade_in, "payout"):
            return actions.payout_settle_check(
                payout=trade_in.payout, actor=manager, check_number="42", check_date=date.today()
            )
        # Closing is part of settling a payout (a private step of it); without a payout,
        # try the step itself, as the settling action would run it.
        from django.db import transaction

        from workflows.actions.tradeins import _trade_in_close

        with transaction.atomic():
            return _trade_in_close(trade_in=actions._common.lock_trade_in(trade_in), actor=staff)
    raise AssertionError(transition)


CASES = [(t, s) for t in TABLE for s in ALL_STATES]


@pytest.mark.parametrize(("transition", "state"), CASES, ids=[f"{t}-from-{s}" for t, s in CASES])
def test_it_allows_exactly_the_table(transition, state, make_trade_in, staff, manager):
    trade_in = make_trade_in(state)
    assert trade_in.state == state
    sources, target = TABLE[transition]
    events_before = Event.objects.filter(trade_in=trade_in).count()

    if state in sources:
        perform(transition, trade_in, staff, manager)
        trade_in = refresh(trade_in)
        assert trade_in.state == target
        event = Event.objects.filter(trade_in=trade_in, to_state=target).latest("pk")
        assert event.kind in EVENT_KIND[transition]
        assert event.from_state == state
        assert (event.actor_id is not None) or event.actor_label in ("buyer", "system")
    else:
        with pytest.raises(DomainError):
            perform(transition, trade_in, staff, manager)
        assert refresh(trade_in).state == state
        assert Event.objects.filter(trade_in=trade_in).count() == events_before
    assert_books_balance()
