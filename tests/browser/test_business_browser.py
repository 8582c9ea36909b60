"""A business seller on a phone (390×844), in Chromium: a 100-line device list with two bad
lines, refused by line number, the other 98 sent as one order. Staff upload the same list for a
customer and quote it in one click, on pages without accessibility problems."""

from __future__ import annotations

import pytest

from tests.browser.checks import assert_page_is_good
from tests.browser.conftest import screenshot
from tests.test_business_portal import hundred_with_two_bad
from workflows.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_100_line_list_with_two_bad_lines_sends_the_other_98_as_one_order(
    phone, product, site, tmp_path
):
    data, good = hundred_with_two_bad(product)
    path = tmp_path / "devices.csv"
    path.write_bytes(data)

    phone.goto("/")
    assert_page_is_good(phone)
    phone.click("#business-link")
    phone.wait_for_selector("#business")
    assert_page_is_good(phone)
    screenshot(phone, "390-business-upload")
    phone.set_input_files("#id_device_list", str(path))
    phone.fill("#id_buyer_name", "Phones Wholesale LLC")
    phone.fill("#id_buyer_email", "buy@wholesale.example")
    phone.click("#f-fulfilment label.choice:has-text('Drop off')")
    phone.click("#f-payout_method label.choice:has-text('Check')")
    phone.click("#check-list")

    phone.wait_for_selector("#bad-rows")
    assert "98 devices ready" in phone.inner_text("#good")
    problems = phone.locator("#bad-rows li").all_inner_texts()
    assert [p.split(":")[0] for p in problems] == ["Line 11", "Line 59"]
    assert not Order.objects.exists()
    assert_page_is_good(phone)
    screenshot(phone, "390-business-review")
    phone.set_viewport_size({"width": 320, "height": 640})
    assert_page_is_good(phone)  # the line messages wrap, no sideways scroll
    phone.set_viewport_size({"width": 390, "height": 844})

    phone.click("#send")
    phone.wait_for_url("**/trade-in/thanks/**")
    order = Order.objects.get()
    assert list(order.devices.order_by("position").values_list("imei", flat=True)) == good
    assert order.reference in phone.inner_text("main")
    assert_page_is_good(phone)
    screenshot(phone, "390-business-confirmation")


def test_staff_upload_a_list_and_quote_it_in_one_click_on_pages_without_a11y_problems(
    desktop, product, staff, tmp_path
):
    from decimal import Decimal

    from tests.browser.checks import staff_page_problems
    from tests.browser.conftest import login
    from workflows.models import State
    from workflows.tasks import run_due_side_effects

    data, _good = hundred_with_two_bad(product)
    path = tmp_path / "devices.csv"
    path.write_bytes(data)
    login(desktop, "staff")
    desktop.goto("/dashboard/workflows/order/")
    assert staff_page_problems(desktop) == []
    desktop.click("text=Upload a device list")
    desktop.wait_for_selector("#upload-form")
    assert staff_page_problems(desktop) == []
    desktop.set_input_files("#id_device_list", str(path))
    desktop.fill("#id_buyer_name", "Phones Wholesale LLC")
    desktop.fill("#id_buyer_email", "buy@wholesale.example")
    desktop.select_option("#id_fulfilment", "pickup")
    desktop.select_option("#id_payout_method", "check")
    desktop.click("#upload-form button[type=submit]")
    desktop.wait_for_selector("#bad-rows")
    assert "98 devices ready" in desktop.inner_text("#device-list-review")
    assert staff_page_problems(desktop) == []
    desktop.click("#send-list button[type=submit]")
    desktop.wait_for_selector("#quote-suggested")
    assert staff_page_problems(desktop) == []
    while run_due_side_effects():  # the IMEI checks, as the worker runs them
        pass
    desktop.click("#quote-suggested button")  # the one click that quotes the order
    desktop.wait_for_selector("text=98 devices quoted")
    order = Order.objects.get()
    assert set(order.devices.values_list("state", flat=True)) == {State.QUOTED}
    assert order.devices.first().quotes.get().amount == Decimal("385.00")
    assert not order.devices.filter(quotes__auto_quoted=True).exists()  # staff quoted
