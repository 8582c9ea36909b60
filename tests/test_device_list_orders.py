"""Business sellers (issue 20): a device list sent as one order (order_submit_list) and an
order quoted in bulk (order_quote_suggested)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ProductFactory, valid_imei
from workflows import actions
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    Email,
    Event,
    EventKind,
    ImeiCheck,
    Order,
    SideEffect,
    SideEffectKind,
    State,
    TradeIn,
)
from workflows.rules.device_list import read_device_list

DETAILS = actions.SellerDetails(
    buyer_name="Phones Wholesale LLC",
    buyer_email="buy@wholesale.example",
    buyer_phone="555-0199",
    fulfilment="ship",
    address_line1="9 Depot Rd",
    city="Chicago",
    region="IL",
    postcode="60601",
    payout_method="check",
)


def device_csv(product, imeis, *, condition="good") -> bytes:
    model = product.device_model
    lines = ["Make,Model,Storage (GB),IMEI,Condition"]
    lines += [f"{model.make.name},{model.name},{product.storage_gb},{i},{condition}" for i in imeis]
    return ("\r\n".join(lines) + "\r\n").encode()


def device_rows(product, n: int):
    devices = read_device_list(device_csv(product, [valid_imei() for _ in range(n)]))
    assert devices.ok
    return devices.devices


def send(devices, *, key="list-1", actor=actions.BUYER, details=DETAILS):
    return actions.order_submit_list(
        devices=devices, details=details, submission_key=key, actor=actor
    )


def test_it_sends_100_devices_as_one_order_in_few_queries(product, drain):
    rows = device_rows(product, 100)
    with CaptureQueriesContext(connection) as queries:
        order = send(rows)
    # Bulk inserts: the order, the devices, their timeline rows, IMEI checks and outbox rows
    # (measured: 12 on PostgreSQL for 1 or 100 devices; 17 on SQLite, which splits the 100
    # trade-in rows into 4 INSERTs by its variable limit), instead of about 8 per device.
    assert len(queries.captured_queries) <= 20
    devices = list(order.devices.order_by("position"))
    assert [d.position for d in devices] == list(range(1, 101))
    assert [d.reference for d in devices] == [f"{order.reference}-{n}" for n in range(1, 101)]
    assert [d.imei for d in devices] == [row.imei for row in rows]
    assert {d.buyer_email for d in devices} == {"buy@wholesale.example"}
    assert {d.state for d in devices} == {State.SUBMITTED}
    assert all(d.suggested_offer == Decimal("385.00") for d in devices)  # "good", less deductions
    assert Event.objects.filter(trade_in__order=order, kind=EventKind.SUBMITTED).count() == 100
    # Every IMEI checked, through the outbox as a single submission's is.
    checks = SideEffect.objects.filter(kind=SideEffectKind.CHECK_IMEI, trade_in__order=order)
    assert checks.count() == 100
    assert ImeiCheck.objects.filter(trade_in__order=order).count() == 100
    received = SideEffect.objects.filter(kind=SideEffectKind.SEND_EMAIL, trade_in__order=order)
    assert received.count() == 1  # one "we received it" for the order
    drain()
    assert set(TradeIn.objects.filter(order=order).values_list("imei_status", flat=True)) == {
        "clean"
    }


def test_the_basket_and_the_list_write_the_same_device(product):
    """One set of per-device steps: a basket device and a list device look alike."""
    row = device_rows(product, 1)[0]
    listed = send([row]).devices.get()
    basket = actions.order_submit(
        submissions=[
            actions.Submission(
                product=product,
                imei=valid_imei(),
                **row.answers(),
                **{k: getattr(DETAILS, k) for k in actions.SellerDetails.__dataclass_fields__},
            )
        ],
        submission_key="basket",
    ).devices.get()
    for name in ("state", "suggested_offer", "imei_status", "country", "region", "postcode"):
        assert getattr(listed, name) == getattr(basket, name)
    assert listed.reference == listed.order.reference  # a list of one is a plain trade-in
    assert listed.events.get().actor_label == basket.events.get().actor_label == "buyer"


def test_staff_send_a_list_for_a_business_customer_as_themselves(product, staff):
    order = send(device_rows(product, 2), actor=staff)
    event = Event.objects.filter(trade_in__order=order).first()
    assert event.actor == staff and event.actor_label == ""


def test_it_keeps_one_order_when_sent_twice(product):
    rows = device_rows(product, 3)
    assert send(rows).pk == send(rows).pk
    assert Order.objects.count() == 1 and TradeIn.objects.count() == 3


def test_an_imei_taken_after_the_list_was_read_refuses_the_order(product):
    rows = device_rows(product, 3)
    # Someone else submits the second device's IMEI while the seller reviews the list.
    actions.order_submit(
        submissions=[
            actions.Submission(
                product=product,
                imei=rows[1].imei,
                **rows[1].answers(),
                **{k: getattr(DETAILS, k) for k in actions.SellerDetails.__dataclass_fields__},
            )
        ],
        submission_key="someone-else",
    )
    with pytest.raises(InvalidInput, match="line 3"):
        send(rows)
    assert Order.objects.count() == 1 and TradeIn.objects.count() == 1


def test_the_recheck_runs_inside_the_transaction(product, monkeypatch):
    """The holder check is asked after the transaction opened, not before."""
    from django.db import transaction

    from workflows.actions import device_lists

    seen = []

    def spy(imeis):
        seen.append(transaction.get_connection().in_atomic_block)
        return {}

    monkeypatch.setattr(device_lists, "live_imei_holders", spy)
    send(device_rows(product, 2))
    assert seen == [True]


def test_the_list_is_capped_by_its_own_setting_not_the_baskets(product, settings):
    settings.BASKET_MAX_DEVICES = 2
    settings.DEVICE_LIST_MAX_ROWS = 5
    assert send(device_rows(product, 5)).devices.count() == 5
    with pytest.raises(InvalidInput, match="up to 5 devices"):
        send(device_rows(product, 5) + device_rows(product, 1), key="list-2")
    assert Order.objects.count() == 1


def test_bad_seller_details_are_refused_once_and_a_bad_device_by_its_line(product):
    from dataclasses import replace

    rows = device_rows(product, 2)
    with pytest.raises(InvalidInput, match="^We need your address"):
        send(rows, details=replace(DETAILS, address_line1=""))
    other = ProductFactory()
    rows = [rows[0], *device_rows(other, 1)]
    other.device_model.is_active = False  # stopped buying it since the list was read
    rows[1].product.device_model.is_active = False
    with pytest.raises(InvalidInput, match="^Line 2: We are not buying"):
        send(rows)
    assert not Order.objects.exists()


def test_an_empty_list_is_refused(db):
    with pytest.raises(InvalidInput):
        send([])


def test_a_staff_member_without_the_permission_cannot_send_a_list(product, staff):
    staff.groups.clear()
    staff = type(staff).objects.get(pk=staff.pk)
    with pytest.raises(TransitionRefused):
        send(device_rows(product, 1), actor=staff)
    assert not Order.objects.exists()


# --- quoting an order in bulk -------------------------------------------------------------------
def test_the_auto_quote_policy_quotes_every_device_of_a_100_device_list(product, manager, drain):
    actions.quote_policy_update(
        actor=manager, changes={"auto_quote": True, "auto_quote_cap": Decimal("1000")}
    )
    order = send(device_rows(product, 100))
    drain()
    states = list(order.devices.values_list("state", flat=True))
    assert states == [State.QUOTED] * 100
    assert order.devices.filter(quotes__auto_quoted=True).count() == 100
    # One offer email for the order, listing all 100 (workflows.actions._orders).
    offers = SideEffect.objects.filter(kind=SideEffectKind.SEND_EMAIL)
    assert offers.filter(payload__template=Email.ORDER_OFFER).count() == 1
    assert not offers.filter(payload__template=Email.QUOTE).exists()


def test_staff_quote_every_device_at_its_suggested_offer_saying_which_were_skipped(
    product, staff, drain
):
    from workflows.models import BlockedImei  # noqa: F401  (the demo blocklist's model)

    rows = device_rows(product, 4)
    order = send(rows)
    drain()
    no_price = order.devices.get(position=2)
    TradeIn.objects.filter(pk=no_price.pk).update(suggested_offer=None)
    actions.trade_in_quote(trade_in=order.devices.get(position=3), actor=staff, amount="300")
    result = actions.order_quote_suggested(order=order, actor=staff)
    assert [t.position for t in result.quoted] == [1, 4]
    assert [(t.position, why) for t, why in result.skipped] == [
        (2, "no price in the price list"),
        (3, "not new (quoted)"),
    ]
    assert order.devices.get(position=1).quotes.get().amount == Decimal("385.00")
    assert order.devices.get(position=3).quotes.get().amount == Decimal("300.00")


def test_a_device_whose_check_has_not_finished_is_skipped_with_the_reason(product, staff):
    order = send(device_rows(product, 2))  # no drain: the checks are pending
    result = actions.order_quote_suggested(order=order, actor=staff)
    assert result.quoted == []
    assert [why for _t, why in result.skipped] == [
        "Wait for the IMEI check to finish before sending a quote."
    ] * 2
    assert not order.devices.exclude(state=State.SUBMITTED).exists()


def test_quoting_an_order_in_bulk_needs_the_quote_permission(product, drain):
    order = send(device_rows(product, 1))
    drain()
    with pytest.raises(TransitionRefused):
        actions.order_quote_suggested(order=order, actor=actions.BUYER)
    assert order.devices.get().state == State.SUBMITTED


def test_an_order_quoted_in_bulk_gets_one_offer_email(product, staff, drain):
    order = send(device_rows(product, 3))
    drain()
    result = actions.order_quote_suggested(order=order, actor=staff)
    assert [t.position for t in result.quoted] == [1, 2, 3]
    offers = SideEffect.objects.filter(kind=SideEffectKind.SEND_EMAIL)
    [email] = offers.filter(payload__template=Email.ORDER_OFFER)
    assert sorted(email.payload["quote_ids"]) == sorted(
        order.devices.values_list("quotes__pk", flat=True)
    )
    assert not offers.filter(payload__template=Email.QUOTE).exists()
