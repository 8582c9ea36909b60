"""Buyer links: signed, expire with the quote, only the newest acts, GET never changes state."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.utils import timezone

from tests.helpers import refresh
from workflows import actions
from workflows.links import quote_token, status_token
from workflows.models import Quote, State


def test_get_never_changes_anything(client, make_trade_in):
    trade_in = make_trade_in(State.QUOTED)
    token = quote_token(trade_in.latest_quote())
    for suffix in ("", "accept/", "decline/"):
        client.get(f"/trade-in/offer/{token}/{suffix}")
    assert refresh(trade_in).state == State.QUOTED


def test_a_tampered_link_is_refused(client, make_trade_in):
    trade_in = make_trade_in(State.QUOTED)
    token = quote_token(trade_in.latest_quote())
    forged = signing.dumps({"q": trade_in.latest_quote().pk}, salt="other", key="guessed")
    for bad in (token[:-2] + "xx", forged, "1", str(trade_in.pk)):
        response = client.post(f"/trade-in/offer/{bad}/accept/")
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
    assert refresh(trade_in).state == State.QUOTED
    assert client.get(f"/trade-in/status/{token}/").status_code == 404  # wrong salt


def test_an_expired_link_is_refused(client, make_trade_in):
    trade_in = make_trade_in(State.QUOTED)
    quote = trade_in.latest_quote()
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    response = client.post(f"/trade-in/offer/{quote_token(quote)}/accept/")
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert refresh(trade_in).state == State.QUOTED


def test_a_superseded_link_is_refused(client, make_trade_in, staff):
    trade_in = make_trade_in(State.QUOTED)
    old = trade_in.latest_quote()
    actions.trade_in_quote(trade_in=trade_in, actor=staff, amount="280")
    response = client.post(f"/trade-in/offer/{quote_token(old)}/accept/")
    assert response.status_code == 410 and "newer" in response.content.decode()
    assert refresh(trade_in).state == State.QUOTED


def test_a_used_link_is_refused(client, make_trade_in):
    trade_in = make_trade_in(State.ACCEPTED)
    response = client.post(
        f"/trade-in/offer/{quote_token(trade_in.latest_quote())}/decline/", {"reason": "Other"}
    )
    assert response.status_code == 410 and "already" in response.content.decode()
    assert refresh(trade_in).state == State.ACCEPTED


def test_the_status_page_speaks_the_buyers_words(client, make_trade_in):
    for state, words in [
        (State.SUBMITTED, "checking your device"),
        (State.QUOTED, "Our offer"),
        (State.ACCEPTED, "Download shipping label"),
        (State.DECLINED, "was declined"),
        (State.RECEIVED, "received your device"),
        (State.CLOSED, "Paid"),
    ]:
        trade_in = make_trade_in(state)
        page = client.get(f"/trade-in/status/{status_token(trade_in)}/").content.decode()
        assert words in page, state


def test_pickup_buyers_get_instructions_not_a_label(client, make_trade_in, settings, drain):
    from django.core import mail

    trade_in = make_trade_in(
        State.ACCEPTED, fulfilment="pickup", address_line1="", city="", postcode=""
    )
    assert not trade_in.labels.exists()
    assert "drop off" in mail.outbox[-1].subject
    assert settings.SHOP_ADDRESS in mail.outbox[-1].body
    page = client.get(f"/trade-in/status/{status_token(trade_in)}/").content.decode()
    assert settings.SHOP_ADDRESS in page

    # A local ZIP with "ship it" chosen still ships: the form asked, the buyer decided.
    local = make_trade_in(
        State.ACCEPTED, city="Springfield", region="IL", postcode=settings.LOCAL_PICKUP_POSTCODES[0]
    )
    assert local.fulfilment == "ship" and local.labels.exists()


def test_whether_an_offer_is_still_actionable_is_one_predicate(client, make_trade_in, staff):
    """Issue 19: the rule lived in the signing module. The page and the actions ask
    rules.predicates.quote_link_refusal; links.py only signs and unsigns."""
    from workflows import links
    from workflows.rules.predicates import quote_link_refusal

    assert not hasattr(links, "check_quote_actionable")
    trade_in = make_trade_in(State.QUOTED)
    first = trade_in.latest_quote()
    assert quote_link_refusal(first) is None
    actions.trade_in_quote(trade_in=trade_in, actor=staff, amount="280")
    first = Quote.objects.select_related("trade_in").get(pk=first.pk)
    assert quote_link_refusal(first).reason == "superseded"
    response = client.post(f"/trade-in/offer/{quote_token(first)}/accept/")
    assert "replaced by a newer one" in response.content.decode()
    assert refresh(trade_in).state == State.QUOTED
