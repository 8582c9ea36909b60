"""An order of several devices paid by Stripe (issue 20), against the loopback Stripe: one
transfer for the sum, one idempotency key per order payout (a new one only after Stripe
refused), both lines settled by it, and a reversal of it reverses both."""

from __future__ import annotations

from decimal import Decimal

from django.core import mail
from django.urls import reverse

from tests.helpers import assert_books_balance, refresh, staff_client
from tests.helpers import receive_as_disclosed as receive
from tests.integrations.test_stripe_payouts import open_setup_link, settle, stripe_event, webhook
from tests.test_order_payout import answered_box
from workflows import actions
from workflows.models import EventKind, PayoutStatus, State, StripeAccount


def test_one_transfer_pays_the_order_and_its_reversal_reverses_every_line(
    stripe_server, product, staff, manager, drain
):
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"], method="stripe")
    first, second = receive(first, staff), receive(second, staff)
    order = first.order

    # The manager pays from the second device's payout: the order is paid, led by the first.
    page = settle(staff_client(manager), second.payout)
    assert "Stripe payout requested" in page
    drain()
    [setup] = [m for m in mail.outbox if m.subject.startswith("Set up your payout")]
    assert order.reference in setup.subject and "$420.00 for them" in setup.body
    assert f"(order {order.reference})" in setup.body
    open_setup_link(first)  # one setup email, for the order's payout
    account = StripeAccount.objects.get()
    assert refresh(first.payout).payee_account == account
    actions.stripe_account_update(
        account_id=account.account_id, payouts_enabled=True, details_submitted=True
    )
    drain()  # Stripe refuses: the account cannot take transfers yet

    lines = [refresh(first.payout), refresh(second.payout)]
    assert {line.status for line in lines} == {PayoutStatus.FAILED}
    assert "transfers capability" in lines[0].failure_reason
    page = (
        staff_client(manager)
        .get(reverse("admin:workflows_payout_change", args=[second.payout.pk]))
        .content.decode()
    )
    assert "Try the Stripe transfer again" in page

    stripe_server.finish_onboarding(account.account_id)
    mail.outbox.clear()
    settle(staff_client(manager), second.payout)
    drain()
    drain()

    keys = [k for m, p, k in stripe_server.requests if p == "/v1/transfers"]
    assert keys == [f"order-payout-{order.pk}", f"order-payout-{order.pk}-1"]
    [transfer] = stripe_server.transfers.values()
    assert (transfer["amount"], transfer["destination"]) == (42000, account.account_id)
    assert transfer["transfer_group"] == f"order-payout-{order.pk}"
    assert transfer["metadata"]["order"] == order.reference
    lines = [refresh(first.payout), refresh(second.payout)]
    assert [(line.status, line.settlement_reference) for line in lines] == [
        (PayoutStatus.SETTLED, transfer["id"]),
        (PayoutStatus.SETTLED, transfer["id"]),
    ]
    assert [refresh(d).state for d in (first, second)] == [State.CLOSED, State.CLOSED]
    [paid] = [m for m in mail.outbox if m.subject.startswith("Your payment is on its way")]
    assert "one payment of $420.00" in paid.body
    assert_books_balance()

    # Stripe's own webhook for the same transfer changes nothing more.
    webhook(stripe_event("transfer.created", transfer))
    assert len(stripe_server.transfers) == 1

    webhook(
        stripe_event("transfer.reversed", {**transfer, "amount_reversed": 42000, "reversed": True})
    )
    for device in (first, second):
        assert refresh(device.payout).status == PayoutStatus.REVERSED
        assert device.events.filter(kind=EventKind.PAYOUT_REVERSED).exists()
        assert refresh(device.unit).payout_cost == Decimal("0.00")


def test_a_partial_reversal_of_an_order_transfer_reverses_no_line(
    stripe_server, product, staff, manager, drain
):
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"], method="stripe")
    first, second = receive(first, staff), receive(second, staff)
    actions.payout_send_stripe(payout=first.payout, actor=manager)
    drain()
    open_setup_link(first)
    account = StripeAccount.objects.get()
    stripe_server.finish_onboarding(account.account_id)
    actions.stripe_account_update(
        account_id=account.account_id, payouts_enabled=True, details_submitted=True
    )
    drain()
    [transfer] = stripe_server.transfers.values()

    # 300.00 of 420.00 back is not the whole transfer: both lines stay paid, and say so.
    webhook(
        stripe_event("transfer.reversed", {**transfer, "amount_reversed": 30000, "reversed": False})
    )
    for device in (first, second):
        assert refresh(device.payout).status == PayoutStatus.SETTLED
        assert device.events.filter(
            kind=EventKind.PAYOUT_REVERSED, note__contains="reversed 300 USD"
        ).exists()
