"""The counter in Chromium at 1440×900 (issue 21): a clean phone bought for cash with a drawn
signature, a red flag that stops the sale before any price, a declined offer, an abandoned
buyback, and a drawer closed with a difference."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.browser.checks import staff_page_problems
from tests.browser.conftest import login, screenshot
from tests.browser.counter_steps import open_drawer, sign, start, to_customer
from tests.conftest import refresh
from tests.factories import valid_imei
from workflows.models import (
    BlockedImei,
    CashDrawer,
    CounterBuyback,
    CounterSignature,
    EventKind,
    PayoutStatus,
    State,
    UnitStatus,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clean_phone_bought_for_cash_with_a_drawn_signature(desktop, staff, product):
    problems = {}

    def check(name: str) -> None:
        # Every counter page passes the staff pages' WCAG A/AA rules, ids unique.
        if found := staff_page_problems(desktop):
            problems[name] = found

    login(desktop, "staff")
    open_drawer(desktop)
    check("home")
    imei = valid_imei()
    desktop.goto("/dashboard/counter/start/?q=dana")
    check("start")
    screenshot(desktop, "counter-start")
    start(desktop, product, imei)
    assert desktop.get_attribute("#counter-buyback", "data-step") == "inspect"
    check("inspect")
    desktop.click("#all-clear")
    desktop.wait_for_selector("#offer-form")
    check("offer")
    screenshot(desktop, "counter-offer")
    desktop.click("#show-customer")
    desktop.wait_for_selector("#customer-page")
    check("customer")
    assert "$500.00" in desktop.inner_text("#offer")
    desktop.check("#confirm")
    sign(desktop)
    screenshot(desktop, "counter-customer")
    desktop.click("#accept")
    desktop.wait_for_selector("#pay-form")
    check("pay")
    desktop.click("#pay")
    desktop.wait_for_selector("#done")
    check("done")
    screenshot(desktop, "counter-done")
    assert problems == {}
    with desktop.expect_popup() as popup:
        desktop.click("#print-receipt")
    receipt = popup.value
    receipt.wait_for_load_state()

    buyback = CounterBuyback.objects.get()
    trade_in = refresh(buyback.trade_in)
    assert trade_in.state == State.CLOSED and trade_in.imei == imei
    assert trade_in.unit.status == UnitStatus.GRADED and trade_in.unit.grade == "A"
    assert trade_in.payout.status == PayoutStatus.SETTLED and trade_in.payout.method == "cash"
    assert refresh(product).stock == 1
    signature = CounterSignature.objects.get(declaration__trade_in=trade_in)
    assert bytes(signature.png).startswith(b"\x89PNG")
    drawer = CashDrawer.objects.get()
    assert drawer.movements.get().amount == Decimal("500.00")
    desktop.goto("/dashboard/counter/")
    assert desktop.inner_text("#drawer-expected") == "$0.00"


def test_a_red_flag_stops_it_before_any_price(desktop, staff, product):
    imei = valid_imei()
    BlockedImei.objects.create(imei=imei, reason=BlockedImei.Reason.BLACKLISTED)
    login(desktop, "staff")
    start(desktop, product, imei)
    assert "blacklisted" in desktop.inner_text("#red-flag")
    assert "$" not in desktop.inner_text("#counter-buyback")  # no price shown at all
    assert desktop.locator("#all-clear").count() == 0
    desktop.click("#abandon")
    desktop.wait_for_selector("#counter-home")
    trade_in = CounterBuyback.objects.get().trade_in
    assert refresh(trade_in).state == State.DECLINED
    assert trade_in.events.filter(kind=EventKind.COUNTER_ABANDONED).exists()


def test_a_declined_offer_leaves_nothing(desktop, staff, product):
    login(desktop, "staff")
    start(desktop, product, valid_imei())
    to_customer(desktop)
    desktop.click("#decline")
    desktop.wait_for_selector("#counter-home")
    trade_in = refresh(CounterBuyback.objects.get().trade_in)
    assert trade_in.state == State.DECLINED
    assert refresh(product).stock == 0
    assert not hasattr(trade_in, "payout") or trade_in.payout is None


def test_an_abandoned_buyback_changes_no_stock(desktop, staff, product):
    login(desktop, "staff")
    start(desktop, product, valid_imei())
    desktop.click("#all-clear")
    desktop.wait_for_selector("#offer-form")
    desktop.goto("/dashboard/counter/")
    desktop.locator("#today").get_by_role("button", name="Abandon").click()
    desktop.wait_for_selector("#counter-home")
    buyback = CounterBuyback.objects.get()
    assert buyback.abandoned_at is not None
    assert refresh(product).stock == 0
    assert buyback.trade_in.events.filter(kind=EventKind.COUNTER_ABANDONED).exists()


def test_the_drawer_closing_with_a_difference_needs_a_note(desktop, staff, product):
    login(desktop, "staff")
    open_drawer(desktop, "300.00")
    start(desktop, product, valid_imei())
    to_customer(desktop)
    desktop.check("#confirm")
    sign(desktop)
    desktop.click("#accept")
    desktop.wait_for_selector("#pay-form")
    # 500 owed, 300 in the drawer: the count after paying is what the staff member says.
    desktop.click("#pay")
    desktop.wait_for_selector("#done")
    desktop.goto("/dashboard/counter/")
    assert desktop.inner_text("#drawer-expected") == "-$200.00"
    desktop.fill("#counted", "0.00")
    desktop.click("#close-drawer button[type=submit]")
    desktop.wait_for_selector("#counter-home")
    assert "add a note" in desktop.content()
    assert CashDrawer.objects.get().closed_at is None
    desktop.fill("#counted", "0.00")
    desktop.fill("#note", "Topped up 200 from the safe, slip in the drawer")
    desktop.click("#close-drawer button[type=submit]")
    desktop.wait_for_selector("#drawer-closed")
    assert desktop.inner_text("#drawer-difference") == "$200.00"
    screenshot(desktop, "counter-drawer-closed")
