"""The buyer portal over HTTP: rate limit, popular models, page weight, plain-HTML form details,
the quote page's decline checks and the broken-link pages."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test import Client

from tests.factories import DeviceModelFactory, ProductFactory, valid_imei
from tests.helpers import buyer_post, form_url, refresh, unsigned_part
from workflows import actions
from workflows.links import quote_token, status_token
from workflows.models import State, TradeIn

BUDGET = 14 * 1024


def test_it_asks_to_try_again_in_a_minute_after_too_many_submissions(client, product, settings):
    # A day-long window: the test cannot straddle two windows and see the count reset.
    settings.BUYER_SUBMIT_RATE = "3/d"
    for _ in range(3):
        assert buyer_post(client, product, imei=valid_imei()).status_code == 302
    response = buyer_post(client, product, imei=valid_imei(), buyer_name="Kept Name")
    assert response.status_code == 429
    page = response.content.decode()
    assert "try again in a minute" in page
    assert 'value="Kept Name"' in page  # the answers are still there
    assert TradeIn.objects.count() == 3
    # Someone else, from another address, is not held up.
    other = buyer_post(Client(REMOTE_ADDR="203.0.113.9"), product, imei=valid_imei())
    assert other.status_code == 302
    assert TradeIn.objects.count() == 4


def test_the_rate_limit_counts_in_a_cache_every_web_worker_shares(client, product):
    assert isinstance(caches["shared"], DatabaseCache)  # without REDIS_URL: a database table
    buyer_post(client, product)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_cache")
        assert cursor.fetchone()[0] == 1


def test_a_cache_that_is_down_does_not_turn_buyers_away(client, product, settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    assert buyer_post(client, product).status_code == 302
    assert "Rate limit cache unavailable" in caplog.text


def test_the_first_page_offers_the_most_traded_models(client, make_trade_in):
    traded = make_trade_in(State.SUBMITTED).product.device_model
    # A name the factory's "iPhone <n>" sequence never makes (it collided once n reached 84).
    newest = DeviceModelFactory(name="iPhone Next", slug="iphone-next", release_year=2030)
    ProductFactory(device_model=newest)
    DeviceModelFactory(
        name="iPhone Retired", slug="iphone-retired", is_active=False, release_year=2031
    )
    page = client.get("/trade-in/").content.decode()
    popular = page.split('id="popular"')[1]
    assert popular.index(traded.name) < popular.index("iPhone Next")
    assert "Retired" not in popular
    assert f"?make=apple&amp;model={traded.slug}" in popular  # straight to the form


def pages(product, trade_in) -> dict[str, str]:
    return {
        "storefront": "/",
        "make": "/trade-in/",
        "model": f"/trade-in/?make={product.device_model.make.slug}",
        "form": form_url(product),
        "confirmation": f"/trade-in/thanks/{status_token(trade_in)}/",
        "status": f"/trade-in/status/{status_token(trade_in)}/",
        "quote": f"/trade-in/offer/{quote_token(trade_in.latest_quote())}/",
    }


def test_every_buyer_page_fits_in_14_kb_compressed_from_our_own_host(client, make_trade_in):
    trade_in = make_trade_in(State.QUOTED)
    assets = sum(
        len(gzip.compress(Path(finders.find(f"buyer_portal/{name}")).read_bytes(), 9))
        for name in ("portal.css", "portal.js")
    )
    for name, url in pages(trade_in.product, trade_in).items():
        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200, name
        assert response["Content-Encoding"] == "gzip", name
        assert len(response.content) + assets <= BUDGET, name
        html = gzip.decompress(response.content).decode()
        # Nothing loads from elsewhere: every src and stylesheet is a path on this site.
        assert re.findall(r'(?:src|href)="(?:https?:)?//', html) == [], name


def test_the_form_brings_the_right_keyboards_and_autofill(client, product):
    page = client.get(form_url(product)).content.decode()
    imei = re.search(r'<input[^>]*name="imei"[^>]*>', page).group(0)
    assert 'inputmode="numeric"' in imei and 'autocomplete="off"' in imei
    for name, autocomplete in [
        ("buyer_name", "name"),
        ("buyer_email", "email"),
        ("buyer_phone", "tel"),
        ("address_line1", "address-line1"),
        ("city", "address-level2"),
        ("postcode", "postal-code"),
    ]:
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert f'autocomplete="{autocomplete}"' in tag, name
    assert 'type="email"' in page and 'type="tel"' in page
    assert "*#06#" in page  # where to find the IMEI
    assert 'id="scan"' in page and "hidden" in re.search(
        r'<button[^>]*id="scan"[^>]*>', page
    ).group(0)
    # The only storage size is chosen already: one tap fewer.
    assert re.search(r'<input[^>]*name="product"[^>]*checked', page)


def test_it_says_so_when_the_make_or_model_is_unknown(client, product):
    assert "buy that make yet" in client.get("/trade-in/?make=nokia").content.decode()
    page = client.get(f"/trade-in/?make={product.device_model.make.slug}&model=n-gage")
    assert "know that model" in page.content.decode()
    posted = client.post(
        f"/trade-in/?make={product.device_model.make.slug}&model=n-gage", {"imei": valid_imei()}
    )
    assert posted.status_code == 400
    assert TradeIn.objects.count() == 0


def test_the_confirmation_shows_the_reference_and_estimate(client, product):
    response = buyer_post(client, product)
    page = client.get(response["Location"]).content.decode()
    trade_in = TradeIn.objects.get()
    assert trade_in.reference in page
    assert f"about ${trade_in.suggested_offer:.0f}" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Please choose a reason."),
        ({"reason": "Because"}, "Please choose a reason."),
        ({"reason": "Other", "detail": "x" * 1001}, "under 1000 characters"),
    ],
)
def test_a_decline_needs_a_known_reason_and_a_short_note(client, make_trade_in, data, message):
    trade_in = make_trade_in(State.QUOTED)
    token = quote_token(trade_in.latest_quote())
    response = client.post(f"/trade-in/offer/{token}/decline/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert refresh(trade_in).state == State.QUOTED


def test_an_old_offer_link_points_to_the_status_page(client, make_trade_in, staff):
    trade_in = make_trade_in(State.QUOTED)
    old = quote_token(trade_in.latest_quote())
    actions.trade_in_quote(trade_in=trade_in, actor=staff, amount="280")
    page = client.get(f"/trade-in/offer/{old}/").content.decode()
    assert "There is a newer offer" in page
    assert unsigned_part(f"/trade-in/status/{status_token(trade_in)}/") in page
    forged = client.get(f"/trade-in/offer/{old[:-2]}zz/").content.decode()
    assert "/trade-in/status/" not in forged  # a forged link learns nothing


def test_the_status_page_walks_the_buyer_through_the_steps(client, make_trade_in):
    for state, current in [
        (State.SUBMITTED, "Offer"),
        (State.ACCEPTED, "Send the device"),
        (State.RECEIVED, "We check it"),
    ]:
        page = client.get(f"/trade-in/status/{status_token(make_trade_in(state))}/")
        step = re.search(r'<li class="current" aria-current="step">([^<]+)<', page.content.decode())
        assert step.group(1) == current, state
    declined = client.get(f"/trade-in/status/{status_token(make_trade_in(State.DECLINED))}/")
    assert '<li class="stopped" aria-current="step">Offer<' in declined.content.decode()


def test_the_popular_models_are_not_recounted_on_every_first_page(client, make_trade_in):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_trade_in(State.SUBMITTED)
    with CaptureQueriesContext(connection) as first:
        client.get("/trade-in/")
    with CaptureQueriesContext(connection) as second:
        client.get("/trade-in/")
    counted = [q["sql"] for q in first.captured_queries if "COUNT(" in q["sql"]]
    assert counted and not [q for q in second.captured_queries if "COUNT(" in q["sql"]]
