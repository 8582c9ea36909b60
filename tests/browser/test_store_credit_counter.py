"""The store-credit counter in Chromium (issue 18): an empty amount redeems nothing (it used to
spend the whole balance), and a partial spend shows the balance left on the page itself."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.browser.conftest import login
from tests.conftest import refresh
from workflows import actions
from workflows.models import State, StoreCreditRedemption

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_empty_amount_redeems_nothing_and_a_spend_shows_the_balance_left(
    desktop, make_trade_in, manager, staff
):
    trade_in = make_trade_in(State.RECEIVED, payout_method="store_credit")
    credit = actions.payout_issue_store_credit(payout=trade_in.payout, actor=manager)
    code = credit.code_for_buyer()
    login(desktop, "staff")
    desktop.goto("/dashboard/store-credit/counter/")
    desktop.fill("#lookup", code)
    desktop.get_by_role("button", name="Look up").click()
    desktop.wait_for_selector("#balance")
    assert "300.00" in desktop.inner_text("#balance")

    # Empty amount: the browser asks for it, and nothing is sent.
    redeem = desktop.get_by_role("button", name="Redeem")
    redeem.click()
    assert desktop.evaluate("document.querySelector('[name=amount]').validity.valueMissing")
    assert not StoreCreditRedemption.objects.exists()

    # Sent anyway (no browser check): the server refuses it and keeps the code looked up.
    desktop.evaluate("document.querySelector('form.bo-form').noValidate = true")
    redeem.click()
    desktop.wait_for_load_state()
    assert "This field is required" in desktop.content()
    assert "300.00" in desktop.inner_text("#balance")
    assert refresh(credit).balance == Decimal("300.00")
    assert not StoreCreditRedemption.objects.exists()

    # A partial spend: the page (not only the message) says what is left.
    desktop.fill("[name=amount]", "45.50")
    desktop.fill("[name=note]", "till 2")
    desktop.get_by_role("button", name="Redeem").click()
    desktop.wait_for_selector("#remaining")
    assert desktop.inner_text("#remaining") == "$254.50"
    assert credit.masked_code in desktop.inner_text("#last-redemption")
    assert code not in desktop.content()  # the whole code is never repeated
    assert refresh(credit).balance == Decimal("254.50")
