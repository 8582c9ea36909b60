"""The buyer's ship-to address: what a label needs, ZIP first, and a local ZIP that asks."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.helpers import buyer_post, form_url
from workflows.models import Fulfilment, TradeIn


def test_it_offers_the_state_as_usps_codes_and_the_zip_first(client, product):
    page = client.get(form_url(product)).content.decode()
    assert '<select name="region"' in page and '<option value="IL">Illinois (IL)</option>' in page
    assert '<select name="country"' in page
    assert '<option value="US" selected>United States</option>' in page
    # Autofill order after the ZIP: street, apartment, city, state, country.
    order = [
        page.index(f'name="{name}"')
        for name in ("postcode", "address_line1", "address_line2", "city", "region", "country")
    ]
    assert order == sorted(order)
    assert 'autocomplete="postal-code"' in page and 'autocomplete="address-level1"' in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"region": ""}, "region", "Please choose your state."),
        ({"region": "Illinois"}, "region", "Select a valid choice"),
        ({"postcode": "6060"}, "postcode", "A ZIP code has 5 digits"),
        ({"postcode": "60601-12"}, "postcode", "A ZIP code has 5 digits"),
        ({"country": "FR"}, "country", "Please choose one of the answers shown."),
    ],
)
def test_it_refuses_an_address_a_label_cannot_use(client, product, overrides, field, message):
    response = buyer_post(client, product, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TradeIn.objects.exists()


def test_it_keeps_a_zip_plus_four_and_the_default_country(client, product):
    response = buyer_post(client, product, postcode="606011234", region="IL")
    assert response.status_code == 302
    trade_in = TradeIn.objects.get()
    assert (trade_in.postcode, trade_in.region, trade_in.country) == ("60601-1234", "IL", "US")


def test_drop_off_needs_no_address(client, product):
    response = buyer_post(
        client, product, fulfilment="pickup", address_line1="", city="", region="", postcode=""
    )
    assert response.status_code == 302
    assert TradeIn.objects.get().fulfilment == Fulfilment.PICKUP


def test_a_local_zip_asks_the_buyer_instead_of_switching_to_drop_off(client, product):
    local = settings.LOCAL_PICKUP_POSTCODES[0]
    address = {"postcode": local, "city": "Springfield", "region": "IL"}
    response = buyer_post(client, product, **address)
    assert response.status_code == 400
    page = response.content.decode()
    assert "You are close to our shop" in page and "Drop it off instead" in page
    assert not TradeIn.objects.exists()

    # The buyer keeps shipping: it ships (the old code silently made it a drop-off).
    assert buyer_post(client, product, ship_anyway="on", **address).status_code == 302
    assert TradeIn.objects.get().fulfilment == Fulfilment.SHIP


def test_the_zip_lookup_answers_from_the_offline_table(client):
    response = client.get("/trade-in/zip/?zip=62701")
    assert response.json() == {"found": True, "city": "Springfield", "state": "IL"}
    assert "max-age=86400" in response["Cache-Control"]
    assert client.get("/trade-in/zip/?zip=10001-1234").json()["state"] == "NY"
    assert client.get("/trade-in/zip/?zip=00000").status_code == 404
    assert client.get("/trade-in/zip/?zip=abc").status_code == 404
    assert client.post("/trade-in/zip/?zip=62701").status_code == 405


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"region": "Illinois"}, "choose your state"),
        ({"postcode": "ABCDE"}, "5 digits"),
        ({"country": "DE"}, "cannot send a label to that country"),
    ],
)
def test_the_submit_action_applies_the_same_rules(product, overrides, message):
    import uuid

    from tests.helpers import submission
    from workflows import actions
    from workflows.errors import InvalidInput

    with pytest.raises(InvalidInput, match=message):
        actions.trade_in_submit(
            submission=submission(product, **overrides), submission_key=uuid.uuid4().hex
        )
    assert not TradeIn.objects.exists()


def test_the_form_and_the_label_client_agree_on_state_and_zip(client, product):
    # One set of rules: every state the form offers passes the label client's check before
    # ShipEngine, every code the label client accepts is offered, and both read the ZIP alike.
    from workflows.integrations.shipping import address_problems
    from workflows.rules.addresses import US_STATE_CODES

    page = client.get(form_url(product)).content.decode()
    offered = {code for code in US_STATE_CODES if f'<option value="{code}">' in page}
    assert offered == US_STATE_CODES
    base = {
        "name": "Ada",
        "address_line1": "1 Main St",
        "city_locality": "Springfield",
        "postal_code": "62704",
        "country_code": "US",
    }
    for code in sorted(US_STATE_CODES):
        assert address_problems({**base, "state_province": code}) == [], code
    assert address_problems({**base, "state_province": "Illinois"})
    for zip_code, ok in (("62704", True), ("62704-1234", True), ("6270", False)):
        assert (
            address_problems({**base, "state_province": "IL", "postal_code": zip_code}) == []
        ) is ok
