"""Issue 18, found in the walk: a refused seller-ID entry at the counter keeps what was typed."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login, screenshot
from workflows.models import SellerIdentity, State

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_expired_id_typed_at_the_counter_comes_back_with_every_field_filled(
    desktop, make_trade_in, staff
):
    trade_in = make_trade_in(State.ACCEPTED)
    login(desktop, "staff")
    desktop.goto(f"/dashboard/trade-ins/{trade_in.pk}/change/")
    form = desktop.locator("details:has(form[action$='/identity/'])")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    form.locator("select[name=id_type]").select_option("passport")
    form.locator("input[name=id_number]").fill("K9988-7766")
    form.locator("input[name=issuer]").fill("Ontario")
    form.locator("input[name=birth_date]").fill("1990-04-23")
    form.locator("input[name=expires_on]").fill("2021-06-30")
    form.locator("button:has-text('Save ID')").click()
    desktop.wait_for_selector("text=This ID expired on 2021-06-30")
    form = desktop.locator("details:has(form[action$='/identity/'])")
    assert form.locator("select[name=id_type]").input_value() == "passport"
    assert form.locator("input[name=id_number]").input_value() == "K9988-7766"
    assert form.locator("input[name=issuer]").input_value() == "Ontario"
    assert form.locator("input[name=birth_date]").input_value() == "1990-04-23"
    assert form.locator("input[name=expires_on]").input_value() == "2021-06-30"
    assert form.get_attribute("open") is not None  # shown open, with the error in it
    screenshot(desktop, "staff-seller-id-refused-kept")
    assert not SellerIdentity.objects.exists()
