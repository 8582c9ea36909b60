"""A three-device basket on a phone (390×844), in Chromium: each device added in three taps
or fewer, one edited, the buyer's details asked once, one order of numbered devices."""

from __future__ import annotations

import pytest

from tests.browser.checks import assert_page_is_good
from tests.browser.conftest import screenshot
from tests.factories import ProductFactory, valid_imei
from workflows.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = {
    "screen": "Light scratches",
    "body": "Like new",
    "battery": "Good",
    "accessories": "Box only",
}


def answer(page, imei: str) -> None:
    for question, label in ANSWERS.items():
        page.click(f"#f-{question} label.choice:has-text('{label}')")
    page.fill("#id_imei", imei)


def pick(page, product) -> int:
    """From the make page to the device's form; returns the taps it took."""
    page.click(f".tiles a:has-text('{product.device_model.make.name}')")
    page.wait_for_selector("#models")
    page.click(f"#models li a.tile:text-is('{product.device_model.name}')")
    page.wait_for_selector("#tradein")
    return 2


def test_a_three_device_basket_is_sent_as_one_order(phone, product, site):
    other = ProductFactory(device_model__make=product.device_model.make)
    imeis = [valid_imei() for _ in range(3)]
    phone.goto("/trade-in/")
    pick(phone, product)
    answer(phone, imeis[0])
    assert phone.locator("#basket").count() == 0  # a basket of one: today's page

    phone.click("#add-device")  # tap 1
    phone.wait_for_selector("#basket")
    assert "Your basket: 1 device" in phone.inner_text("#basket")
    assert phone.locator("h1").inner_text() == "Which phone do you want to add?"
    assert_page_is_good(phone)
    screenshot(phone, "390-basket-picker")
    assert pick(phone, other) + 1 <= 3  # taps 2 and 3: the next device's page is open
    assert phone.locator("h1").inner_text().startswith("Device 2:")
    answer(phone, imeis[1])
    phone.click("#add-device")
    phone.wait_for_selector("#basket")

    pick(phone, product)
    answer(phone, imeis[1])  # the second device's IMEI again, by mistake
    phone.click("#add-device")
    phone.wait_for_selector("#form-errors .alert")
    assert "Devices 2 and 3 have the same IMEI" in phone.inner_text("#f-imei")
    phone.fill("#id_imei", imeis[2])
    assert "Total for all 3 devices" in phone.inner_text("#basket-total")
    assert_page_is_good(phone)
    screenshot(phone, "390-basket-device-3")
    phone.set_viewport_size({"width": 320, "height": 640})  # the smallest phone still sold
    assert_page_is_good(phone)  # the basket's rows and buttons fit, no sideways scroll
    screenshot(phone, "320-basket-device-3")
    phone.set_viewport_size({"width": 390, "height": 844})

    # The first device's battery was not quite "Good": edit it, then it goes back in.
    phone.click("#basket-1 button:has-text('Edit')")
    phone.wait_for_selector("#tradein")
    assert phone.input_value("#id_imei") == imeis[0]
    phone.click("#f-battery label.choice:has-text('Worn')")
    phone.click("#add-device")
    phone.wait_for_selector("#basket")
    pick(phone, product)
    answer(phone, imeis[2])

    # The buyer's details, once, on the last device's page.
    phone.fill("#id_buyer_name", "Ada Lovelace")
    phone.fill("#id_buyer_email", "ada@example.com")
    phone.click("#f-fulfilment label.choice:has-text('Drop off')")
    phone.click("#f-payout_method label.choice:has-text('Check')")
    assert_page_is_good(phone)
    phone.click("#submit")
    phone.wait_for_url("**/trade-in/thanks/**")

    order = Order.objects.get()
    devices = list(order.devices.order_by("position"))
    assert [d.imei for d in devices] == [imeis[1], imeis[0], imeis[2]]
    assert [d.battery for d in devices] == ["good", "worn", "good"]
    assert [d.product for d in devices] == [other, product, product]
    assert {(d.buyer_email, d.fulfilment) for d in devices} == {("ada@example.com", "pickup")}
    text = phone.inner_text("main")
    assert order.reference in text
    for device in devices:
        assert device.reference in text
    assert_page_is_good(phone)
    screenshot(phone, "390-basket-confirmation")
