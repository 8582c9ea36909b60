"""Payout details under two keys: after the buyer accepted, changing who is paid, how or
where is a request that a second person, a manager, approves; the timeline keeps old and new
values and the buyer hears of it at the address they had before."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.conftest import refresh
from tests.test_lifecycle_http import staff_client, workflow
from workflows import actions
from workflows.actions.details import PAYOUT_DETAILS
from workflows.errors import DomainError, TransitionRefused
from workflows.models import (
    ChangeStatus,
    Event,
    EventKind,
    PayoutDetailChange,
    PayoutStatus,
    State,
    StoreCredit,
)


def change_form(trade_in, **changes) -> dict:
    data = {name: getattr(trade_in, name) for name in PAYOUT_DETAILS}
    data.update(changes)
    return data


def admin_form(trade_in, **changes) -> dict:
    data = {
        name: getattr(trade_in, name)
        for name in ("buyer_name", "buyer_email", "buyer_phone", "fulfilment", "address_line1")
    }
    data.update(city=trade_in.city, region=trade_in.region, postcode=trade_in.postcode)
    data.update(country=trade_in.country, address_line2="")
    for prefix in ("quotes", "events"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(changes)
    return data


@pytest.mark.parametrize("state", [State.ACCEPTED, State.RECEIVED])
def test_staff_cannot_redirect_an_accepted_payout_by_editing_the_buyer(make_trade_in, staff, state):
    """Finding 3: editing buyer_email on a received trade-in sent the store credit and the
    Stripe transfer elsewhere."""
    trade_in = make_trade_in(state, payout_method="store_credit")
    desk = staff_client(staff)
    desk.post(
        reverse("admin:workflows_tradein_change", args=[trade_in.pk]),
        admin_form(trade_in, buyer_email="thief@example.com", address_line1="9 Elsewhere"),
    )
    after = refresh(trade_in)
    assert (after.buyer_email, after.address_line1) == ("ada@example.com", "1 Main St")
    with pytest.raises(TransitionRefused, match="a manager approves"):
        actions.trade_in_update_details(
            trade_in=trade_in, actor=staff, changes={"buyer_email": "thief@example.com"}
        )
    assert refresh(trade_in).buyer_email == "ada@example.com"


def test_a_change_takes_effect_when_another_manager_approves_it(
    make_trade_in, staff, manager, admin_user, drain
):
    trade_in = make_trade_in(State.RECEIVED)
    desk, office, other = staff_client(staff), staff_client(manager), staff_client(admin_user)
    page = desk.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk])).content
    assert b"Request a change of name, email, payout method or address" in page

    workflow(
        desk,
        trade_in,
        "request_details_change",
        reason="Buyer called from their number on file; new mailbox",
        **change_form(trade_in, buyer_email="ada@new.example", payout_method="store_credit"),
    )
    change = PayoutDetailChange.objects.get(trade_in=trade_in)
    assert change.status == ChangeStatus.PENDING and change.requested_by == staff
    assert change.changes == {
        "buyer_email": {"old": "ada@example.com", "new": "ada@new.example"},
        "payout_method": {"old": "check", "new": "store_credit"},
    }
    assert refresh(trade_in).buyer_email == "ada@example.com"  # nothing changed yet
    requested = Event.objects.get(kind=EventKind.PAYOUT_DETAILS_CHANGE_REQUESTED)
    assert "Buyer email: ada@example.com → ada@new.example" in requested.note

    # Staff cannot approve; nor can a second request jump the queue.
    workflow(desk, trade_in, "approve_change", change=change.pk)
    assert refresh(change).status == ChangeStatus.PENDING
    response = workflow(
        desk,
        trade_in,
        "request_details_change",
        reason="again",
        **change_form(trade_in, buyer_email="x@example.com"),
    )
    assert "already waiting for a manager" in response.content.decode()

    # A manager approves; mail goes to the OLD address, naming old and new.
    mail.outbox.clear()
    workflow(other, trade_in, "approve_change", change=change.pk, note="Verified by callback")
    change = refresh(change)
    assert (change.status, change.decided_by) == (ChangeStatus.APPROVED, admin_user)
    trade_in = refresh(trade_in)
    assert (trade_in.buyer_email, trade_in.payout_method) == ("ada@new.example", "store_credit")
    assert trade_in.payout.method == "store_credit"
    approved = Event.objects.get(kind=EventKind.PAYOUT_DETAILS_CHANGED)
    assert approved.actor == admin_user and "Payout method: Check → Store credit" in approved.note
    drain()
    [told] = [m for m in mail.outbox if "payout details" in m.subject]
    assert told.to == ["ada@example.com"]
    assert "ada@new.example" in told.body and "did not ask for this" in told.body

    # The payout follows the approved details.
    actions.payout_issue_store_credit(payout=trade_in.payout, actor=manager)
    assert StoreCredit.objects.get(payout=trade_in.payout).email == "ada@new.example"
    del office


def test_the_requester_cannot_approve_their_own_change(make_trade_in, manager):
    trade_in = make_trade_in(State.ACCEPTED)
    change = actions.payout_details_change_request(
        trade_in=trade_in, actor=manager, changes={"city": "Springfield"}, reason="Moved"
    )
    with pytest.raises(TransitionRefused, match="Another manager"):
        actions.payout_details_change_approve(change=change, actor=manager)
    assert refresh(change).status == ChangeStatus.PENDING
    assert refresh(trade_in).city == "Chicago"


def test_a_rejected_change_changes_nothing_and_says_why(make_trade_in, staff, manager):
    trade_in = make_trade_in(State.ACCEPTED)
    change = actions.payout_details_change_request(
        trade_in=trade_in, actor=staff, changes={"buyer_email": "b@x.example"}, reason="Asked"
    )
    with pytest.raises(DomainError, match="Say why"):
        actions.payout_details_change_reject(change=change, actor=manager, note=" ")
    actions.payout_details_change_reject(change=change, actor=manager, note="Not the buyer")
    assert refresh(change).status == ChangeStatus.REJECTED
    assert refresh(trade_in).buyer_email == "ada@example.com"
    assert Event.objects.filter(
        trade_in=trade_in, kind=EventKind.PAYOUT_DETAILS_CHANGE_REJECTED, actor=manager
    ).exists()
    with pytest.raises(TransitionRefused, match="already rejected"):
        actions.payout_details_change_approve(change=change, actor=manager)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"buyer_email": "not an email"}, "valid email"),
        ({"payout_method": "bitcoin"}, "payout method"),
        ({"country": "USA"}, "at most 2 characters"),
        ({"country": "1A"}, "two-letter"),
        ({"buyer_name": " "}, "cannot be empty"),
        ({"city": "x\x00y"}, "cannot store"),
        ({"buyer_phone": "1"}, "cannot be changed here"),
        ({"city": "Chicago"}, "Nothing would change"),
    ],
)
def test_a_bad_request_is_a_message_and_changes_nothing(make_trade_in, staff, changes, message):
    trade_in = make_trade_in(State.ACCEPTED)
    with pytest.raises(DomainError, match=message):
        actions.payout_details_change_request(
            trade_in=trade_in, actor=staff, changes=changes, reason="x"
        )
    assert not PayoutDetailChange.objects.exists()


def test_a_settled_payout_cannot_change(make_trade_in, staff):
    trade_in = make_trade_in(State.CLOSED)
    assert trade_in.payout.status == PayoutStatus.SETTLED
    with pytest.raises(TransitionRefused, match="settled"):
        actions.payout_details_change_request(
            trade_in=trade_in, actor=staff, changes={"buyer_email": "b@x.example"}, reason="x"
        )


def test_a_check_cannot_be_redirected_through_the_label_retry(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)  # paid by check, mailed to this address
    trade_in.labels.update(voided_at=timezone.now())  # as if the carrier had refused it
    with pytest.raises(TransitionRefused, match="check mailed to this address"):
        actions.shipping_label_retry(
            trade_in=trade_in, actor=staff, address={"address_line1": "9 Elsewhere"}
        )
    assert refresh(trade_in).address_line1 == "1 Main St"


def test_before_acceptance_staff_correct_details_with_old_and_new_on_the_timeline(
    make_trade_in, staff, drain
):
    trade_in = make_trade_in(State.SUBMITTED)
    mail.outbox.clear()
    actions.trade_in_update_details(
        trade_in=trade_in, actor=staff, changes={"buyer_email": "ada@typo-fixed.example"}
    )
    drain()
    [told] = mail.outbox  # at the address the buyer gave us
    assert told.to == ["ada@example.com"] and "ada@typo-fixed.example" in told.body
    assert refresh(trade_in).buyer_email == "ada@typo-fixed.example"
    event = Event.objects.get(trade_in=trade_in, kind=EventKind.DETAILS_CHANGED)
    assert event.note == "Buyer email: ada@example.com → ada@typo-fixed.example"
    with pytest.raises(DomainError, match="valid email"):
        actions.trade_in_update_details(
            trade_in=trade_in, actor=staff, changes={"buyer_email": "nope"}
        )
