"""Stripe Connect payouts against a loopback server that speaks Stripe's API (fake_stripe)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.helpers import assert_books_balance, links_in_last_mail, refresh, staff_client
from tests.integrations.conftest import CONNECT_WEBHOOK_SECRET, WEBHOOK_SECRET, make_due
from tests.integrations.fake_stripe import signed
from tests.integrations.provider_spec import stripe_fixture
from workflows import actions
from workflows.errors import TransitionRefused
from workflows.models import (
    Event,
    EventKind,
    PayoutStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    StripeAccount,
    StripeEvent,
)


def settle(client: Client, payout) -> str:
    url = reverse("admin:workflows_payout_settle", args=[payout.pk])
    return client.post(url, follow=True).content.decode()


def stripe_event(type_: str, obj: dict, **extra) -> dict:
    """An event as Stripe sends it (fixtures3.json's `event`); `account=` makes it one of a
    connected account, as the Connect endpoint sends it."""
    return stripe_fixture(
        "event",
        id=f"evt_{uuid.uuid4().hex[:16]}",
        type=type_,
        api_version="2026-10-28.endive",
        created=int(time.time()),
        livemode=False,
        data={"object": obj},
        **extra,
    )


def webhook(event: dict | bytes, *, secret: str = "", signature: str | None = None):
    """POST it to our endpoint signed as Stripe's endpoint for it would: events of connected
    accounts by the Connect endpoint's secret, the platform's own by the platform's."""
    payload = event if isinstance(event, bytes) else json.dumps(event).encode()
    if not secret:
        connect = isinstance(event, dict) and event.get("account")
        secret = CONNECT_WEBHOOK_SECRET if connect else WEBHOOK_SECRET
    header = signature if signature is not None else signed(payload, secret)
    return Client().post(
        "/webhooks/stripe/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


@pytest.fixture
def received_stripe(make_trade_in):
    return lambda: make_trade_in(State.RECEIVED, payout_method="stripe")


def open_setup_link(trade_in) -> str:
    """The buyer opens the setup link from their email, which binds their account to the
    payout (nothing else does)."""
    setup = [u for u in links_in_last_mail(trade_in.buyer_email) if "/payout-setup/" in u][-1]
    Client().get(setup.replace("http://testserver", ""))
    return setup


def onboarded(stripe_server, trade_in, manager, drain, *, stripe_agrees: bool = True) -> str:
    """The real flow up to the transfer: the manager pays, the buyer gets a Stripe account,
    and Stripe reports it ready (as its account.updated webhook does)."""
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()
    open_setup_link(trade_in)
    account_id = StripeAccount.objects.get(email=trade_in.buyer_email).account_id
    if stripe_agrees:
        stripe_server.finish_onboarding(account_id)
    actions.stripe_account_update(
        account_id=account_id, payouts_enabled=True, details_submitted=True
    )
    return account_id


def test_it_onboards_the_buyer_then_pays_when_stripe_says_the_account_is_ready(
    stripe_server, received_stripe, manager, drain, client
):
    trade_in = received_stripe()
    page = settle(staff_client(manager), trade_in.payout)
    assert "Stripe payout requested" in page
    drain()

    [account] = StripeAccount.objects.all()
    assert stripe_server.accounts[account.account_id]["email"] == trade_in.buyer_email
    # The account's controller properties, not the deprecated type=express (the fake refuses it).
    assert stripe_server.accounts[account.account_id]["controller"] == {
        "fees": {"payer": "application"},
        "losses": {"payments": "application"},
        "requirement_collection": "stripe",
        "stripe_dashboard": {"type": "express"},
    }
    assert stripe_server.accounts[account.account_id]["tos_acceptance"] == {}  # same country
    assert not account.payouts_enabled and refresh(trade_in.payout).status == PayoutStatus.PENDING
    setup = [u for u in links_in_last_mail(trade_in.buyer_email) if "/payout-setup/" in u][0]
    assert mail.outbox[-1].subject.startswith("Set up your payout")

    response = client.get(setup.replace("http://testserver", ""))
    assert response.status_code == 302
    assert response["Location"] == f"{stripe_server.url}/setup/{account.account_id}"
    link_request = [p for m, p, _ in stripe_server.requests if p == "/v1/account_links"]
    assert link_request

    ready = stripe_server.finish_onboarding(account.account_id)
    assert (
        webhook(stripe_event("account.updated", ready, account=account.account_id)).status_code
        == 200
    )
    drain()

    payout = refresh(trade_in.payout)
    assert payout.status == PayoutStatus.SETTLED and refresh(trade_in).state == State.CLOSED
    [transfer] = stripe_server.transfers.values()
    assert payout.settlement_reference == transfer["id"]
    assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (
        30000,
        "usd",
        account.account_id,
    )
    assert transfer["metadata"]["payout_id"] == str(payout.pk)
    assert stripe_server.transfers_for(f"payout-{payout.pk}") == 1
    assert mail.outbox[-1].subject.startswith("Your payment is on its way")
    assert Event.objects.filter(trade_in=trade_in, kind=EventKind.STRIPE_ONBOARDED).exists()
    assert_books_balance()


def test_the_buyer_returning_from_stripe_records_the_account_without_a_webhook(
    stripe_server, received_stripe, manager, drain, client
):
    trade_in = received_stripe()
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()
    stripe_server.finish_onboarding(StripeAccount.objects.get().account_id)

    done = reverse(
        "buyer_portal:payout_setup_done",
        args=[
            client.get(
                links_in_last_mail()[0].replace("http://testserver", "")
            ).wsgi_request.resolver_match.kwargs["token"]
        ],
    )
    assert client.get(done).status_code == 302
    drain()

    assert StripeAccount.objects.get().payouts_enabled
    assert refresh(trade_in.payout).status == PayoutStatus.SETTLED


def test_a_dropped_answer_and_the_retry_pay_the_buyer_exactly_once(
    stripe_server, received_stripe, manager, drain
):
    trade_in = received_stripe()
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()
    open_setup_link(trade_in)
    account_id = StripeAccount.objects.get().account_id
    stripe_server.finish_onboarding(account_id)
    stripe_server.trouble = ["drop"]  # Stripe makes the transfer; its answer never arrives
    actions.stripe_account_update(
        account_id=account_id, payouts_enabled=True, details_submitted=True
    )
    drain()

    payout = refresh(trade_in.payout)
    key = f"payout-{payout.pk}"
    assert stripe_server.transfers_for(key) == 1  # the money left...
    assert payout.status == PayoutStatus.PENDING  # ...but we could not know
    assert "did not answer" in payout.failure_reason
    assert "same idempotency key" in payout.failure_reason
    assert Event.objects.filter(
        trade_in=trade_in, kind=EventKind.STRIPE_TRANSFER_MADE, is_failure=True
    ).exists()

    make_due()
    drain()

    payout = refresh(trade_in.payout)
    assert payout.status == PayoutStatus.SETTLED
    assert [k for m, p, k in stripe_server.requests if p == "/v1/transfers"] == [key, key]
    assert stripe_server.transfers_for(key) == 1 and len(stripe_server.transfers) == 1
    assert payout.settlement_reference == next(iter(stripe_server.transfers))
    with pytest.raises(TransitionRefused, match="settled"):
        actions.payout_send_stripe(payout=payout, actor=manager)
    assert_books_balance()


def test_the_webhook_settles_a_lost_answer_and_the_retry_then_pays_nothing(
    stripe_server, received_stripe, manager, drain
):
    trade_in = received_stripe()
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()
    open_setup_link(trade_in)
    account_id = StripeAccount.objects.get().account_id
    stripe_server.finish_onboarding(account_id)
    stripe_server.trouble = ["drop"]
    actions.stripe_account_update(
        account_id=account_id, payouts_enabled=True, details_submitted=True
    )
    drain()
    [transfer] = stripe_server.transfers.values()

    assert webhook(stripe_event("transfer.created", transfer)).status_code == 200
    assert refresh(trade_in.payout).status == PayoutStatus.SETTLED
    make_due()
    drain()

    assert len([p for m, p, k in stripe_server.requests if p == "/v1/transfers"]) == 1
    assert (
        SideEffect.objects.get(kind=SideEffectKind.MAKE_STRIPE_TRANSFER).status
        == SideEffectStatus.DONE
    )
    assert refresh(trade_in.payout).settlement_reference == transfer["id"]


def test_an_old_retry_asks_stripe_first_because_idempotency_keys_expire(
    stripe_server, received_stripe, manager, drain
):
    trade_in = received_stripe()
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()
    open_setup_link(trade_in)
    account_id = StripeAccount.objects.get().account_id
    stripe_server.finish_onboarding(account_id)
    stripe_server.trouble = ["drop"]
    actions.stripe_account_update(
        account_id=account_id, payouts_enabled=True, details_submitted=True
    )
    drain()
    stripe_server.saved.clear()  # a day later Stripe has forgotten the key
    effect = SideEffect.objects.get(kind=SideEffectKind.MAKE_STRIPE_TRANSFER)
    SideEffect.objects.filter(pk=effect.pk).update(created_at=effect.created_at - timedelta(days=1))
    make_due()
    drain()

    assert refresh(trade_in.payout).status == PayoutStatus.SETTLED
    assert len(stripe_server.transfers) == 1


def test_a_refused_transfer_fails_with_stripes_reason_and_a_retry_uses_a_new_key(
    stripe_server, received_stripe, manager, drain
):
    trade_in = received_stripe()
    onboarded(stripe_server, trade_in, manager, drain, stripe_agrees=False)
    drain()

    payout = refresh(trade_in.payout)
    assert payout.status == PayoutStatus.FAILED
    assert "transfers capability" in payout.failure_reason
    assert "insufficient_capabilities" in payout.failure_reason
    assert (
        SideEffect.objects.get(kind=SideEffectKind.MAKE_STRIPE_TRANSFER).status
        == SideEffectStatus.FAILED
    )
    assert Event.objects.filter(
        trade_in=trade_in,
        kind=EventKind.PAYOUT_FAILED,
        is_failure=True,
        to_state=PayoutStatus.FAILED,
    ).exists()
    assert (
        "Try the Stripe transfer again"
        in staff_client(manager)
        .get(reverse("admin:workflows_payout_change", args=[payout.pk]))
        .content.decode()
    )

    stripe_server.finish_onboarding(StripeAccount.objects.get().account_id)
    settle(staff_client(manager), payout)
    drain()

    payout = refresh(payout)
    assert payout.status == PayoutStatus.SETTLED and payout.attempt == 1
    keys = [k for m, p, k in stripe_server.requests if p == "/v1/transfers"]
    assert keys == [f"payout-{payout.pk}", f"payout-{payout.pk}-1"]
    assert len(stripe_server.transfers) == 1


@pytest.mark.parametrize(
    ("trouble", "says"),
    [
        (
            ("status", 500, b'{"error": {"type": "api_error", "message": "Something went wrong"}}'),
            "HTTP 500",
        ),
        (("slow", 1.0), "did not answer"),
        (("status", 200, b"<html><body>Bad gateway</body></html>"), "Invalid response body"),
        (
            (
                "status",
                429,
                b'{"error": {"type": "invalid_request_error", "code": "rate_limit", '
                b'"message": "Too many requests"}}',
            ),
            "slow down",
        ),
    ],
)
def test_no_answer_or_garbage_leaves_the_payout_pending_with_the_reason_until_a_retry(
    stripe_server, received_stripe, manager, drain, trouble, says
):
    trade_in = received_stripe()
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()
    open_setup_link(trade_in)
    account_id = StripeAccount.objects.get().account_id
    stripe_server.finish_onboarding(account_id)
    stripe_server.trouble = [trouble]
    actions.stripe_account_update(
        account_id=account_id, payouts_enabled=True, details_submitted=True
    )
    drain()

    payout = refresh(trade_in.payout)
    assert payout.status == PayoutStatus.PENDING and says in payout.failure_reason
    assert refresh(trade_in).state == State.RECEIVED

    make_due()
    drain()
    assert refresh(payout).status == PayoutStatus.SETTLED
    assert len(stripe_server.transfers) == 1


def test_only_a_manager_pays_and_only_after_the_device_arrived(
    stripe_server, make_trade_in, staff, manager
):
    accepted = make_trade_in(State.ACCEPTED, payout_method="stripe")
    with pytest.raises(TransitionRefused, match="after the device was received"):
        actions.payout_send_stripe(payout=accepted.payout, actor=manager)
    received = make_trade_in(State.RECEIVED, payout_method="stripe")
    with pytest.raises(TransitionRefused, match="Only a manager"):
        actions.payout_send_stripe(payout=received.payout, actor=staff)
    assert (
        not stripe_server.requests
        and not SideEffect.objects.filter(
            kind__in=[SideEffectKind.SEND_STRIPE_SETUP, SideEffectKind.MAKE_STRIPE_TRANSFER]
        ).exists()
    )


@pytest.mark.parametrize(
    "forgery", ["wrong secret", "no header", "tampered body", "stale", "the other endpoint's"]
)
def test_a_webhook_that_stripe_did_not_sign_changes_nothing(
    stripe_server, received_stripe, manager, drain, caplog, forgery
):
    trade_in = received_stripe()
    account_id = onboarded(stripe_server, trade_in, manager, drain)  # transfer is scheduled
    payload = json.dumps(
        stripe_event(
            "account.updated",
            {"id": account_id, "object": "account", "payouts_enabled": False},
            account=account_id,
        )
    ).encode()
    signature = {
        "wrong secret": signed(payload, "whsec_someone_else"),
        "no header": "",
        "tampered body": signed(payload.replace(b"false", b"true "), CONNECT_WEBHOOK_SECRET),
        "stale": signed(payload, CONNECT_WEBHOOK_SECRET, timestamp=int(time.time()) - 3600),
        # An event of a connected account comes only from the Connect endpoint.
        "the other endpoint's": signed(payload, WEBHOOK_SECRET),
    }[forgery]

    with caplog.at_level(logging.WARNING, logger="workflows"):
        response = webhook(payload, signature=signature)

    assert response.status_code == 400
    assert "Stripe webhook rejected" in caplog.text
    assert StripeAccount.objects.get().payouts_enabled
    assert not StripeEvent.objects.exists()


def test_unknown_duplicate_and_unreadable_events_are_logged_and_change_nothing(
    db, stripe_server, caplog
):
    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    with caplog.at_level(logging.INFO, logger="workflows"):
        assert webhook(event).json()["outcome"] == "ignored: unknown type"
        assert webhook(event).json()["outcome"] == "duplicate: already handled"
    assert "customer.created" in caplog.text
    assert StripeEvent.objects.get().outcome == "ignored: unknown type"

    assert webhook(b"not json at all").status_code == 400
    assert webhook({"id": "evt_x", "type": "account.updated"}).status_code == 400  # no data
    assert (
        webhook(
            stripe_event("account.updated", {"id": "acct_stranger"}, account="acct_stranger")
        ).json()["outcome"]
        == "ignored: not one of our accounts"
    )
    assert Client().get("/webhooks/stripe/").status_code == 405


def test_a_reversed_transfer_and_the_buyers_bank_show_on_the_payout(
    stripe_server, received_stripe, manager, drain
):
    trade_in = received_stripe()
    account_id = onboarded(stripe_server, trade_in, manager, drain)
    drain()
    [transfer] = stripe_server.transfers.values()

    bank = stripe_server.bank_payout(account_id, [transfer["id"]])
    failed = {
        **bank,
        "status": "failed",
        "failure_code": "account_closed",
        "failure_message": "The bank account has been closed",
    }
    webhook(stripe_event("payout.failed", failed, account=account_id))
    payout = refresh(trade_in.payout)
    assert (payout.status, payout.provider_status) == (PayoutStatus.SETTLED, "failed")
    assert Event.objects.filter(
        trade_in=trade_in,
        kind=EventKind.BANK_PAYOUT_REPORTED,
        is_failure=True,
        note__contains="bank account has been closed",
    ).exists()
    # Stripe was asked on the buyer's account which transfers that bank payout carried.
    [(_, _, asked, on_behalf)] = [
        p for p in stripe_server.params if p[1] == "/v1/balance_transactions"
    ]
    assert (asked["payout"], on_behalf) == (bank["id"], account_id)
    again = stripe_server.bank_payout(account_id, [transfer["id"]])
    webhook(stripe_event("payout.paid", {**again, "status": "paid"}, account=account_id))
    assert refresh(payout).provider_status == "paid"

    webhook(
        stripe_event("transfer.reversed", {**transfer, "amount_reversed": 30000, "reversed": True})
    )
    payout = refresh(payout)
    assert (payout.status, payout.provider_status) == (PayoutStatus.REVERSED, "reversed")
    assert Event.objects.filter(
        trade_in=trade_in, kind=EventKind.PAYOUT_REVERSED, is_failure=True, note__contains="300"
    ).exists()
    # The money came back: the unit no longer carries the payout as a cost.
    assert refresh(trade_in.unit).payout_cost == Decimal("0.00")


def test_a_bank_payout_marks_only_the_payouts_whose_transfers_it_carried(
    stripe_server, make_trade_in, manager, drain
):
    # One buyer, two devices, two transfers to one connected account; Stripe pays them out to
    # the bank in two bank payouts. Before: payout.paid marked every settled payout of the
    # account paid, including the one whose money was still on its way.
    first = make_trade_in(State.RECEIVED, payout_method="stripe")
    account_id = onboarded(stripe_server, first, manager, drain)
    drain()
    second = make_trade_in(State.RECEIVED, payout_method="stripe", buyer_email=first.buyer_email)
    actions.payout_send_stripe(payout=second.payout, actor=manager)
    drain()
    # Each payout is paid only after the buyer opened its own emailed link (issue 10).
    open_setup_link(second)
    drain()
    by_payout = {t["metadata"]["payout_id"]: t["id"] for t in stripe_server.transfers.values()}
    assert refresh(second.payout).status == PayoutStatus.SETTLED and len(by_payout) == 2

    bank = stripe_server.bank_payout(account_id, [by_payout[str(first.payout.pk)]])
    response = webhook(stripe_event("payout.paid", bank, account=account_id))

    assert response.json()["outcome"] == "1 payout(s) paid at the bank"
    assert refresh(first.payout).provider_status == "paid"
    assert refresh(second.payout).provider_status == "transfer_created"
    assert not Event.objects.filter(trade_in=second, kind=EventKind.BANK_PAYOUT_REPORTED).exists()

    # A bank payout that carried none of our transfers changes nothing.
    other = stripe_server.bank_payout(account_id, [])
    outcome = webhook(stripe_event("payout.failed", other, account=account_id)).json()
    assert outcome["outcome"] == "ignored: no transfer of ours in this bank payout"
    assert refresh(first.payout).provider_status == "paid"


def test_the_connect_endpoint_secret_is_accepted_and_records_a_verified_buyer(
    stripe_server, received_stripe, manager, drain
):
    # Before: only STRIPE_WEBHOOK_SECRET was tried, so Stripe's Connect endpoint (the only one
    # that sends account.updated of a buyer's account) got 400 and onboarding was never seen.
    trade_in = received_stripe()
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()
    open_setup_link(trade_in)  # the buyer proves the payee (issue 10)
    account = StripeAccount.objects.get()
    ready = stripe_server.finish_onboarding(account.account_id)

    event = stripe_event("account.updated", ready, account=account.account_id)
    response = webhook(event, secret=CONNECT_WEBHOOK_SECRET)

    assert response.status_code == 200
    assert refresh(account).payouts_enabled
    drain()
    assert refresh(trade_in.payout).status == PayoutStatus.SETTLED
    # The platform's own events still come signed with the platform endpoint's secret.
    [transfer] = stripe_server.transfers.values()
    created = stripe_event("transfer.created", transfer)
    assert webhook(created, secret=WEBHOOK_SECRET).json()["outcome"].startswith("payout")


def test_a_test_mode_event_never_changes_a_live_payout(
    stripe_server, received_stripe, manager, drain, settings, caplog
):
    trade_in = received_stripe()
    account_id = onboarded(stripe_server, trade_in, manager, drain)
    drain()
    [transfer] = stripe_server.transfers.values()
    settings.STRIPE_SECRET_KEY = "sk_live_the_shops_key"  # the shop went live

    reversed_in_test = stripe_event(
        "transfer.reversed", {**transfer, "amount_reversed": 30000, "reversed": True}
    )
    with caplog.at_level(logging.WARNING, logger="workflows"):
        response = webhook(reversed_in_test)

    assert response.status_code == 200
    assert "test-mode event, but the key is live-mode" in response.json()["outcome"]
    assert refresh(trade_in.payout).status == PayoutStatus.SETTLED
    assert not StripeEvent.objects.filter(type="transfer.reversed").exists()
    assert "ignored" in caplog.text
    # A live event is applied.
    live = {**reversed_in_test, "id": "evt_live_1", "livemode": True}
    assert webhook(live).status_code == 200
    assert refresh(trade_in.payout).status == PayoutStatus.REVERSED
    assert account_id


def test_a_buyer_abroad_gets_the_recipient_service_agreement(
    stripe_server, received_stripe, manager, drain, settings
):
    settings.STRIPE_CONNECT_COUNTRY = "CA"  # the platform is in the US
    trade_in = received_stripe()
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()

    [account] = stripe_server.accounts.values()
    assert account["country"] == "CA"
    assert account["tos_acceptance"] == {"service_agreement": "recipient"}


def test_the_fake_stripe_refuses_the_old_account_request_with_stripes_400(stripe_server):
    # Proves the fake bites: the request we used to send (deprecated type=express, no
    # controller) and a transfer with a wrongly typed amount get Stripe's error shape.
    import requests

    headers = {
        "Authorization": "Bearer sk_test_loopback",
        "Idempotency-Key": "k1",
    }
    old = requests.post(
        f"{stripe_server.url}/v1/accounts",
        data={
            "type": "express",
            "email": "a@example.com",
            "country": "US",
            "capabilities[transfers][requested]": "true",
            "business_type": "individual",
        },
        headers=headers,
        timeout=5,
    )
    assert old.status_code == 400
    assert "type is deprecated" in old.json()["error"]["message"]
    assert old.json()["error"]["type"] == "invalid_request_error"
    bad = requests.post(
        f"{stripe_server.url}/v1/transfers",
        data={"amount": "300.00", "currency": "usd", "destination": "acct_1", "bogus": "1"},
        headers={**headers, "Idempotency-Key": "k2"},
        timeout=5,
    )
    assert bad.status_code == 400
    assert "'300.00' is not of type 'integer'" in bad.json()["error"]["message"]
    assert "'bogus' was unexpected" in bad.json()["error"]["message"]
    unkeyed = requests.post(
        f"{stripe_server.url}/v1/transfers",
        data={"amount": "300", "currency": "usd", "destination": "acct_1"},
        headers={"Authorization": "Bearer sk_test_loopback"},
        timeout=5,
    )
    assert unkeyed.status_code == 400 and "Idempotency-Key" in unkeyed.text
    assert not stripe_server.accounts and not stripe_server.transfers
    stripe_server.refusals_expected = True


def test_without_stripe_the_demo_runs_the_same_steps_and_moves_no_money(
    received_stripe, manager, drain, client
):
    trade_in = received_stripe()
    settle(staff_client(manager), trade_in.payout)
    drain()
    message = mail.outbox[-1]
    assert "Demo shop" in message.body
    setup = [u for u in links_in_last_mail() if "/payout-setup/" in u][0].replace(
        "http://testserver", ""
    )

    demo = client.get(setup)
    assert demo.status_code == 302 and demo["Location"].endswith("/demo/")
    assert "Finish demo payout setup" in client.get(demo["Location"]).content.decode()
    client.post(demo["Location"])
    drain()

    payout = refresh(trade_in.payout)
    assert payout.status == PayoutStatus.SETTLED
    assert payout.settlement_reference.startswith("tr_demo_")
    assert StripeAccount.objects.get().provider == "demo-payouts"
    assert webhook(stripe_event("account.updated", {"id": "x"})).status_code == 400
