"""Every buyer email goes through the outbox to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

from tests.helpers import refresh
from tests.integrations.conftest import Inbox, make_due
from workflows import actions
from workflows.models import Event, EventKind, SideEffect, SideEffectKind, SideEffectStatus, State


def test_an_smtp_outage_loses_nothing_and_the_mail_goes_out_once_smtp_is_back(
    smtp, make_trade_in, drain
):
    trade_in = make_trade_in(State.SUBMITTED)  # nothing listens on the SMTP port yet

    effect = SideEffect.objects.get(kind=SideEffectKind.SEND_EMAIL, trade_in=trade_in)
    assert (effect.status, effect.attempts) == (SideEffectStatus.PENDING, 1)
    assert refresh(trade_in).state == State.SUBMITTED and trade_in.imei_status == "clean"
    failure = Event.objects.get(trade_in=trade_in, kind=EventKind.EMAIL_SENT, is_failure=True)
    assert "ConnectionRefusedError" in failure.note and "retrying in 30 s" in failure.note

    inbox = smtp.start(Inbox())
    make_due()
    drain()
    make_due()
    drain()

    assert inbox.subjects() == [f"We received your trade-in request ({trade_in.reference})"]
    assert inbox.messages[0]["To"] == trade_in.buyer_email
    assert refresh(effect).status == SideEffectStatus.DONE
    assert (
        Event.objects.filter(
            trade_in=trade_in,
            kind=EventKind.EMAIL_SENT,
            is_failure=False,
            note="Email sent: We received your trade-in request",
        ).count()
        == 1
    )


def test_a_server_that_says_try_later_gets_the_mail_on_the_retry(smtp, make_trade_in, drain):
    inbox = smtp.start(Inbox(refuse_first=1))
    trade_in = make_trade_in(State.SUBMITTED)
    assert "temporarily rejected" in Event.objects.get(trade_in=trade_in, is_failure=True).note
    make_due()
    drain()
    assert len(inbox.messages) == 1


def test_every_buyer_email_goes_through_smtp_and_onto_the_timeline(
    smtp, make_trade_in, manager, staff, drain
):
    inbox = smtp.start(Inbox())
    shipped = make_trade_in(State.CLOSED)
    quoted = make_trade_in(State.QUOTED)
    actions.trade_in_decline(
        trade_in=quoted,
        quote=quoted.latest_quote(),
        actor=actions.BUYER,
        reason="The offer is too low",
    )
    actions.trade_in_quote(trade_in=quoted, actor=staff, amount="320")
    local = make_trade_in(State.RECEIVED, fulfilment="pickup", payout_method="store_credit")
    actions.payout_issue_store_credit(payout=local.payout, actor=manager)
    rerouted = make_trade_in(State.REROUTED)
    drain()

    expected = {
        shipped: [
            "We received your trade-in request",
            "Your trade-in offer",
            "Offer accepted: your shipping label",
            "Your payment is on its way",
        ],
        quoted: ["Your trade-in was declined", "A new offer for your device"],
        local: ["Offer accepted: how to drop off your device", "Your store credit code"],
        rerouted: ["About the device you sent us"],
    }
    for trade_in, subjects in expected.items():
        for subject in subjects:
            assert f"{subject} ({trade_in.reference})" in inbox.subjects(), subject
            assert (
                Event.objects.filter(
                    trade_in=trade_in, kind=EventKind.EMAIL_SENT, note=f"Email sent: {subject}"
                ).count()
                == 1
            ), subject
    assert not SideEffect.objects.exclude(status=SideEffectStatus.DONE).exists()


def test_every_email_has_its_outbox_rows_message_id_and_the_shops_reply_to(
    smtp, make_trade_in, settings, drain
):
    from workflows.documents.emails import message_id

    settings.SHOP_REPLY_TO = "help@demo-shop.example"
    inbox = smtp.start(Inbox())
    trade_in = make_trade_in(State.CLOSED)
    drain()
    rows = SideEffect.objects.filter(trade_in=trade_in, kind=SideEffectKind.SEND_EMAIL)
    assert len(inbox.messages) == rows.count() >= 4
    ids = {m["Message-ID"] for m in inbox.messages}
    assert ids == {message_id(row.key) for row in rows}  # one per row, from its key
    assert all(i.endswith("@testserver>") for i in ids)  # the site's own domain
    assert {m["Reply-To"] for m in inbox.messages} == {"help@demo-shop.example"}


def test_a_server_slower_than_email_timeout_gets_the_mail_once(smtp, make_trade_in, drain):
    """EMAIL_TIMEOUT is 2 s here; the server takes 3 s to accept: one copy, not three."""
    inbox = smtp.start(Inbox(delay=3))
    trade_in = make_trade_in(State.SUBMITTED)
    for _ in range(2):
        make_due()
        drain()
    effect = SideEffect.objects.get(trade_in=trade_in, kind=SideEffectKind.SEND_EMAIL)
    assert (effect.status, effect.attempts, len(inbox.messages)) == ("done", 1, 1)


def test_a_send_that_timed_out_is_retried_with_the_same_message_id(
    smtp, make_trade_in, drain, settings
):
    settings.EMAIL_DATA_TIMEOUT = 1
    inbox = smtp.start(Inbox(delay=2))  # stores the mail, answers after we gave up
    trade_in = make_trade_in(State.SUBMITTED)
    effect = SideEffect.objects.get(trade_in=trade_in, kind=SideEffectKind.SEND_EMAIL)
    assert refresh(effect).status == SideEffectStatus.PENDING  # failed: timed out
    inbox.delay = 0
    make_due()
    drain()
    assert refresh(effect).status == SideEffectStatus.DONE
    first, second = inbox.messages
    assert first["Message-ID"] == second["Message-ID"]  # the copy can be recognised
