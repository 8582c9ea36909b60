"""One payout per order (issue 20): the sum of the kept devices at their final amounts, paid
once every device of the box is decided, by one check, one store credit or one Stripe transfer
(one idempotency key per order payout). Each device keeps its own payout line."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from tests.helpers import (
    assert_books_balance,
    declared,
    receive_as_disclosed,
    refresh,
    staff_client,
    submission,
)
from workflows import actions
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    Event,
    EventKind,
    Payout,
    PayoutMethod,
    PayoutStatus,
    SideEffect,
    State,
    StoreCredit,
    TradeIn,
)
from workflows.selectors.orders import order_payout

PAID = "Your payment is on its way"


def answered_box(product, drain, staff, offers, *, decline=(), method="check") -> list[TradeIn]:
    """An order of len(offers) devices, each quoted at its offer; the buyer declines the
    positions in `decline` and accepts the rest on the order's page."""
    order = actions.order_submit(
        submissions=[submission(product, payout_method=method) for _ in offers],
        submission_key=uuid.uuid4().hex,
    )
    drain()
    devices = list(order.devices.order_by("position"))
    for device, offer in zip(devices, offers, strict=True):
        actions.trade_in_quote(trade_in=device, actor=staff, amount=offer)
    drain()
    quotes = [refresh(device).latest_quote() for device in devices]
    kept = [d for i, d in enumerate(devices, 1) if i not in decline]
    actions.order_answer(
        order=order,
        quotes=quotes,
        accept=kept,
        decline={d: "Keeping it" for i, d in enumerate(devices, 1) if i in decline},
        declaration=declared(),
    )
    drain()
    return [refresh(device) for device in devices]


def pay_by_check(payout: Payout, manager, number: str = "1042") -> Payout:
    return actions.payout_settle_check(
        payout=payout, actor=manager, check_number=number, check_date=date(2026, 12, 5)
    )


def test_one_check_pays_the_kept_devices_and_one_email_says_so(db, product, drain, staff, manager):
    first, second, third = answered_box(
        product, drain, staff, ["300.00", "250.00", "99.00"], decline={3}
    )
    first, second = receive_as_disclosed(first, staff), receive_as_disclosed(second, staff)
    paying = order_payout(second.payout)
    assert paying.total == Decimal("550.00") and paying.several and paying.wait == ""
    assert paying.lead == first.payout
    mail.outbox.clear()

    pay_by_check(second.payout, manager)  # from either device's payout: the order is paid
    drain()

    lines = Payout.objects.filter(trade_in__order=first.order).order_by("trade_in__position")
    assert [(line.amount, line.status) for line in lines] == [
        (Decimal("300.00"), PayoutStatus.SETTLED),
        (Decimal("250.00"), PayoutStatus.SETTLED),
    ]
    assert {line.settlement_reference for line in lines} == {"check 1042 dated 2026-12-05"}
    assert [refresh(d).state for d in (first, second, third)] == [
        State.CLOSED,
        State.CLOSED,
        State.DECLINED,
    ]
    [email] = [m for m in mail.outbox if m.subject.startswith(PAID)]
    assert first.order.reference in email.subject
    assert "one payment of $550.00" in email.body
    assert first.reference in email.body and second.reference in email.body
    note = Event.objects.get(trade_in=second, kind=EventKind.PAYOUT_SETTLED).note
    assert "with the order: $550.00 for 2 devices" in note
    assert_books_balance()

    with pytest.raises(TransitionRefused, match="settled"):  # the order is paid once
        pay_by_check(first.payout, manager, "1043")


def test_the_order_payout_waits_until_every_device_is_decided(db, product, drain, staff, manager):
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"])
    first = receive_as_disclosed(first, staff)
    assert "has not arrived" in order_payout(first.payout).wait

    with pytest.raises(TransitionRefused, match=f"{second.reference} has not arrived"):
        pay_by_check(first.payout, manager)
    assert refresh(first.payout).status == PayoutStatus.PENDING
    assert refresh(first).state == State.RECEIVED

    # The box came without it: cancelled alone, and the order is paid what it kept.
    actions.trade_in_cancel(trade_in=second, actor=staff, reason="Not in the box")
    pay_by_check(first.payout, manager)
    assert refresh(first.payout).status == PayoutStatus.SETTLED
    assert refresh(second.payout).status == PayoutStatus.VOID
    assert order_payout(refresh(first.payout)).lines == []
    assert_books_balance()


def test_a_device_in_returns_holds_the_payout_until_its_case_is_decided(
    db, product, drain, staff, manager
):
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"])
    first, second = receive_as_disclosed(first, staff), receive_as_disclosed(second, staff)
    case = actions.trade_in_reroute(trade_in=second, actor=staff, reason="Water inside")
    with pytest.raises(TransitionRefused, match="in Returns"):
        pay_by_check(first.payout, manager)

    # The case is rejected (the device was as disclosed after all): it is owed again.
    actions.return_case_reject(case=case, actor=manager, note="Dry after all", grade="B")
    assert order_payout(refresh(first.payout)).total == Decimal("420.00")
    pay_by_check(first.payout, manager)
    assert set(
        Payout.objects.filter(trade_in__order=first.order).values_list("status", flat=True)
    ) == {PayoutStatus.SETTLED}
    assert_books_balance()


