"""Inspection that decides, in Chromium: staff (1440×900) receive a device that differs from
the disclosure and send a revised offer with a photo; the buyer (390×844, from the emailed
link) accepts it, or asks for the device back and a return label is made. Every new page is
also opened at both sizes and screenshotted for a person to look at."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from django.core import mail
from PIL import Image

from tests.browser.checks import assert_page_is_good
from tests.browser.conftest import login
from tests.conftest import assert_books_balance, refresh
from workflows import actions
from workflows.models import Direction, PayoutStatus, State, UnitStatus
from workflows.rules.inspection import checklist_as_disclosed

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("INSPECT_SHOTS", "/work/wt/_notes/shots/inspect")


def shot(page, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def offer_link(site: str) -> str:
    body = mail.outbox[-1].body
    urls = [w for w in body.split() if "/revised-offer/" in w and "/photos/" not in w]
    assert urls, body
    return urls[0].replace(site, "")


@pytest.fixture
def photo_file(tmp_path):
    path = tmp_path / "cracked-corner.jpg"
    image = Image.new("RGB", (640, 480), (235, 235, 240))
    for x in range(200, 440):  # a dark diagonal "crack"
        for dy in range(-2, 3):
            image.putpixel((x, 100 + (x - 200) // 2 + dy), (40, 40, 40))
    image.save(path, "JPEG")
    return str(path)


def test_staff_send_a_revised_offer_with_a_photo_and_the_buyer_accepts_on_a_phone(
    desktop, phone, site, make_trade_in, drain, photo_file, product
):
    trade_in = make_trade_in(State.ACCEPTED)
    login(desktop, "staff")
    desktop.goto("/dashboard/intake/")
    desktop.fill("input[name=imei]", trade_in.imei)
    desktop.press("input[name=imei]", "Enter")
    desktop.wait_for_selector("#intake-match")
    found = {**checklist_as_disclosed(trade_in), "screen": "cracked", "battery": "service"}
    for key, value in found.items():
        desktop.check(f"input[name=check_{key}][value={value}]")
    desktop.check("input[name=outcome][value=revise]")
    desktop.check("input[name=grade][value=C]")
    desktop.fill("input[name=amount]", "180.00")
    desktop.fill("textarea[name=notes]", "Crack across the top left corner; battery at 71%")
    desktop.set_input_files("input[name=photos]", photo_file)
    shot(desktop, "1440-intake-bench-revised-offer")
    desktop.click("button:has-text('Receive device')")
    desktop.wait_for_selector("text=revised offer of 180.00 emailed")
    trade_in = refresh(trade_in)
    assert trade_in.state == State.REOFFERED and trade_in.photos.count() == 1

    desktop.goto(f"/dashboard/trade-ins/{trade_in.pk}/change/")
    desktop.wait_for_selector("#as-found")
    assert desktop.locator("#as-found .bo-differs").count() == 2
    shot(desktop, "1440-trade-in-reoffered")

    drain()
    link = offer_link(site)
    desktop.goto(link)  # the buyer's page at desktop size too, for the screenshot
    shot(desktop, "1440-buyer-revised-offer")

    phone.goto(link)
    assert phone.locator("h1").inner_text() == "We checked your device"
    assert phone.locator(".found tbody tr").count() == 2
    assert phone.locator(".photos img").evaluate("img => img.naturalWidth") == 640
    assert_page_is_good(phone)
    shot(phone, "390-buyer-revised-offer")
    phone.check("#id_declare")
    phone.click("button:has-text('Accept $180.00')")
    phone.wait_for_url("**/trade-in/status/**")
    assert "You accepted our revised offer" in phone.content()
    assert_page_is_good(phone)
    shot(phone, "390-buyer-status-after-accepting")

    trade_in = refresh(trade_in)
    assert trade_in.state == State.RECEIVED
    assert trade_in.payout.amount == Decimal("180.00")
    assert trade_in.payout.status == PayoutStatus.PENDING
    assert (trade_in.unit.status, trade_in.unit.grade) == (UnitStatus.GRADED, "C")
    product.refresh_from_db()
    assert product.stock == 1
    assert_books_balance()


def test_the_buyer_asks_for_the_device_back_and_the_return_label_is_made(
    desktop, phone, site, make_trade_in, drain, product
):
    trade_in = make_trade_in(State.REOFFERED)
    link = offer_link(site)
    phone.goto(link)
    phone.click("button:has-text('Send my device back')")
    phone.wait_for_url("**/trade-in/status/**")
    assert "coming back to you" in phone.content()
    drain()  # the return label, then its email
    label = refresh(trade_in).labels.get(direction=Direction.TO_BUYER)
    phone.reload()
    assert label.tracking_number in phone.content()
    assert_page_is_good(phone)
    shot(phone, "390-buyer-status-returned")
    assert "on its way back" in mail.outbox[-1].subject

    trade_in = refresh(trade_in)
    product.refresh_from_db()
    assert trade_in.state == State.RETURNED and product.stock == 0
    assert trade_in.unit.status == UnitStatus.RETURNED
    assert trade_in.payout.status == PayoutStatus.DECLINED
    login(desktop, "staff")
    desktop.goto(f"/dashboard/trade-ins/{trade_in.pk}/change/")
    assert label.tracking_number in desktop.content()
    shot(desktop, "1440-trade-in-returned")
    assert_books_balance()


def staff_pages(make_trade_in, staff, manager) -> dict[str, str]:
    """One of each new staff page, in a state that shows what it is for."""
    rerouted = make_trade_in(State.REROUTED)
    graded = make_trade_in(State.RECEIVED)
    accepted = make_trade_in(State.ACCEPTED)
    make_trade_in(State.DECLINED)
    credit_trade_in = make_trade_in(State.RECEIVED, payout_method="store_credit")
    credit = actions.payout_issue_store_credit(payout=credit_trade_in.payout, actor=manager)
    actions.store_credit_redeem(
        code=credit.code_for_buyer(), actor=staff, amount="45.50", note="till 2"
    )
    return {
        "intake-bench": f"/dashboard/intake/?imei={accepted.imei}",
        "return-case": f"/dashboard/returns/{rerouted.return_case.pk}/change/",
        "unit": f"/dashboard/units/{graded.unit.pk}/change/",
        "archive": "/dashboard/trade-ins/?view=archive",
        "store-credit-counter": f"/dashboard/store-credit/counter/?code={credit.code_for_buyer()}",
        "store-credit": f"/dashboard/workflows/storecredit/{credit.pk}/change/",
    }


def test_every_new_staff_page_at_both_sizes(chromium, site, make_trade_in, staff, manager):
    pages = staff_pages(make_trade_in, staff, manager)
    for width, height in ((1440, 900), (390, 844)):
        context = chromium.new_context(viewport={"width": width, "height": height}, base_url=site)
        page = context.new_page()
        login(page, "manager")
        for name, url in pages.items():
            response = page.goto(url)
            assert response.status == 200, (name, response.status)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (name, width, overflow)  # no sideways scroll, phone too
            shot(page, f"{width}-staff-{name}")
        context.close()
