"""An attacker's audit of paying an order of several devices under concurrency, on PostgreSQL
(row locks; see tests/test_races.py): two managers paying one order at once from two of its
devices, by check and by store credit; paying while another device is rerouted to Returns, is
cancelled, or has its payout method changed at that very moment. Whatever wins, the order is
paid once, and no device is both paid and in Returns, cancelled or paid another way."""

from __future__ import annotations

from datetime import date

from tests.helpers import RACE, assert_books_balance, receive_as_disclosed, refresh
from tests.test_order_payout import answered_box
from tests.test_races import outcomes, race
from workflows import actions
from workflows.models import (
    Payout,
    PayoutDetailChange,
    PayoutMethod,
    PayoutStatus,
    ReturnCase,
    State,
    StoreCredit,
)

pytestmark = RACE


def _pay(payout, manager, number):
    return lambda: actions.payout_settle_check(
        payout=payout, actor=manager, check_number=number, check_date=date(2026, 12, 5)
    )


def test_two_managers_paying_one_order_from_two_devices_at_once_pay_once(
    product, drain, staff, manager, admin_user
):
    for _ in range(3):
        devices = answered_box(product, drain, staff, ["300.00", "120.00", "80.00"])
        a, b, c = [receive_as_disclosed(device, staff) for device in devices]
        results = race(
            _pay(a.payout, manager, "1"),
            _pay(c.payout, admin_user, "2"),
            _pay(b.payout, manager, "3"),
        )
        assert outcomes(results) == (1, 2)
        lines = Payout.objects.filter(trade_in__order=a.order)
        assert {line.status for line in lines} == {PayoutStatus.SETTLED}
        assert len({line.settlement_reference for line in lines}) == 1
        assert {refresh(d).state for d in (a, b, c)} == {State.CLOSED}
    assert_books_balance()


def test_two_store_credits_for_one_order_at_once_make_one(product, drain, staff, manager):
    devices = answered_box(product, drain, staff, ["80.00", "45.50"], method="store_credit")
    a, b = [receive_as_disclosed(device, staff) for device in devices]
    results = race(
        lambda: actions.payout_issue_store_credit(payout=a.payout, actor=manager),
        lambda: actions.payout_issue_store_credit(payout=b.payout, actor=manager),
    )
    assert outcomes(results) == (1, 1)
    [credit] = StoreCredit.objects.all()
    assert credit.amount == credit.balance == 125.50
    assert_books_balance()


def test_paying_while_another_device_is_rerouted_never_pays_a_device_in_returns(
    product, drain, staff, manager
):
    for _ in range(3):
        devices = answered_box(product, drain, staff, ["300.00", "120.00"])
        a, b = [receive_as_disclosed(device, staff) for device in devices]
        results = race(
            _pay(a.payout, manager, "7"),
            lambda b=b: actions.trade_in_reroute(trade_in=b, actor=staff, reason="Water inside"),
        )
        assert outcomes(results) == (1, 1)  # one of them, never both
        b = refresh(b)
        if b.state == State.REROUTED:
            assert refresh(a.payout).status == PayoutStatus.PENDING
            assert refresh(b.payout).status == PayoutStatus.DECLINED
            assert ReturnCase.objects.filter(trade_in=b).exists()
        else:
            assert b.state == State.CLOSED
            assert refresh(b.payout).status == PayoutStatus.SETTLED
            assert not ReturnCase.objects.filter(trade_in=b).exists()
    assert_books_balance()


def test_paying_while_the_missing_device_is_cancelled_never_pays_it(product, drain, staff, manager):
    for _ in range(3):
        devices = answered_box(product, drain, staff, ["300.00", "120.00"])
        a, b = receive_as_disclosed(devices[0], staff), devices[1]  # b never came
        results = race(
            _pay(a.payout, manager, "8"),
            lambda b=b: actions.trade_in_cancel(trade_in=b, actor=staff, reason="Not in the box"),
        )
        paid, _refused = outcomes(results)
        assert paid >= 1  # the cancel always goes; the payout only if it came second
        assert refresh(b).state == State.CANCELLED
        assert refresh(b.payout).status == PayoutStatus.VOID
        if refresh(a.payout).status == PayoutStatus.SETTLED:
            assert refresh(a.payout).settlement_reference == "check 8 dated 2026-12-05"
    assert_books_balance()


def test_paying_while_a_method_change_is_approved_pays_one_way(
    product, drain, staff, manager, admin_user
):
    for _ in range(3):
        devices = answered_box(product, drain, staff, ["300.00", "120.00"])
        a, b = [receive_as_disclosed(device, staff) for device in devices]
        change = actions.payout_details_change_request(
            trade_in=a,
            actor=staff,
            changes={"payout_method": PayoutMethod.STORE_CREDIT},
            reason="The buyer asked by phone",
        )
        results = race(
            _pay(b.payout, manager, "9"),
            lambda change=change: actions.payout_details_change_approve(
                change=change, actor=admin_user
            ),
        )
        assert outcomes(results) == (1, 1)
        lines = list(Payout.objects.filter(trade_in__order=a.order))
        if refresh(change).status == "approved":
            assert {(line.status, line.method) for line in lines} == {
                (PayoutStatus.PENDING, PayoutMethod.STORE_CREDIT)
            }
        else:
            assert PayoutDetailChange.objects.get(pk=change.pk).status == "pending"
            assert {(line.status, line.method) for line in lines} == {
                (PayoutStatus.SETTLED, PayoutMethod.CHECK)
            }
    assert_books_balance()


def test_paying_while_the_last_expected_device_is_cancelled_does_not_deadlock(
    product, drain, staff, manager
):
    """The box label is on the first device, cancelled earlier; cancelling the last one still
    expected schedules the label's voiding on the first, while a manager (on the first's
    payout page) tries to pay and locks the order's devices. Before: a deadlock (a 500 for one
    of them); now the cancel goes and the payment is refused with a message."""
    for _ in range(5):
        a, b = answered_box(product, drain, staff, ["300.00", "120.00"])
        actions.trade_in_cancel(trade_in=a, actor=staff, reason="Not in the box")
        results = race(
            _pay(refresh(a).payout, manager, "11"),
            lambda b=b: actions.trade_in_cancel(trade_in=b, actor=staff, reason="Never came"),
        )
        assert outcomes(results) == (1, 1)
        assert refresh(b).state == State.CANCELLED
        assert set(
            Payout.objects.filter(trade_in__order=a.order).values_list("status", flat=True)
        ) == {PayoutStatus.VOID}
    assert_books_balance()