def test_one_store_credit_for_the_sum(db, product, drain, staff, manager):
    devices = answered_box(product, drain, staff, ["80.00", "45.50"], method="store_credit")
    devices = [receive_as_disclosed(device, staff) for device in devices]
    mail.outbox.clear()

    credit = actions.payout_issue_store_credit(payout=devices[1].payout, actor=manager)
    drain()

    assert StoreCredit.objects.count() == 1
    assert (credit.amount, credit.balance, credit.payout) == (
        Decimal("125.50"),
        Decimal("125.50"),
        devices[0].payout,
    )
    assert {refresh(d.payout).settlement_reference for d in devices} == {
        f"store credit {credit.masked_code}"
    }
    [email] = mail.outbox
    assert credit.code_for_buyer() in email.body and "$125.50" in email.body
    assert devices[0].reference in email.body and devices[1].reference in email.body
    assert_books_balance()


def test_an_order_is_paid_one_way(db, product, drain, staff, manager):
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"])
    first, second = receive_as_disclosed(first, staff), receive_as_disclosed(second, staff)
    Payout.objects.filter(pk=second.payout.pk).update(method=PayoutMethod.STORE_CREDIT)
    with pytest.raises(InvalidInput, match=f"{second.reference} is paid by Store credit"):
        pay_by_check(first.payout, manager)
    assert not Payout.objects.filter(status=PayoutStatus.SETTLED).exists()


def test_staff_cannot_pay_an_order(db, product, drain, staff):
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"])
    receive_as_disclosed(first, staff), receive_as_disclosed(second, staff)
    with pytest.raises(TransitionRefused, match="Only a manager"):
        pay_by_check(refresh(first).payout, staff)


def test_the_pages_show_the_one_payout_and_pay_it(db, product, drain, staff, manager):
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"])
    first = receive_as_disclosed(first, staff)
    client = staff_client(manager)
    order_url = reverse("admin:workflows_order_change", args=[first.order_id])
    page = client.get(order_url).content.decode()
    assert "One payout for the order" in page and "has not arrived" in page
    assert "order-payout-settle" not in page
    payout_page = client.get(reverse("admin:workflows_payout_change", args=[first.payout.pk]))
    assert "Record check and settle" not in payout_page.content.decode()

    second = receive_as_disclosed(second, staff)
    page = client.get(order_url).content.decode()
    assert "$420.00" in page and "for 2 devices" in page and "order-payout-settle" in page
    payout_page = client.get(
        reverse("admin:workflows_payout_change", args=[second.payout.pk])
    ).content.decode()
    assert f"Order {first.order.reference} is paid once: $420.00 for 2 devices." in payout_page

    response = client.post(
        reverse("admin:workflows_payout_settle", args=[second.payout.pk]),
        {"check_number": "77", "check_date": "2026-12-05"},
        follow=True,
    )
    assert "Check payout recorded." in response.content.decode()
    assert {refresh(d.payout).status for d in (first, second)} == {PayoutStatus.SETTLED}
    assert 'data-total="paid">$420.00' in client.get(order_url).content.decode()
    # Staff see the order's payout but not the button.
    page = staff_client(staff).get(order_url).content.decode()
    assert "order-payout-settle" not in page


def test_a_one_device_order_is_paid_as_before(db, make_trade_in, manager, drain):
    trade_in = make_trade_in(State.RECEIVED, payout_method="check")
    paying = order_payout(trade_in.payout)
    assert (paying.several, paying.lines, paying.wait) == (False, [trade_in.payout], "")
    assert trade_in.payout.transfer_key(order_of_several=False) == f"payout-{trade_in.payout.pk}"
    mail.outbox.clear()
    pay_by_check(trade_in.payout, manager)
    drain()
    [email] = mail.outbox
    assert email.subject == f"{PAID} ({trade_in.reference})"
    assert "sent your payment of $300.00" in email.body
    assert SideEffect.objects.filter(key=f"email:payout-sent:{trade_in.payout.pk}").exists()


def test_the_payouts_list_shows_what_a_manager_can_pay_now(
    db, product, drain, staff, manager, settings
):
    settings.SELLER_ID_REQUIRED = "off"
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"])
    first = receive_as_disclosed(first, staff)
    office = staff_client(manager)

    def listed(to_pay: str) -> set[str]:
        page = office.get(reverse("admin:workflows_payout_changelist"), {"to_pay": to_pay})
        assert page.status_code == 200
        return {d.reference for d in (first, second) if d.reference in page.content.decode()}

    # The order is paid once: the received device waits for the one still on its way, and
    # the list says so on each line.
    assert listed("ready") == set()
    assert listed("waiting") == {first.reference, second.reference}
    page = office.get(reverse("admin:workflows_payout_changelist")).content.decode()
    assert page.count(f"Waits: {second.reference} not arrived") == 2
    second = receive_as_disclosed(second, staff)
    assert listed("ready") == {first.reference, second.reference}
    page = office.get(reverse("admin:workflows_payout_changelist")).content.decode()
    assert page.count(">Ready to pay<") == 2
    assert listed("waiting") == set()
    settings.SELLER_ID_REQUIRED = "payout"  # and no ID was recorded
    assert listed("ready") == set()
    page = office.get(reverse("admin:workflows_payout_changelist")).content.decode()
    assert page.count("Waits: seller&#x27;s ID") == 2
    settings.SELLER_ID_REQUIRED = "off"
    pay_by_check(first.payout, manager)
    assert listed("ready") == listed("waiting") == set()
