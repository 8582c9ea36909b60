"""The browser harness itself: a buyer reaches the trade-in form from the storefront footer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_reaches_the_trade_in_form_from_the_footer(phone, product):
    phone.goto("/")
    phone.click("footer >> text=Trade in your device")
    phone.wait_for_url("**/trade-in/")
    assert phone.locator("h1").inner_text() == "Which phone do you want to sell?"
    phone.click(f".tiles >> text={product.device_model.make.name}")
    phone.wait_for_url(f"**make={product.device_model.make.slug}")  # swapped in, no reload
    phone.click(f"#models >> text={product.device_model.name}")
    phone.wait_for_url(f"**model={product.device_model.slug}")
    assert phone.locator("h1").inner_text() == str(product.device_model)
