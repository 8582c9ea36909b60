"""The buyer's basket through Django's client (issue 20): add, edit, remove, submit; one
order of numbered devices; a basket of one is today's form."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ProductFactory, valid_imei
from tests.helpers import buyer_post, form_url
from workflows.formatting import money
from workflows.models import Order, State, TradeIn

DEVICE = {"screen": "scratched", "body": "like_new", "battery": "good", "accessories": "box"}


def add(client: Client, product, **overrides):
    """ "Add another device" with only the device's answers, as the page's button posts."""
    data = {
        "product": product.pk,
        **DEVICE,
        "imei": valid_imei(),
        "submission_key": "k-add",
        "website": "",
        "add_device": "1",
        **overrides,
    }
    return client.post(form_url(product), data)


def in_basket(client: Client) -> list[dict]:
    return client.session.get("basket", {}).get("devices", [])


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def other(product):
    return ProductFactory(device_model__make=product.device_model.make)


def test_it_adds_a_device_and_opens_the_picker(client, product):
    imei = valid_imei()
    response = add(client, product, imei=imei)
    assert response.status_code == 302 and response.url == reverse("buyer_portal:form")
    assert [d["imei"] for d in in_basket(client)] == [imei]
    assert not TradeIn.objects.exists()  # nothing is written before the submission
    page = client.get(response.url).content.decode()
    assert "Your basket: 1 device" in page and imei in page
    assert "Which phone do you want to add?" in page


def test_adding_needs_only_the_devices_answers(client, product):
    response = add(client, product, imei="123")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_imei_error"' in page
    assert 'id="id_buyer_name_error"' not in page  # asked once, on the last device's page
    assert in_basket(client) == []


def test_a_basket_submits_as_one_order_with_numbered_references(client, product, other):
    first, second = valid_imei(), valid_imei()
    add(client, product, imei=first)
    add(client, other, imei=second, screen="cracked")
    page = client.get(form_url(product)).content.decode()
    assert "Device 3:" in page and "In your basket (2 devices)" in page
    third = valid_imei()
    response = buyer_post(client, product, imei=third, submission_key="basket-key")
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    devices = list(order.devices.order_by("position"))
    assert [d.imei for d in devices] == [first, second, third]
    assert [d.product for d in devices] == [product, other, product]
    assert devices[1].screen == "cracked"
    assert [d.reference for d in devices] == [f"{order.reference}-{n}" for n in (1, 2, 3)]
    # The buyer's details, given once, are on every device.
    assert {(d.buyer_email, d.payout_method, d.fulfilment) for d in devices} == {
        ("ada@example.com", "check", "ship")
    }
    assert in_basket(client) == []
    confirmation = client.get(response.url).content.decode()
    assert order.reference in confirmation
    for device in devices:
        assert device.reference in confirmation
    # The estimate the basket showed, for the order.
    total = sum(d.suggested_offer for d in devices)
    assert f"Total for all 3 devices: about {money(total)}" in confirmation


def test_the_total_shows_every_device_once_answered(client, product):
    add(client, product)
    response = buyer_post(client, product, buyer_email="")  # an error: the page comes back
    assert response.status_code == 400
    assert "Total for all 2 devices" in response.content.decode()


def test_the_same_imei_twice_is_refused_when_adding(client, product):
    imei = valid_imei()
    add(client, product, imei=imei)
    response = add(client, product, imei=imei)
    assert response.status_code == 400
    assert "Devices 1 and 2 have the same IMEI" in response.content.decode()
    assert len(in_basket(client)) == 1


def test_the_same_imei_twice_is_refused_when_sending_and_nothing_written(client, product):
    imei = valid_imei()
    add(client, product, imei=imei)
    response = buyer_post(client, product, imei=imei)
    assert response.status_code == 400
    assert "Devices 1 and 2 have the same IMEI" in response.content.decode()
    assert not TradeIn.objects.exists() and not Order.objects.exists()
    assert len(in_basket(client)) == 1  # the basket is kept to fix


def test_removing_a_device(client, product, other):
    add(client, product, imei=(keep := valid_imei()))
    add(client, other)
    response = client.post(
        reverse("buyer_portal:basket_remove", args=[2]), {"next": form_url(product)}
    )
    assert response.status_code == 302 and response.url == form_url(product)
    assert [d["imei"] for d in in_basket(client)] == [keep]
    # A position that is not there changes nothing; a GET changes nothing.
    client.post(reverse("buyer_portal:basket_remove", args=[5]))
    assert client.get(reverse("buyer_portal:basket_remove", args=[1])).status_code == 405
    assert len(in_basket(client)) == 1


def test_remove_goes_back_only_to_our_own_pages(client, product):
    add(client, product)
    response = client.post(
        reverse("buyer_portal:basket_remove", args=[1]), {"next": "https://evil.example/"}
    )
    assert response.url == reverse("buyer_portal:form")


def test_editing_a_device_opens_its_page_filled_in(client, product, other):
    add(client, product, imei=(first := valid_imei()))
    add(client, other, imei=(second := valid_imei()), battery="service")
    response = client.post(reverse("buyer_portal:basket_edit", args=[2]))
    assert response.status_code == 302 and response.url == form_url(other)
    page = client.get(response.url).content.decode()
    assert f'value="{second}"' in page
    assert 'id="editing"' in page
    assert re.search(r'<input[^>]*name="battery" value="service"[^>]*checked', page)
    assert not re.search(r'<input[^>]*name="battery" value="good"[^>]*checked', page)
    assert [d["imei"] for d in in_basket(client)] == [first]
    # Changed and sent: the edited device is the order's last.
    response = buyer_post(client, other, imei=second, battery="worn", submission_key="edit")
    assert response.status_code == 302
    devices = list(Order.objects.get().devices.order_by("position"))
    assert [(d.imei, d.battery) for d in devices] == [(first, "good"), (second, "worn")]


def test_leaving_an_edit_puts_the_device_back(client, product, other):
    add(client, product)
    add(client, other, imei=(second := valid_imei()))
    client.post(reverse("buyer_portal:basket_edit", args=[2]))
    assert len(in_basket(client)) == 1
    client.get(reverse("buyer_portal:form"))  # back to the picker instead
    assert [d["imei"] for d in in_basket(client)][-1] == second


def test_the_buyers_details_carry_to_the_next_device(client, product, other):
    add(client, product, buyer_name="Grace Buyer", buyer_email="grace@example.com")
    page = client.get(form_url(other)).content.decode()
    assert 'value="Grace Buyer"' in page and 'value="grace@example.com"' in page


def test_the_basket_is_capped_by_the_setting(client, product, settings):
    settings.BASKET_MAX_DEVICES = 2
    assert add(client, product).status_code == 302
    # One in the basket and this page's device make two: no room to add a third.
    page = client.get(form_url(product)).content.decode()
    assert 'name="add_device"' not in page
    response = add(client, product)
    assert response.status_code == 400
    assert "at most 2 devices" in response.content.decode()
    assert len(in_basket(client)) == 1


def test_a_basket_of_one_is_todays_form(client, product):
    page = client.get(form_url(product)).content.decode()
    assert "Your basket" not in page and "Device 1" not in page
    response = buyer_post(client, product, submission_key="single")
    assert response.status_code == 302
    trade_in = TradeIn.objects.get()
    assert trade_in.reference == trade_in.order.reference and trade_in.position == 1
    assert trade_in.submission_key == "single"
    confirmation = client.get(response.url).content.decode()
    assert trade_in.reference in confirmation and 'id="order"' not in confirmation
    assert "Total for all" not in confirmation


def test_the_status_page_lists_the_orders_devices(client, product):
    add(client, product)
    response = buyer_post(client, product, submission_key="status")
    order = Order.objects.get()
    first, second = order.devices.order_by("position")
    from workflows.links import status_token

    page = client.get(reverse("buyer_portal:status", args=[status_token(first)])).content.decode()
    assert order.reference in page and second.reference in page
    # The second device's link is signed with the time, so a second that ticks over between
    # this test and the page changes its text: compare the device each link opens.
    from workflows.links import trade_in_from_status_token

    tokens = re.findall(r'href="/trade-in/status/([^/"]+)/"', page)
    assert second in [trade_in_from_status_token(token) for token in tokens]
    assert response.status_code == 302 and first.state == State.SUBMITTED


def test_the_finish_button_opens_the_last_device_to_send(client, product, other):
    add(client, product)
    add(client, other, imei=(second := valid_imei()))
    page = client.get(reverse("buyer_portal:form")).content.decode()
    assert 'id="basket-finish"' in page
    response = client.post(reverse("buyer_portal:basket_edit", args=[2]))
    assert response.url == form_url(other)
    assert f'value="{second}"' in client.get(response.url).content.decode()


def test_every_device_of_a_basket_counts_against_the_submit_rate(client, product, settings):
    # A day-long window: the test cannot straddle two windows and see the count reset.
    settings.BUYER_SUBMIT_RATE = "3/d"
    add(client, product)
    add(client, product)
    assert buyer_post(client, product, submission_key="three").status_code == 302
    assert TradeIn.objects.count() == 3
    # Three devices sent: as if three submissions, the next one waits.
    response = buyer_post(client, product, submission_key="fourth")
    assert response.status_code == 429
    assert TradeIn.objects.count() == 3


def test_the_buyer_gets_one_received_email_listing_every_device(client, product, drain):
    from django.core import mail

    add(client, product)
    add(client, product)
    buyer_post(client, product, submission_key="mail")
    drain()
    order = Order.objects.get()
    received = [m for m in mail.outbox if "We received your trade-in request" in m.subject]
    assert len(received) == 1
    assert order.reference in received[0].subject
    for device in order.devices.all():
        assert device.reference in received[0].body
        assert device.reference in received[0].alternatives[0][0]


def test_a_single_trade_in_gets_the_received_email_as_before(client, product, drain):
    from django.core import mail

    buyer_post(client, product, submission_key="one-mail")
    drain()
    trade_in = TradeIn.objects.get()
    (received,) = [m for m in mail.outbox if "We received your trade-in request" in m.subject]
    assert received.subject.endswith(f"({trade_in.reference})")
    assert f"sell your {trade_in.product}" in received.body


def test_a_double_tap_on_submit_keeps_one_order(client, product):
    add(client, product)
    first = buyer_post(client, product, imei=(imei := valid_imei()), submission_key="double")
    again = buyer_post(client, product, imei=imei, submission_key="double")
    assert first.status_code == again.status_code == 302
    # The same confirmation page. Its link is signed with the time, so a second that
    # ticks over between the taps changes the signature: compare the device it opens.
    opened = [client.get(r.url).context["trade_in"] for r in (first, again)]
    assert opened[0] == opened[1]
    assert Order.objects.count() == 1 and TradeIn.objects.count() == 2
