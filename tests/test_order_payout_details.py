"""Payout details in an order of several devices: the details belong to the buyer and are
stored once on the order, so one change (asked on the device staff opened, approved by another
manager) changes them for all; every device they still matter for
(workflows.rules.payout_details.details_change_reaches) has its payout follow and its timeline
say so, with one email to the buyer; one change waits per order. An order of one is unchanged
(tests/test_payout_details.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.conftest import refresh
from tests.helpers import declared, staff_client, workflow
from tests.test_money_guards import stripe_payout_ready_to_transfer
from tests.test_order_offers import basket, quoted  # noqa: F401 (fixtures used below)
from tests.test_payout_details import change_form
from workflows import actions
from workflows.errors import TransitionRefused
from workflows.models import (
    ChangeStatus,
    Email,
    Event,
    EventKind,
    Order,
    Payout,
    PayoutDetailChange,
    PayoutStatus,
    SideEffect,
    State,
    TradeIn,
)
from workflows.rules.payout_details import details_change_reaches
from workflows.rules.references import device_reference

NEW = {"buyer_email": "ada@new.example", "payout_method": "store_credit"}


def order_of(*devices: TradeIn) -> list[TradeIn]:
    """Devices each built in its own state by the real actions, then put in the first one's
    order as devices 1..n (what the basket's submission writes; tests/test_orders.basket_of)."""
    order = devices[0].order
    for position, device in enumerate(devices, start=1):
        TradeIn.objects.filter(pk=device.pk).update(
            order=order,
            position=position,
            reference=device_reference(order.reference, position=position, count=len(devices)),
        )
    Order.objects.exclude(pk=order.pk).filter(devices__isnull=True).delete()
    return [TradeIn.objects.get(pk=d.pk) for d in devices]


def changed_events(device: TradeIn):
    return Event.objects.filter(trade_in=device, kind=EventKind.PAYOUT_DETAILS_CHANGED)


def details_emails():
    return [m for m in mail.outbox if "payout details" in m.subject]


# --- the rule ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "payout_status", "reaches"),
    [
        (State.SUBMITTED, None, True),  # paid from these details once accepted
        (State.QUOTED, None, True),
        (State.DECLINED, None, True),  # a counter-quote reopens it
        (State.EXPIRED, None, True),
        (State.ACCEPTED, PayoutStatus.PENDING, True),
        (State.RECEIVED, PayoutStatus.FAILED, True),
        (State.REROUTED, PayoutStatus.DECLINED, True),  # reinstated if the case is rejected
        (State.REOFFERED, PayoutStatus.DECLINED, True),  # reinstated if the buyer accepts
        (State.RECEIVED, PayoutStatus.SETTLED, False),  # the money left
        (State.RECEIVED, PayoutStatus.REVERSED, False),
        (State.CLOSED, PayoutStatus.SETTLED, False),
        (State.CANCELLED, PayoutStatus.VOID, False),
        (State.RETURNED, PayoutStatus.DECLINED, False),
        (State.RECYCLED, PayoutStatus.DECLINED, False),
    ],
)
def test_the_rule_reaches_every_device_whose_details_may_still_decide_money(
    state, payout_status, reaches
):
    payout = Payout(status=payout_status) if payout_status else None
    assert details_change_reaches(TradeIn(state=state), payout) is reaches


def test_the_rule_never_writes_personal_data_back_onto_an_anonymised_device():
    assert not details_change_reaches(
        TradeIn(state=State.DECLINED, anonymised_at=timezone.now()), None
    )


