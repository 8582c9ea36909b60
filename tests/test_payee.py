"""A payee the buyer proved: a payout-setup link reaches the buyer only by email, and a
Stripe account is bound to a payout only when the buyer opens that link; nothing is found by
matching an email somebody typed into a trade-in. (The demo provider runs Stripe's steps.)"""

from __future__ import annotations

from django.core import mail
from django.test import Client

from tests.conftest import links_in_last_mail, refresh
from tests.test_lifecycle_http import buyer_post
from workflows import actions
from workflows.models import (
    EventKind,
    PayoutStatus,
    SideEffect,
    SideEffectKind,
    State,
    StripeAccount,
    TradeIn,
)

VICTIM = "victim@example.com"


def setup_links(email: str) -> list[str]:
    return [
        u.replace("http://testserver", "")
        for u in links_in_last_mail(email)
        if "/payout-setup/" in u
    ]


def paid_by_stripe(make_trade_in, manager, drain, **overrides) -> TradeIn:
    trade_in = make_trade_in(State.RECEIVED, payout_method="stripe", **overrides)
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()
    return refresh(trade_in)


def test_the_confirmation_and_status_links_do_not_open_payout_setup(
    client, product, make_trade_in, manager, drain
):
    """Finding 2: an attacker submits with the victim's email and opens payout setup from
    their own status link (shown on the confirmation page: no mailbox needed)."""
    victim = paid_by_stripe(make_trade_in, manager, drain, buyer_email=VICTIM)
    account = StripeAccount.objects.get(email=VICTIM)

    response = buyer_post(client, product, buyer_email=VICTIM, payout_method="stripe")
    confirmation = client.get(response["Location"])
    assert "/payout-setup/" not in confirmation.content.decode()
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]  # the status token
    for path in ("", "done/", "demo/"):
        page = client.get(f"/trade-in/payout-setup/{token}/{path}")
        assert page.status_code == 404, path
        assert client.post(f"/trade-in/payout-setup/{token}/{path}").status_code == 404
    status = client.get(f"/trade-in/status/{token}/").content.decode()
    assert "/payout-setup/" not in status
    assert not refresh(account).payouts_enabled
    assert refresh(victim.payout).payee_account is None


def test_a_ready_account_is_not_paid_for_another_trade_in_that_typed_its_email(
    make_trade_in, manager, drain
):
    """The victim set up Stripe for their own payout; a stranger's trade-in with the same
    email typed in is not paid into that account until the link emailed for it is opened."""
    victim = paid_by_stripe(make_trade_in, manager, drain, buyer_email=VICTIM)
    setup = setup_links(VICTIM)[-1]
    demo = Client().get(setup)
    Client().post(demo["Location"])
    drain()
    assert refresh(victim.payout).status == PayoutStatus.SETTLED

    mail.outbox.clear()
    stranger = paid_by_stripe(make_trade_in, manager, drain, buyer_email=VICTIM)
    assert refresh(stranger.payout).status == PayoutStatus.PENDING
    assert refresh(stranger.payout).payee_account is None
    transfers = SideEffect.objects.filter(
        kind=SideEffectKind.MAKE_STRIPE_TRANSFER, trade_in=stranger
    )
    assert not transfers.exists()
    # The setup link went to the address on the trade-in, nowhere else.
    assert {tuple(m.to) for m in mail.outbox} == {(VICTIM,)}


def test_the_buyer_opening_the_emailed_link_binds_and_pays(make_trade_in, manager, drain):
    trade_in = paid_by_stripe(make_trade_in, manager, drain)
    [setup] = setup_links(trade_in.buyer_email)
    demo = Client().get(setup)
    assert demo.status_code == 302 and demo["Location"].endswith("/demo/")
    payout = refresh(trade_in.payout)
    assert payout.payee_account == StripeAccount.objects.get(email=trade_in.buyer_email)
    assert trade_in.events.filter(kind=EventKind.PAYEE_CONFIRMED, actor_label="buyer").exists()
    Client().post(demo["Location"])
    drain()
    assert refresh(payout).status == PayoutStatus.SETTLED
    assert refresh(payout).stripe_account == payout.payee_account.account_id

    # Replaying the old link afterwards changes nothing: it shows where the trade-in stands.
    again = Client().get(setup)
    assert again.status_code == 302 and "/trade-in/status/" in again["Location"]


def test_a_setup_link_dies_when_the_email_changes_and_the_payee_must_prove_again(
    make_trade_in, staff, manager, admin_user, drain
):
    trade_in = paid_by_stripe(make_trade_in, manager, drain)
    [old_link] = setup_links(trade_in.buyer_email)
    Client().get(old_link)
    assert refresh(trade_in.payout).payee_account is not None

    change = actions.payout_details_change_request(
        trade_in=trade_in, actor=staff, changes={"buyer_email": "ada@new.example"}, reason="Asked"
    )
    actions.payout_details_change_approve(change=change, actor=admin_user)
    assert refresh(trade_in.payout).payee_account is None
    response = Client().get(old_link)
    assert response.status_code == 410
    assert "no longer on your trade-in" in response.content.decode()
    assert refresh(trade_in.payout).payee_account is None


def test_a_tampered_setup_link_is_refused(make_trade_in, manager, drain):
    trade_in = paid_by_stripe(make_trade_in, manager, drain)
    [setup] = setup_links(trade_in.buyer_email)
    assert Client().get(setup[:-4] + "abc/").status_code == 404
    assert refresh(trade_in.payout).payee_account is None


def test_the_confirmation_link_does_not_spell_out_the_email(client, product):
    """The confirmation page opens from its link (the status token) for whoever holds it,
    e.g. a forwarded email or the old mailbox after an approved change of address."""
    response = buyer_post(client, product, buyer_email="ada.lovelace@example.com")
    page = client.get(response["Location"]).content.decode()
    assert "ada.lovelace@example.com" not in page
    assert "ad…@example.com" in page
