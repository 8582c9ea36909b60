"""Staff throughput in Chromium at 1440×900 (the buyer's address at 390×844): the auto-quote
policy, the bulk quote, the traps, the counter's label, notes and re-sent emails, the chart."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.checks import assert_page_is_good, serious_axe_violations
from tests.browser.conftest import login, screenshot
from tests.factories import ProductFactory, valid_imei
from tests.helpers import refresh
from workflows.models import Quote, QuotePolicy, State, TradeIn

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_policy_quotes_a_clean_submission_with_no_click_and_leaves_a_red_flag(
    desktop, make_trade_in, manager, staff
):
    login(desktop, "manager")
    desktop.click("text=Quoting policy")
    desktop.wait_for_selector("input[name=auto_quote]")
    desktop.check("input[name=auto_quote]")
    desktop.fill("input[name=auto_quote_cap]", "500")
    screenshot(desktop, "1440-quoting-policy")
    desktop.click("button[name=_save]")
    desktop.wait_for_selector("text=Quoting policy saved.")
    assert QuotePolicy.current().auto_quote

    clean = make_trade_in(State.SUBMITTED)  # the buyer submits; the check runs; nobody clicks
    flagged = make_trade_in(State.SUBMITTED, flagged=True)
    assert clean.state == State.QUOTED and clean.latest_quote().auto_quoted
    assert flagged.state == State.SUBMITTED

    desktop.goto("/dashboard/")
    assert "Quoted automatically, 30 days" in desktop.inner_text("body")
    desktop.click("text=Trade-ins queue")
    desktop.wait_for_url("**/dashboard/trade-ins/")
    desktop.wait_for_selector("#result_list tbody tr")
    rows = desktop.locator("#result_list tbody tr")
    assert rows.count() == 2
    queue = desktop.inner_text("#result_list")
    assert "RED FLAG" in queue and "Ada Buyer" in queue
    screenshot(desktop, "1440-queue-after-auto-quote")
    desktop.click(f"text={clean.reference}")
    desktop.wait_for_url(f"**/trade-ins/{clean.pk}/change/")
    timeline = desktop.inner_text("body")
    assert "auto-quote policy" in timeline
    screenshot(desktop, "1440-auto-quoted-detail")
    desktop.goto("/dashboard/")
    desktop.click(f"text={flagged.reference}")
    desktop.wait_for_url(f"**/trade-ins/{flagged.pk}/change/")
    assert "red flag: blacklisted" in desktop.inner_text("body")


def test_a_bulk_quote_from_the_queue(desktop, make_trade_in, staff):
    first, second = make_trade_in(State.SUBMITTED), make_trade_in(State.SUBMITTED)
    flagged = make_trade_in(State.SUBMITTED, flagged=True)
    login(desktop, "staff")
    desktop.goto("/dashboard/trade-ins/")
    for trade_in in (first, second, flagged):
        desktop.check(f"input.action-select[value='{trade_in.pk}']")
    desktop.select_option("select[name=action]", "quote_at_suggested")
    screenshot(desktop, "1440-bulk-quote-selected")
    desktop.click("#changelist-actions-wrapper button[type=submit]")
    desktop.wait_for_selector("text=2 quotes sent at the suggested offer.")
    assert f"{flagged.reference}: The IMEI check raised a red flag" in desktop.inner_text("body")
    screenshot(desktop, "1440-bulk-quote-done")
    assert refresh(first).state == refresh(second).state == State.QUOTED
    assert refresh(flagged).state == State.SUBMITTED


def test_the_save_trap_never_swallows_an_unsent_offer(desktop, make_trade_in, staff):
    trade_in = make_trade_in(State.SUBMITTED)
    login(desktop, "staff")
    desktop.goto(f"/dashboard/trade-ins/{trade_in.pk}/change/")
    desktop.fill("input[name=amount]", "410")
    desktop.click("button:has-text('Save buyer details')")
    banner = desktop.locator("#unsent-offer")
    banner.wait_for(state="visible")
    assert "410" in banner.inner_text() and "has not been sent" in banner.inner_text()
    assert desktop.locator("input[name=amount]").evaluate("el => el === document.activeElement")
    screenshot(desktop, "1440-save-trap")
    assert not Quote.objects.filter(trade_in=trade_in).exists()
    assert desktop.locator("input[name=amount]").input_value() == "410"
    # Sending it works as before; discarding it lets the details save.
    desktop.click("button:has-text('Send Quote')")
    desktop.wait_for_selector("text=Quote sent to the buyer.")
    assert refresh(trade_in).latest_quote().amount == Decimal("410.00")
    desktop.fill("input[name=buyer_phone]", "555-0199")
    desktop.click("button:has-text('Save buyer details')")
    desktop.wait_for_selector("text=Buyer details saved.")
    assert refresh(trade_in).buyer_phone == "555-0199"


def test_an_offer_far_above_the_suggested_one_needs_a_manager(
    chromium, site, make_trade_in, staff, manager
):
    trade_in = make_trade_in(State.SUBMITTED)  # suggested 435
    for who, amount in (("staff", "4350"), ("manager", "1000")):
        context = chromium.new_context(viewport={"width": 1440, "height": 900}, base_url=site)
        page = context.new_page()
        login(page, who)
        page.goto(f"/dashboard/trade-ins/{trade_in.pk}/change/")
        page.fill("input[name=amount]", amount)
        page.click("button:has-text('Send Quote')")
        if who == "staff":
            page.wait_for_selector("text=Only a manager can send this offer")
            assert page.locator("input[name=amount]").input_value() == amount
            screenshot(page, "1440-over-limit-staff")
            assert refresh(trade_in).state == State.SUBMITTED
        else:
            page.wait_for_selector("text=Please confirm this offer")
            screenshot(page, "1440-over-limit-manager-confirm")
            page.check("input[name=confirmed]")
            page.click("button:has-text('Send Quote')")
            page.wait_for_selector("text=Quote sent to the buyer.")
        context.close()
    assert refresh(trade_in).latest_quote().amount == Decimal("1000.00")


def test_the_counter_prints_the_label_and_receipt_adds_a_note_and_resends_an_email(
    desktop, make_trade_in, staff, drain
):
    trade_in = make_trade_in(State.ACCEPTED)
    login(desktop, "staff")
    desktop.goto(f"/dashboard/trade-ins/{trade_in.pk}/change/")
    with desktop.expect_popup() as popup:
        desktop.click("text=Open and print the label")
    pdf = popup.value
    pdf.wait_for_load_state()
    response = desktop.request.get(f"/dashboard/trade-ins/{trade_in.pk}/label.pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:4] == b"%PDF"
    pdf.close()
    # The purchase receipt opens beside it, to print for the seller.
    with desktop.expect_popup() as popup:
        desktop.locator("a:has-text('Print purchase receipt')").first.click()
    receipt = popup.value
    receipt.wait_for_load_state()
    response = desktop.request.get(reverse("admin:purchase_receipt", args=[trade_in.pk]))
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:4] == b"%PDF"
    receipt.close()

    desktop.fill("textarea[name=note]", "Buyer will bring the charger too")
    desktop.click("button:has-text('Add note to the timeline')")
    desktop.wait_for_selector("text=Note added to the timeline.")
    assert "Buyer will bring the charger too" in desktop.inner_text("body")

    sent = len(mail.outbox)
    desktop.locator("#counter tr", has_text="Quote").locator("button:has-text('Re-send')").click()
    desktop.wait_for_selector("text=The email is on its way again.")
    drain()
    assert len(mail.outbox) == sent + 1 and mail.outbox[-1].subject.startswith("Your trade-in")
    desktop.locator("#counter").scroll_into_view_if_needed()
    screenshot(desktop, "1440-counter")


def test_the_dashboard_chart_renders_the_data(desktop, make_trade_in, staff):
    for state in (State.SUBMITTED, State.QUOTED, State.ACCEPTED, State.RECEIVED):
        make_trade_in(state)
    login(desktop, "staff")
    desktop.wait_for_function(
        "() => window.Chart && document.querySelectorAll('canvas.chart').length === 2"
        " && [...document.querySelectorAll('canvas.chart')].every(c => Chart.getChart(c))"
    )
    chart = desktop.evaluate(
        """() => {
          const c = Chart.getChart(document.querySelector('#activity-chart canvas'));
          return {labels: c.data.labels.length,
                  series: c.data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b, 0)]),
                  legend: c.options.plugins.legend.display,
                  yTicks: c.scales.y.ticks.length, height: c.height};
        }"""
    )
    assert chart["labels"] == 30 and chart["legend"] is True and chart["yTicks"] > 1
    assert chart["series"] == [
        ["Submissions", 4],
        ["Quotes", 3],
        ["Acceptances", 2],
        ["Received", 1],
    ]
    assert chart["height"] >= 300
    desktop.hover("#activity-chart canvas", position={"x": 900, "y": 200})
    screenshot(desktop, "1440-dashboard-chart")


def test_the_buyer_types_a_zip_and_is_asked_about_a_local_one(phone, product):
    phone.goto(
        f"/trade-in/?make={product.device_model.make.slug}&model={product.device_model.slug}"
    )
    phone.fill("#id_postcode", "10001")
    expect(phone.locator("#id_city")).to_have_value("New York")  # no eval: the page has a CSP
    assert phone.locator("#id_region").input_value() == "NY"
    assert phone.is_hidden("#f-ship_anyway")
    # A typed city is never overwritten by a later ZIP.
    phone.fill("#id_city", "Manhattan")
    phone.fill("#id_postcode", "62701")
    expect(phone.locator("#id_region")).to_have_value("IL")
    assert phone.locator("#id_city").input_value() == "Manhattan"
    assert phone.is_visible("#f-ship_anyway")  # near the shop: ask, don't decide
    assert phone.is_checked("#f-fulfilment input[value=ship]")
    assert_page_is_good(phone)
    screenshot(phone, "390-near-shop-question")
    phone.click("#drop-off-instead")
    assert phone.is_checked("#f-fulfilment input[value=pickup]")
    assert phone.is_hidden("#address")
    assert TradeIn.objects.count() == 0 and valid_imei()


def test_a_device_found_as_disclosed_is_received_with_a_scan_and_two_clicks(
    desktop, make_trade_in, staff
):
    trade_in = make_trade_in(State.ACCEPTED)
    login(desktop, "staff")
    desktop.goto("/dashboard/intake/")
    desktop.locator("input[name=imei]").type(trade_in.imei)  # the scanner types, then Enter
    desktop.press("input[name=imei]", "Enter")
    desktop.wait_for_selector("#intake-match")
    # A crack ticked by hand contradicts "as disclosed": refused, the answers still there.
    desktop.check("input[name=check_screen][value=cracked]")
    desktop.check("input[name=grade][value=B]")
    desktop.click("button:has-text('Receive as disclosed')")
    desktop.wait_for_selector("text=You found Screen different from what the buyer disclosed")
    assert desktop.is_checked("input[name=check_screen][value=cracked]")
    assert refresh(trade_in).state == State.ACCEPTED
    desktop.check("input[name=check_screen][value=scratched]")  # looked again: as disclosed
    assert serious_axe_violations(desktop) == []
    screenshot(desktop, "1440-intake-as-disclosed")
    desktop.click("button:has-text('Receive as disclosed')")
    desktop.wait_for_selector(f"text={trade_in.reference} received, grade B")
    trade_in = refresh(trade_in)
    assert trade_in.state == State.RECEIVED and trade_in.unit.grade == "B"


def test_the_buyer_picks_model_and_storage_in_one_tap(phone, product):
    bigger = ProductFactory(device_model=product.device_model, storage_gb=256)
    phone.goto(f"/trade-in/?make={product.device_model.make.slug}")
    phone.click(f"#models a.size[aria-label='{product.device_model.name}, 256 GB']")
    phone.wait_for_selector("#tradein")
    assert phone.is_checked(f"#f-product input[value='{bigger.pk}']")
    assert_page_is_good(phone)
