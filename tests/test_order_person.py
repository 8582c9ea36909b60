"""The person's fields (buyer, contact, address, ship or drop-off, payout method) are the
order's, stored once (issue 20; migration 0038): each device reads them, none holds a copy;
a change is made once for all; erasing them waits until every device of the order may lose
them, then erases them once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import checklist_as_disclosed, refresh
from tests.helpers import declared
from tests.test_order_offers import basket, quoted  # noqa: F401 (fixtures used below)
from workflows import actions
from workflows.errors import TransitionRefused
from workflows.models import (
    PERSON_FIELDS,
    Event,
    EventKind,
    Order,
    Payout,
    PayoutStatus,
    TradeIn,
)
from workflows.tasks import anonymise_expired_records


def columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, table)}


def test_an_order_of_three_holds_the_persons_fields_once(basket):  # noqa: F811
    devices = basket(3, buyer_email="family@example.com", city="Springfield")
    assert not set(PERSON_FIELDS) & columns("workflows_tradein")
    order = Order.objects.get(pk=devices[0].order_id)
    assert (order.buyer_name, order.buyer_email, order.city) == (
        "Ada Buyer",
        "family@example.com",
        "Springfield",
    )
    assert (order.fulfilment, order.payout_method, order.country) == ("ship", "check", "US")
    for device in devices:
        assert device.order_id == order.pk
        assert [getattr(device, name) for name in PERSON_FIELDS] == [
            getattr(order, name) for name in PERSON_FIELDS
        ]
        assert device.get_payout_method_display() == "Check"
    # Queries filter through the order.
    assert TradeIn.objects.filter(order__buyer_email="family@example.com").count() == 3


def test_a_device_refuses_to_have_a_persons_field_set_on_it(basket):  # noqa: F811
    (device,) = basket(1)
    for name in PERSON_FIELDS:
        with pytest.raises(AttributeError, match="set it on trade_in.order"):
            setattr(device, name, "x")
    with pytest.raises(AttributeError, match="buyer_email is the order's"):
        TradeIn(buyer_email="someone@example.com")
    assert refresh(device).buyer_email == "ada@example.com"


def test_an_approved_change_of_the_email_changes_it_for_all_three_devices(
    quoted,  # noqa: F811
    staff,
    admin_user,
    drain,
):
    order, quotes, (a, b, c) = quoted(3)
    actions.order_answer(
        order=order, quotes=quotes, accept=[a, b, c], decline={}, declaration=declared()
    )
    drain()
    change = actions.payout_details_change_request(
        trade_in=b,
        actor=staff,
        changes={"buyer_email": "ada@new.example", "payout_method": "store_credit"},
        reason="The buyer called from the number on file",
    )
    actions.payout_details_change_approve(change=change, actor=admin_user)
    assert Order.objects.get(pk=order.pk).buyer_email == "ada@new.example"
    for device in (a, b, c):
        device = refresh(device)
        assert (device.buyer_email, device.payout_method) == ("ada@new.example", "store_credit")
        assert device.payout.method == "store_credit"
        assert Event.objects.filter(trade_in=device, kind=EventKind.PAYOUT_DETAILS_CHANGED)


def test_a_staff_correction_before_acceptance_is_made_once_for_the_order(
    basket,  # noqa: F811
    staff,
):
    a, b = basket(2)
    actions.trade_in_update_details(trade_in=b, actor=staff, changes={"city": "Boston"})
    assert refresh(a).city == refresh(b).city == "Boston"
    assert Order.objects.get(pk=a.order_id).city == "Boston"
    [event] = Event.objects.filter(trade_in=b, kind=EventKind.DETAILS_CHANGED)
    assert "City: Chicago → Boston" in event.note


def test_anonymisation_of_an_order_of_two_waits_for_both_and_erases_the_order_once(
    quoted,  # noqa: F811
    staff,
    manager,
    drain,
    settings,
):
    settings.RETENTION_DAYS = 365
    settings.HOLD_DAYS = 0
    settings.POLICE_REPORT = "off"
    order, quotes, (a, b) = quoted(2, amounts=("100.00", "120.00"))
    actions.order_answer(
        order=order, quotes=quotes, accept=[a], decline={b: "Too low"}, declaration=declared()
    )
    drain()
    a = refresh(a)
    actions.trade_in_intake(
        trade_in=a,
        scanned_imei=a.imei,
        actor=staff,
        checklist=checklist_as_disclosed(a),
        outcome="grade",
        grade="B",
    )
    drain()
    past = timezone.now() - timedelta(days=366)
    TradeIn.objects.filter(pk=a.pk).update(received_at=past, updated_at=past)
    # a is past retention, but its payout is owed: b (declined long ago) must wait with it.
    TradeIn.objects.filter(pk=b.pk).update(updated_at=past)
    assert anonymise_expired_records() == 0
    with pytest.raises(TransitionRefused, match="still owed money"):
        actions.trade_in_anonymise_expired(trade_in=refresh(b))
    with pytest.raises(TransitionRefused, match="erased for every device at once"):
        actions.buyer_erase(trade_in=refresh(b), actor=manager, reason="Email of 3 May")
    assert Order.objects.get(pk=order.pk).buyer_name == "Ada Buyer"
    assert refresh(b).anonymised_at is None

    payout = Payout.objects.get(trade_in=a)
    actions.payout_settle_check(
        payout=payout, actor=manager, check_number="9", check_date=date.today()
    )
    assert refresh(payout).status == PayoutStatus.SETTLED
    TradeIn.objects.filter(pk=a.pk).update(received_at=past, updated_at=past)
    assert anonymise_expired_records() == 1  # one order, tried once
    order = Order.objects.get(pk=order.pk)
    assert order.buyer_name == "anonymised" and "ada@example.com" not in order.buyer_email
    assert order.address_line1 == order.city == order.buyer_phone == ""
    for device in (a, b):
        device = refresh(device)
        assert device.anonymised_at is not None and device.buyer_name == "anonymised"
        assert Event.objects.filter(trade_in=device, kind=EventKind.ANONYMISED).count() == 1
    assert anonymise_expired_records() == 0