# --- through the staff page ------------------------------------------------------------------
def test_one_change_is_written_onto_every_device_it_matters_for_with_one_email(
    quoted,  # noqa: F811
    staff,
    manager,
    admin_user,
    drain,
):
    """Four devices: three accepted (the third then cancelled: it never came) and one declined
    (a counter-quote could still reopen it). Asked on the second, approved on the first's page."""
    order, quotes, (a, b, c, d) = quoted(4, amounts=("100.00", "120.00", "80.00", "90.00"))
    actions.order_answer(
        order=order, quotes=quotes, accept=[a, b, c], decline={d: "Too low"}, declaration=declared()
    )
    drain()
    actions.trade_in_cancel(trade_in=c, actor=staff, reason="Never arrived")
    a, b, c, d = (refresh(x) for x in (a, b, c, d))
    desk, office, other = staff_client(staff), staff_client(manager), staff_client(admin_user)

    page = desk.get(reverse("admin:workflows_tradein_change", args=[b.pk])).content.decode()
    assert f"the change applies to {a}, {b}, {d}." in page

    workflow(
        desk,
        b,
        "request_details_change",
        reason="Buyer called from their number on file; new mailbox",
        **change_form(b, **NEW),
    )
    change = PayoutDetailChange.objects.get()
    assert (change.trade_in, change.status) == (b, ChangeStatus.PENDING)
    requested = Event.objects.get(kind=EventKind.PAYOUT_DETAILS_CHANGE_REQUESTED)
    assert requested.trade_in == b and f"Applies to {a}, {b}, {d}" in requested.note
    assert all(refresh(x).buyer_email == "ada@example.com" for x in (a, b, c, d))

    # The change request's own page, and every device's page, show what it applies to.
    page = office.get(reverse("admin:workflows_payoutdetailchange_change", args=[change.pk]))
    assert f"{a}, {b}, {d}" in page.content.decode()
    # Every device's page shows the one waiting change and what it applies to.
    for device in (a, c, d):
        page = desk.get(reverse("admin:workflows_tradein_change", args=[device.pk]))
        assert f"Applies to {a}, {b}, {d} (asked on {b})" in page.content.decode()

    # A second request, on another device of the order, is refused with a clear message.
    response = workflow(
        office, a, "request_details_change", reason="again", **change_form(a, city="Boston")
    )
    assert f"asked on {b} is already waiting for a manager" in response.content.decode()
    assert PayoutDetailChange.objects.count() == 1

    # Another manager approves it from the first device's page.
    mail.outbox.clear()
    workflow(other, a, "approve_change", change=change.pk, note="Verified by callback")
    assert refresh(change).status == ChangeStatus.APPROVED
    for device in (a, b, d):
        device = refresh(device)
        assert (device.buyer_email, device.payout_method) == ("ada@new.example", "store_credit")
        [event] = changed_events(device)
        assert event.actor == admin_user and "Payout method: Check → Store credit" in event.note
    assert refresh(a).payout.method == refresh(b).payout.method == "store_credit"
    # The cancelled device reads the order's details, but its void payout stays as it was and
    # its timeline says nothing.
    c = refresh(c)
    assert (c.buyer_email, c.payout_method) == ("ada@new.example", "store_credit")
    assert (c.payout.status, c.payout.method) == (PayoutStatus.VOID, "check")
    assert not changed_events(c).exists()
    assert f"asked on {b} by staff" in changed_events(a).get().note

    drain()
    [told] = details_emails()  # one for the order, at the old address
    assert told.to == ["ada@example.com"] and order.reference in told.subject
    assert "ada@new.example" in told.body and "did not ask for this" in told.body
    for device in (a, b, d):
        assert str(device) in told.body
    assert str(c) not in told.body


def test_a_rejected_change_frees_the_order_for_a_request_on_any_device(
    quoted,  # noqa: F811
    staff,
    manager,
    admin_user,
):
    order, quotes, (a, b) = quoted(2)
    actions.order_answer(
        order=order, quotes=quotes, accept=[a, b], decline={}, declaration=declared()
    )
    change = actions.payout_details_change_request(
        trade_in=a, actor=staff, changes={"city": "Springfield"}, reason="Moved"
    )
    with pytest.raises(TransitionRefused, match=f"asked on {a} is already waiting"):
        actions.payout_details_change_request(
            trade_in=b, actor=manager, changes={"city": "Boston"}, reason="Moved"
        )
    # Rejected from the second device's page: nothing changes anywhere.
    response = workflow(
        staff_client(manager), b, "reject_change", change=change.pk, note="Not the buyer"
    )
    assert "Change rejected." in response.content.decode()
    assert refresh(change).status == ChangeStatus.REJECTED
    assert {refresh(x).city for x in (a, b)} == {"Chicago"}
    again = actions.payout_details_change_request(
        trade_in=b, actor=manager, changes={"city": "Boston"}, reason="Moved"
    )
    actions.payout_details_change_approve(change=again, actor=admin_user)
    assert {refresh(x).city for x in (a, b)} == {"Boston"}


# --- each state of the other device, through the actions ----------------------------------------
@pytest.mark.parametrize(
    ("state", "reached"),
    [
        (State.SUBMITTED, True),
        (State.QUOTED, True),
        (State.DECLINED, True),
        (State.EXPIRED, True),
        (State.ACCEPTED, True),
        (State.RECEIVED, True),
        (State.REROUTED, True),
        (State.REOFFERED, True),
        (State.CANCELLED, False),
        (State.CLOSED, False),
        (State.RETURNED, False),
        (State.RECYCLED, False),
    ],
)
def test_the_change_reaches_the_other_device_unless_it_is_done_for_money(
    make_trade_in, staff, admin_user, state, reached
):
    opened, other = order_of(make_trade_in(State.ACCEPTED), make_trade_in(state))
    payout_before = Payout.objects.filter(trade_in=other).first()
    change = actions.payout_details_change_request(
        trade_in=opened, actor=staff, changes=NEW, reason="New mailbox"
    )
    actions.payout_details_change_approve(change=change, actor=admin_user)
    other = refresh(other)
    assert other.state == state
    # The details are the order's (stored once): every device reads the new ones; what the
    # change reaches is the device's payout and its timeline.
    assert (other.buyer_email, other.payout_method) == ("ada@new.example", "store_credit")
    assert changed_events(other).exists() is reached
    if payout_before is not None:
        assert (refresh(payout_before).method == "store_credit") is reached
        assert refresh(payout_before).status == payout_before.status


