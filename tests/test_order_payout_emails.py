"""The email an order's one payout sends names the order and lists what it paid (the check's
"payment sent" and the store credit's code alike)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail

from tests.helpers import receive_as_disclosed, refresh
from tests.test_order_staff import accept, box
from workflows import actions


def paid_order(product, drain, staff, method: str):
    """Two devices of one order accepted at 100 and 120 and both received."""
    devices = [
        accept(device, staff, amount)
        for device, amount in zip(
            box(product, drain, 2, payout_method=method), ("100.00", "120.00"), strict=True
        )
    ]
    drain()
    for device in devices:
        receive_as_disclosed(device, staff)
    drain()
    mail.outbox.clear()
    return devices


def assert_lists_the_order(message, devices) -> None:
    [(html, _)] = message.alternatives
    for body in (message.body, html):
        assert f"order {devices[0].order.reference}" in body
        for device, amount in zip(devices, ("$100.00", "$120.00"), strict=True):
            assert f"{device.reference} {device.product}: {amount}" in body


@pytest.mark.django_db
def test_it_names_the_order_in_the_payment_sent_email(product, drain, staff, manager):
    devices = paid_order(product, drain, staff, "check")
    actions.payout_settle_check(
        payout=refresh(devices[0]).payout,
        actor=manager,
        check_number="1042",
        check_date=date.today(),
    )
    drain()
    [sent] = mail.outbox
    assert sent.subject.startswith("Your payment is on its way")
    assert "one payment of $220.00" in sent.body
    assert_lists_the_order(sent, devices)


@pytest.mark.django_db
def test_it_names_the_order_in_the_store_credit_email(product, drain, staff, manager):
    devices = paid_order(product, drain, staff, "store_credit")
    credit = actions.payout_issue_store_credit(payout=refresh(devices[0]).payout, actor=manager)
    drain()
    [sent] = mail.outbox
    assert sent.subject.startswith("Your store credit code")
    assert credit.amount == 220
    assert_lists_the_order(sent, devices)
