"""Bad input on the buyer form says what is wrong and saves nothing."""

from __future__ import annotations

import pytest

from tests.factories import DeviceModelFactory, ProductFactory, valid_imei
from tests.helpers import buyer_post, form_url
from workflows.links import trade_in_from_status_token
from workflows.models import Event, SideEffect, TradeIn


def assert_nothing_saved() -> None:
    assert TradeIn.objects.count() == 0
    assert Event.objects.count() == 0
    assert SideEffect.objects.count() == 0


def test_it_walks_make_then_model_then_details(client, product):
    dm = product.device_model
    page = client.get("/trade-in/").content.decode()
    assert f"?make={dm.make.slug}" in page
    page = client.get(f"/trade-in/?make={dm.make.slug}").content.decode()
    assert dm.name in page
    filtered = client.get(f"/trade-in/?make={dm.make.slug}&q=zzz").content.decode()
    assert dm.name not in filtered.split('id="models"')[1]
    page = client.get(form_url(product)).content.decode()
    assert "128 GB" in page and 'inputmode="numeric"' in page
    for field in ("screen", "body", "battery", "accessories", "imei", "buyer_name"):
        assert f'name="{field}"' in page
    # Every form control has a visible label.
    assert page.count("<label") >= page.count("<input") - page.count('type="hidden"') - 1


def test_a_size_tapped_on_the_model_list_arrives_chosen(client, product):
    """Model and storage in one tap; a size the model does not come in chooses nothing."""
    bigger = ProductFactory(device_model=product.device_model, storage_gb=256)
    dm = product.device_model
    page = client.get(f"/trade-in/?make={dm.make.slug}").content.decode()
    chip = f"?make={dm.make.slug}&amp;model={dm.slug}&amp;storage=256"
    assert chip in page and f'aria-label="{dm.name}, 256 GB"' in page

    def chosen(storage: str) -> list[str]:
        response = client.get(f"{form_url(product)}&storage={storage}")
        field = response.context["form"]["product"]
        return [str(w.data["value"]) for w in field if w.data["selected"]]

    assert chosen("256") == [str(bigger.pk)]
    assert chosen("999") == [] and chosen("x") == []


def test_the_storefront_footer_links_to_the_trade_in_page(client, db):
    page = client.get("/").content.decode()
    footer = page.split("<footer")[1]
    assert 'href="/trade-in/"' in footer


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"imei": "12345"}, "exactly 15 digits"),
        (
            {
                "imei": valid_imei()[:-1] + "0"
                if not valid_imei().endswith("0")
                else "356938035643801"
            },
            "last digit does not match",
        ),
        ({"imei": "35693803564380x9"}, "only digits"),
        ({"imei": "٣٥٦٩٣٨٠٣٥٦٤٣٨٠x"}, "only digits"),
        ({"imei": "A10000 0B8 9A2C3"}, "This is an MEID, the number of a CDMA phone"),
        ({"imei": "270113177609476541"}, "This is an MEID"),  # its 18-digit decimal form
        ({"screen": ""}, "Please choose one."),
        ({"battery": "great"}, "Please choose one of the answers shown"),
        ({"buyer_email": "not-an-email"}, "valid email"),
        ({"buyer_name": "x" * 500}, "under 120 characters"),
        ({"address_line1": ""}, "Needed for the shipping label"),
        ({"payout_method": "bitcoin"}, "Please choose one of the answers shown"),
        ({"product": "999999"}, "Choose one of the storage sizes shown"),
    ],
)
def test_it_rejects_bad_input_and_saves_nothing(client, product, overrides, message):
    response = buyer_post(client, product, **overrides)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'aria-live="polite"' in body
    assert_nothing_saved()


def test_it_refuses_a_storage_of_another_model(client, product):
    other = ProductFactory(device_model=DeviceModelFactory(), storage_gb=256)
    response = buyer_post(client, product, product=other.pk)
    assert response.status_code == 400
    assert_nothing_saved()


def test_it_404s_nothing_for_an_unknown_make_or_model(client, product):
    assert client.get("/trade-in/?make=nokia").status_code == 200  # back to choosing a make
    page = client.get(f"/trade-in/?make={product.device_model.make.slug}&model=n-gage")
    assert page.status_code == 200 and "Find your model" in page.content.decode()


def test_a_double_tap_creates_one_trade_in(client, product):
    first = buyer_post(client, product, submission_key="same-key", imei=valid_imei())
    second = buyer_post(client, product, submission_key="same-key", imei=valid_imei())
    assert first.status_code == second.status_code == 302
    # Both taps land on the same trade-in's page (the signed link's timestamp may differ).
    opened = {
        trade_in_from_status_token(response["Location"].rstrip("/").rsplit("/", 1)[1]).pk
        for response in (first, second)
    }
    assert opened == {TradeIn.objects.get().pk}


def test_pickup_needs_no_address(client, product):
    response = buyer_post(
        client, product, fulfilment="pickup", address_line1="", city="", postcode=""
    )
    assert response.status_code == 302
    assert TradeIn.objects.get().fulfilment == "pickup"


def test_the_honeypot_catches_bots(client, product):
    response = buyer_post(client, product, website="http://spam.example")
    assert response.status_code == 400
    assert_nothing_saved()


@pytest.mark.parametrize(
    "typed",
    [
        "{imei}/01",  # IMEI/SVN, as Samsung's *#06# shows it
        "{imei14}01",  # the 16-digit IMEISV
        "{imei14}",  # 14 digits, without the check digit
        "{a} {b} {c}",  # spaces
        "{a}-{b}-{c}",  # dashes
        "{fullwidth}",  # full-width digits (NFKC)
        "{arabic}",  # Arabic-Indic digits
        "IMEI: {imei}",  # copied with its label
    ],
)
def test_it_accepts_an_imei_as_buyers_copy_it_from_the_phone_or_box(client, product, typed):
    # Before: only 15 ASCII digits with spaces or dashes were accepted.
    imei = valid_imei()
    text = typed.format(
        imei=imei,
        imei14=imei[:14],
        a=imei[:6],
        b=imei[6:12],
        c=imei[12:],
        fullwidth="".join(chr(0xFF10 + int(d)) for d in imei),
        arabic="".join(chr(0x660 + int(d)) for d in imei),
    )
    response = buyer_post(client, product, imei=text)
    assert response.status_code == 302, response.content.decode()[:500]
    assert TradeIn.objects.get().imei == imei


def test_it_strips_bidi_overrides_and_zero_width_characters_from_buyer_text(client, product):
    """A name that reads as another in the queue, the emails and the export is cleaned."""
    response = buyer_post(
        client,
        product,
        buyer_name="Ada\u202e nimdA\u200b Buyer\u2066\u200d",
        address_line1="1\u200b Main\u202d St\ufeff",
        city="Chi\u2069cago\u200e",
    )
    assert response.status_code == 302
    trade_in = TradeIn.objects.get()
    assert (trade_in.buyer_name, trade_in.address_line1, trade_in.city) == (
        "Ada nimdA Buyer",
        "1 Main St",
        "Chicago",
    )


def test_a_name_of_only_invisible_characters_is_no_name(client, product):
    response = buyer_post(client, product, buyer_name="\u202e\u200b\u2066")
    assert response.status_code == 400
    assert "Please give your name and email." in response.content.decode()
    assert_nothing_saved()
