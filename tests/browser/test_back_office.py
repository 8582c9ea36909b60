"""Staff and managers in a real browser: quote from the queue, receive at the intake bench,
export payouts."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from tests.browser.conftest import login, screenshot
from tests.helpers import refresh
from workflows.models import Payout, State
from workflows.rules.inspection import checklist_as_disclosed

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_quotes_a_submission_from_the_queue(desktop, make_trade_in, staff):
    trade_in = make_trade_in(State.SUBMITTED)
    login(desktop, "staff")
    desktop.click("text=Trade-ins queue")
    desktop.click(f"text={trade_in.reference}")
    offer = desktop.locator("input[name=amount]")
    assert offer.input_value() == str(trade_in.suggested_offer)  # prefilled from the price list
    offer.fill("410")
    desktop.fill("textarea[name=note]", "Thanks for choosing us")
    screenshot(desktop, "staff-quote-form")
    desktop.click("button:has-text('Send Quote')")
    desktop.wait_for_selector("text=Quote sent to the buyer.")
    trade_in = refresh(trade_in)
    assert trade_in.state == State.QUOTED
    assert trade_in.latest_quote().amount == Decimal("410.00")


def test_it_receives_a_device_by_typing_the_imei_and_enter(desktop, make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    login(desktop, "staff")
    desktop.goto("/dashboard/intake/")
    scan = desktop.locator("input[name=imei]")
    assert scan.evaluate("el => el === document.activeElement")  # ready for the scanner
    scan.type(trade_in.imei)  # a keyboard-wedge scanner types, then sends Enter
    scan.press("Enter")
    desktop.wait_for_selector("#intake-match")
    for key, value in checklist_as_disclosed(trade_in).items():
        desktop.check(f"input[name=check_{key}][value={value}]")
    desktop.check("input[name=outcome][value=grade]")
    desktop.check("input[name=grade][value=B]")
    screenshot(desktop, "staff-intake-match")
    desktop.click("button:has-text('Receive device')")
    desktop.wait_for_selector("text=received, grade B")
    assert desktop.locator("input[name=imei]").evaluate("el => el === document.activeElement")
    trade_in = refresh(trade_in)
    assert trade_in.state == State.RECEIVED and trade_in.unit.grade == "B"


def test_a_manager_exports_payouts_to_csv(desktop, make_trade_in, manager):
    make_trade_in(State.CLOSED)
    make_trade_in(State.ACCEPTED, buyer_name="Zoë O'Brien")
    login(desktop, "manager")
    desktop.goto("/dashboard/payouts/")
    desktop.click("a:has-text('Export')")
    desktop.select_option("select[name=format]", label="csv")
    with desktop.expect_download() as download:
        desktop.click("form:has(#id_format) button[type=submit]")
    content = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(content)))
    expected = {
        (p.trade_in.reference, p.trade_in.buyer_name, p.amount, p.status)
        for p in Payout.objects.select_related("trade_in")
    }
    assert {
        (r["Trade-in"], r["Buyer"], Decimal(r["Amount"]), r["Status"]) for r in rows
    } == expected