def test_a_rerouted_device_reinstated_later_is_paid_by_the_new_method(
    make_trade_in, staff, manager, admin_user
):
    opened, rerouted = order_of(make_trade_in(State.ACCEPTED), make_trade_in(State.REROUTED))
    change = actions.payout_details_change_request(
        trade_in=opened, actor=staff, changes=NEW, reason="New mailbox"
    )
    actions.payout_details_change_approve(change=change, actor=admin_user)
    case = refresh(rerouted).return_case
    actions.return_case_reject(case=case, actor=manager, note="As disclosed after all", grade="B")
    payout = refresh(rerouted).payout
    assert (payout.status, payout.method) == (PayoutStatus.PENDING, "store_credit")


def test_an_order_of_one_keeps_its_email_and_page(make_trade_in, staff, admin_user, drain):
    trade_in = make_trade_in(State.ACCEPTED)
    page = staff_client(staff).get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    assert "change-applies-to" not in page.content.decode()
    change = actions.payout_details_change_request(
        trade_in=trade_in, actor=staff, changes=NEW, reason="New mailbox"
    )
    assert (
        "Applies to" not in Event.objects.get(kind=EventKind.PAYOUT_DETAILS_CHANGE_REQUESTED).note
    )
    actions.payout_details_change_approve(change=change, actor=admin_user)
    effect = SideEffect.objects.get(payload__template=Email.PAYOUT_DETAILS_CHANGED)
    assert effect.payload == {"template": Email.PAYOUT_DETAILS_CHANGED, "change_id": change.pk}
    mail.outbox.clear()
    drain()
    [told] = details_emails()
    assert trade_in.reference in told.subject and "for each of these devices" not in told.body


def test_a_stripe_transfer_in_flight_on_another_device_holds_the_approval(
    make_trade_in, staff, manager, admin_user, drain
):
    opened = make_trade_in(State.ACCEPTED, payout_method="stripe")
    in_flight = stripe_payout_ready_to_transfer(make_trade_in, manager, drain)
    opened, other = order_of(opened, in_flight.trade_in)
    change = actions.payout_details_change_request(
        trade_in=opened, actor=staff, changes={"payout_method": "check"}, reason="A check"
    )
    with pytest.raises(TransitionRefused, match=f"requested for {other}.*wait for its outcome"):
        actions.payout_details_change_approve(change=change, actor=admin_user)
    assert refresh(change).status == ChangeStatus.PENDING
    assert {refresh(x).payout_method for x in (opened, other)} == {"stripe"}
    assert refresh(in_flight).method == "stripe" and refresh(in_flight).amount == Decimal("300.00")


# --- a device not accepted yet, in an order with an accepted one -------------------------------
def test_once_a_device_of_the_order_is_accepted_the_others_details_change_by_request_too(
    make_trade_in, staff, admin_user
):
    """Corrected directly, a quoted device's email would differ from its accepted sibling's,
    and its payout (made from it when the buyer accepts) would skip the manager."""
    accepted, waiting = order_of(make_trade_in(State.ACCEPTED), make_trade_in(State.QUOTED))
    with pytest.raises(TransitionRefused, match=f"A device of {accepted.order} was accepted"):
        actions.trade_in_update_details(
            trade_in=waiting, actor=staff, changes={"buyer_email": "thief@example.com"}
        )
    actions.trade_in_update_details(trade_in=waiting, actor=staff, changes={"buyer_phone": "555"})
    page = staff_client(staff).get(reverse("admin:workflows_tradein_change", args=[waiting.pk]))
    assert "Request a change of name, email, payout method or address" in page.content.decode()
    assert f"the change applies to {accepted}, {waiting}." in page.content.decode()

    # Asked on the device not accepted yet: written onto both, and the accepted one's payout.
    response = workflow(
        staff_client(staff),
        waiting,
        "request_details_change",
        reason="Buyer called from their number on file",
        **change_form(waiting, **NEW),
    )
    assert "a manager must approve it" in response.content.decode()
    change = PayoutDetailChange.objects.get(trade_in=waiting)
    actions.payout_details_change_approve(change=change, actor=admin_user)
    for device in (accepted, waiting):
        assert refresh(device).buyer_email == "ada@new.example"
    assert refresh(accepted).payout.method == "store_credit"
    assert refresh(waiting).state == State.QUOTED


def test_an_order_of_one_not_accepted_is_still_corrected_directly(make_trade_in, staff):
    trade_in = make_trade_in(State.QUOTED)
    actions.trade_in_update_details(
        trade_in=trade_in, actor=staff, changes={"buyer_email": "ada@fixed.example"}
    )
    assert refresh(trade_in).buyer_email == "ada@fixed.example"
    with pytest.raises(TransitionRefused, match="not accepted yet"):
        actions.payout_details_change_request(
            trade_in=trade_in, actor=staff, changes={"city": "Boston"}, reason="Moved"
        )
