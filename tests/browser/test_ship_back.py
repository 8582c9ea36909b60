"""Nothing left on a shelf, in Chromium: the buyer (390×844) declines a revised offer; staff
(1440×900) find the device under "To ship back" with its return label, mark it packed and
shipped with tracking, and it leaves the list when the carrier reports it delivered."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.browser.checks import serious_axe_violations
from tests.browser.conftest import login, screenshot
from tests.conftest import refresh
from workflows import actions
from workflows.actions.answers import shipping_label_tracking_record
from workflows.models import EventKind, ShipBack, ShipBackStatus, State

pytestmark = pytest.mark.django_db(transaction=True)


def offer_link(site: str) -> str:
    body = mail.outbox[-1].body
    urls = [w for w in body.split() if "/revised-offer/" in w and "/photos/" not in w]
    assert urls, body
    return urls[0].replace(site, "")


def test_a_declined_device_is_packed_shipped_and_leaves_the_list_when_delivered(
    desktop, phone, site, make_trade_in, drain
):
    trade_in = make_trade_in(State.REOFFERED)
    phone.goto(offer_link(site))
    phone.click("button:has-text('Send my device back')")
    phone.wait_for_url("**/trade-in/status/**")
    drain()  # the return label is bought
    ship_back = ShipBack.objects.get(trade_in=trade_in)
    label = ship_back.label
    assert label is not None

    login(desktop, "staff")
    card = desktop.locator("a.bo-stat", has_text="To ship back")
    assert card.locator("strong").inner_text().strip() == "1"
    desktop.locator("nav a, aside a", has_text="To ship back").first.click()
    desktop.wait_for_url("**/shipback/**")
    row = desktop.locator("#result_list tbody tr", has_text=trade_in.imei)
    assert row.count() == 1
    assert trade_in.buyer_name in row.inner_text()
    pdf_href = row.locator("a", has_text="Label PDF").get_attribute("href")
    pdf = desktop.request.get(pdf_href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert serious_axe_violations(desktop) == []
    screenshot(desktop, "ship-back-list")

    row.locator("a", has_text=trade_in.reference).first.click()
    desktop.wait_for_selector("#ship-back")
    screenshot(desktop, "ship-back-entry")
    desktop.click("button[name=pack]")
    desktop.wait_for_selector("button[name=ship]")
    assert refresh(ship_back).status == ShipBackStatus.PACKED
    assert desktop.input_value("input[name=tracking_number]") == label.tracking_number
    desktop.fill("input[name=carrier]", "USPS")
    desktop.click("button[name=ship]")
    desktop.wait_for_selector("text=stays on the list until the carrier confirms delivery")
    assert refresh(ship_back).status == ShipBackStatus.SHIPPED

    # The trade-in's page says where the device is, not "Nothing for you to do".
    desktop.goto(f"/dashboard/trade-ins/{trade_in.pk}/change/")
    assert "Nothing for you to do" not in desktop.content()
    assert desktop.locator("#ship-back-due a").count() == 1
    assert desktop.locator("#return-shipment").count() == 1
    screenshot(desktop, "ship-back-trade-in")
    assert serious_axe_violations(desktop) == []

    # Still on the list while in transit; gone once the carrier reports delivery.
    desktop.goto("/dashboard/workflows/shipback/")
    assert trade_in.imei in desktop.content()
    shipping_label_tracking_record(
        label=label, status_code="DE", description="Delivered, In/At Mailbox"
    )
    desktop.reload()
    assert trade_in.imei not in desktop.locator("#changelist").inner_text()
    desktop.goto("/dashboard/")
    assert (
        desktop.locator("a.bo-stat", has_text="To ship back").locator("strong").inner_text().strip()
        == "0"
    )
    kinds = set(trade_in.events.values_list("kind", flat=True))
    assert {
        EventKind.SHIP_BACK_PACKED,
        EventKind.SHIP_BACK_SHIPPED,
        EventKind.SHIP_BACK_DELIVERED,
    } <= kinds


def test_the_ship_back_pages_fit_a_phone(chromium, site, make_trade_in, drain):
    trade_in = make_trade_in(State.REOFFERED)
    actions.revised_offer_decline(offer=trade_in.revised_offers.get())
    drain()
    ship_back = ShipBack.objects.get(trade_in=trade_in)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, base_url=site)
    page = context.new_page()
    login(page, "staff")
    for url in (
        "/dashboard/workflows/shipback/",
        f"/dashboard/workflows/shipback/{ship_back.pk}/change/",
    ):
        assert page.goto(url).status == 200
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (url, overflow)
        assert serious_axe_violations(page) == [], url
    context.close()
