"""Every allowed and every forbidden transition of DESIGN.md's table, with its timeline row."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers import assert_books_balance, declared, refresh
from workflows import actions
from workflows.errors import DomainError, TransitionRefused
from workflows.models import Event, EventKind, Quote, ReturnCase, RevisedOffer, State, Unit
from workflows.rules.inspection import checklist_as_disclosed

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
    # after inspection (DESIGN.md: revised offer, returns)
    "send_revised_offer": (
        [State.RECEIVED, State.REROUTED, State.REOFFERED],
        State.REOFFERED,
    ),
    "accept_revised_offer": ([State.REOFFERED], State.RECEIVED),
    "return_to_buyer": ([State.REOFFERED, State.REROUTED], State.RETURNED),
    "reinstate": ([State.REROUTED], State.RECEIVED),
    "recycle": ([State.REROUTED], State.RECYCLED),
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
    "send_revised_offer": (EventKind.REVISED_OFFER_SENT,),
    "accept_revised_offer": (EventKind.REVISED_OFFER_ACCEPTED,),
    "return_to_buyer": (EventKind.RETURNED_TO_BUYER,),
    "reinstate": (EventKind.RETURN_REJECTED,),
    "recycle": (EventKind.RECYCLED,),
}


def revised_offer(trade_in, staff) -> RevisedOffer:
    """The trade-in's newest revised offer, or a dangling row to try the buyer's link with."""
    offer = trade_in.revised_offers.first()
    if offer is None:
        offer = RevisedOffer.objects.create(
            trade_in=trade_in,
            amount=1,
            original_amount=2,
            currency="USD",
            grade="C",
            respond_by=trade_in.created_at.replace(year=2100),
            sent_by=staff,
        )
    return offer


def return_case(trade_in, staff) -> ReturnCase:
    """The trade-in's return case, or (a device we hold) an open one to try the action on."""
    case = ReturnCase.objects.filter(trade_in=trade_in).first()
    if case is None:
        unit = Unit.objects.filter(trade_in=trade_in).first()
        if unit is None:  # nothing was ever received: no case can exist to act on
            raise TransitionRefused("no device, no return case")
        case = ReturnCase.objects.create(
            trade_in=trade_in, unit=unit, reason="test", opened_by=staff
        )
    return case


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
        return actions.trade_in_accept(quote=quote, declaration=declared())
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
        return actions.trade_in_intake(
            trade_in=trade_in,
            scanned_imei=trade_in.imei,
            actor=staff,
            checklist=checklist_as_disclosed(trade_in),
            outcome="grade",
            grade="A",
        )
    if transition == "reroute":
        return actions.trade_in_reroute(trade_in=trade_in, actor=staff, reason="Bent frame")
    if transition == "close":
        if trade_in.state == State.RECEIVED or hasattr(trade_in, "payout"):
            return actions.payout_settle_check(
                payout=trade_in.payout, actor=manager, check_number="42", check_date=date.today()
            )
        # Closing is part of settling a payout, the only way to it: no payout, nothing closes
        # (every such state is one the close transition's source does not hold either).
        assert "close" not in {t.name for t in trade_in.get_available_state_transitions()}
        raise TransitionRefused("no payout to settle")
    if transition == "send_revised_offer":
        return actions.revised_offer_send(
            trade_in=trade_in, actor=staff, amount="150", grade="C", note="Battery at 70%"
        )
    if transition == "accept_revised_offer":
        return actions.revised_offer_accept(
            offer=revised_offer(trade_in, staff), declaration=declared()
        )
    if transition == "return_to_buyer" and trade_in.state == State.REROUTED:
        return actions.return_case_resolve(
            case=return_case(trade_in, staff), actor=staff, resolution="returned"
        )
    if transition == "return_to_buyer":
        return actions.revised_offer_decline(offer=revised_offer(trade_in, staff))
    if transition == "reinstate":
        return actions.return_case_reject(
            case=return_case(trade_in, staff), actor=staff, note="As disclosed", grade="B"
        )
    if transition == "recycle":
        return actions.return_case_resolve(
            case=return_case(trade_in, staff), actor=staff, resolution="recycled"
        )
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
