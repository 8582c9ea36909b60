"""A bank payout's webhook is never dropped because Stripe did not answer which transfers it
carried (issue 18, item 7): against the loopback Stripe, which checks each request against
Stripe's published API."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.helpers import refresh, staff_client
from tests.integrations.conftest import make_due
from tests.integrations.provider_spec import stripe_error
from tests.integrations.test_stripe_payouts import onboarded, stripe_event, webhook
from workflows.models import (
    Event,
    EventKind,
    PayoutStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    StripeEvent,
)

REVOKED_KEY = (
    "status",
    401,
    json.dumps(stripe_error("Invalid API Key provided: sk_test_****pack")).encode(),
)
SERVER_ERROR = ("status", 500, json.dumps(stripe_error("An unknown error occurred")).encode())
HANGS = ("slow", 1.5)  # past STRIPE_TIMEOUT (0.5 s in these tests)


@pytest.fixture
def bank_payout_failed(stripe_server, make_trade_in, manager, drain):
    """A paid Stripe payout whose bank payout then failed, and that failure's event."""
    trade_in = make_trade_in(State.RECEIVED, payout_method="stripe")
    account_id = onboarded(stripe_server, trade_in, manager, drain)
    drain()
    [transfer] = stripe_server.transfers.values()
    assert refresh(trade_in.payout).status == PayoutStatus.SETTLED
    bank = stripe_server.bank_payout(account_id, [transfer["id"]])
    failed = {**bank, "status": "failed", "failure_message": "The bank account has been closed"}
    return trade_in, stripe_event("payout.failed", failed, account=account_id)


def lookups(stripe_server) -> int:
    return sum(1 for r in stripe_server.requests if r[1] == "/v1/balance_transactions")


@pytest.mark.parametrize("trouble", [REVOKED_KEY, SERVER_ERROR, HANGS], ids=["401", "500", "hang"])
def test_a_bank_payout_stripe_would_not_match_is_kept_and_applied_when_stripe_answers(
    stripe_server, bank_payout_failed, drain, manager, trouble
):
    trade_in, event = bank_payout_failed
    stripe_server.refusals_expected = True
    # Stripe keeps refusing (or failing) for a while: the webhook's lookup and two retries.
    stripe_server.trouble = [trouble, trouble, trouble]

    response = webhook(event)
    assert response.status_code == 200
    assert response.json()["outcome"].startswith("kept:")  # not "ignored"
    payout = refresh(trade_in.payout)
    assert payout.provider_status == "transfer_created"
    assert not StripeEvent.objects.filter(event_id=event["id"]).exists()
    kept = SideEffect.objects.get(kind=SideEffectKind.MATCH_BANK_PAYOUT)
    assert kept.payload["event"]["id"] == event["id"]

    drain()  # the outbox asks again: still no answer, so still kept, with the reason
    make_due()
    drain()
    kept.refresh_from_db()
    assert kept.status == SideEffectStatus.PENDING and kept.attempts == 2 and kept.last_error
    assert refresh(payout).provider_status == "transfer_created"

    # Visible: the dashboard says a bank report waits on Stripe.
    page = staff_client(manager).get(reverse("admin:index")).content.decode()
    assert "Stripe bank reports waiting" in page

    # Stripe answers again (the key is fixed, the outage over): the event applies once.
    make_due()
    drain()
    kept.refresh_from_db()
    assert kept.status == SideEffectStatus.DONE
    payout = refresh(payout)
    assert (payout.status, payout.provider_status) == (PayoutStatus.SETTLED, "failed")
    assert Event.objects.filter(
        trade_in=trade_in,
        kind=EventKind.BANK_PAYOUT_REPORTED,
        is_failure=True,
        note__contains="bank account has been closed",
    ).exists()
    assert StripeEvent.objects.get(event_id=event["id"]).outcome == "1 payout(s) failed at the bank"
    page = staff_client(manager).get(reverse("admin:index")).content.decode()
    assert "Stripe bank reports waiting" not in page

    # Stripe sending the same event again changes nothing more.
    asked = lookups(stripe_server)
    assert webhook(event).json()["outcome"] == "duplicate: already handled"
    assert lookups(stripe_server) == asked + 1
    assert Event.objects.filter(trade_in=trade_in, kind=EventKind.BANK_PAYOUT_REPORTED).count() == 1


def test_only_stripes_listing_without_our_transfer_is_ignored(stripe_server, bank_payout_failed):
    trade_in, event = bank_payout_failed
    other = stripe_server.bank_payout(event["account"], [])
    answer = webhook(
        stripe_event("payout.failed", {**other, "status": "failed"}, account=event["account"])
    )
    assert answer.json()["outcome"] == "ignored: no transfer of ours in this bank payout"
    assert not SideEffect.objects.filter(kind=SideEffectKind.MATCH_BANK_PAYOUT).exists()
