"""The counter's customer page on a second device, in Chromium (issue 21): staff at 1440×900
bring a buyback to the customer's step and read the short code off their screen; the customer's
own phone (390×844, touch) opens /counter/, types the code, reads the device, the offer and the
shop's declaration, signs with a finger and accepts, or declines. Staff's screen follows by
itself. Wrong codes are refused and, past the limit from one address, the page stops looking."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from buyer_portal.views.counter import WRONG_CODES
from tests.browser.checks import assert_page_is_good
from tests.browser.conftest import login, screenshot
from tests.browser.counter_steps import open_drawer, start, to_offer_for_customer
from tests.browser.test_csp import violations, watch
from tests.conftest import refresh
from tests.factories import valid_imei
from workflows.models import (
    CashDrawer,
    CounterBuyback,
    CounterSignature,
    Declaration,
    Payout,
    PayoutStatus,
    State,
    Unit,
    UnitStatus,
)
from workflows.rules.compliance import declaration_text

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_for_the_customer(desktop, product) -> tuple[CounterBuyback, str]:
    """Staff start a buyback, pass the inspection, offer the suggested price and go to the
    buyback's own page, where the second device's code is shown. Returns it and the code."""
    start(desktop, product, valid_imei())
    to_offer_for_customer(desktop)
    desktop.wait_for_selector("#customer-page")  # the screen turned round, by default
    buyback = CounterBuyback.objects.get()
    desktop.goto(f"/dashboard/counter/{buyback.pk}/")
    code = desktop.inner_text("#customer-code").strip()
    assert code == buyback.code and "/counter/" in desktop.inner_text("#second-screen")
    return buyback, code


def open_with_code(phone, code: str) -> None:
    phone.goto("/counter/")
    phone.fill("#code", code)
    phone.get_by_role("button", name="Open the offer").click()
    phone.wait_for_load_state()


def sign_by_touch(page) -> None:
    """A finger drawing on the pad: touch events through Chromium's input pipeline, which
    turns them into the pointer events the pad listens to."""
    page.locator("#signature-pad").scroll_into_view_if_needed()
    box = page.locator("#signature-pad").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    path = [(0.08, 0.7), (0.2, 0.3), (0.35, 0.75), (0.5, 0.25), (0.65, 0.7), (0.85, 0.35)]
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, fx: float = 0, fy: float = 0) -> None:
        points = [] if kind == "touchEnd" else [{"x": x + fx * w, "y": y + fy * h}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", *path[0])
    for (ax, ay), (bx, by) in zip(path, path[1:], strict=False):
        for step in range(1, 5):
            touch("touchMove", ax + (bx - ax) * step / 4, ay + (by - ay) * step / 4)
    touch("touchEnd")
    cdp.detach()


def test_the_customer_signs_on_their_own_phone_and_staff_pay_cash(desktop, phone, staff, product):
    csp = watch(phone)
    login(desktop, "staff")
    open_drawer(desktop)
    buyback, code = waiting_for_the_customer(desktop, product)
    screenshot(desktop, "counter-second-screen-staff-code")

    phone.goto("/counter/")
    assert_page_is_good(phone)
    screenshot(phone, "counter-second-screen-code")
    # Typed in lower case with a space, as somebody copying it off a screen might.
    open_with_code(phone, f" {code[:3].lower()} {code[3:].lower()}")
    phone.wait_for_selector("#customer-page")
    assert phone.url.endswith(f"/counter/{code}/")
    trade_in = buyback.trade_in
    page = phone.inner_text("#customer-page")
    assert str(trade_in.product) in page and trade_in.imei in page
    assert phone.inner_text("#offer") == "$500.00"
    assert phone.inner_text("#declaration") == declaration_text()
    assert_page_is_good(phone)
    screenshot(phone, "counter-second-screen-offer")

    # Accepting without ticking the declaration does not go (the browser's own check).
    phone.tap("#declaration")  # the wording is the label: a tap on it ticks the box
    assert phone.is_checked("#confirm")
    phone.tap("#declaration")
    assert not phone.is_checked("#confirm")
    sign_by_touch(phone)
    assert phone.input_value("#signature-data").startswith("data:image/png;base64,")
    phone.tap("#accept")
    assert phone.url.endswith(f"/counter/{code}/") and phone.locator("#thanks").count() == 0
    phone.tap("#declaration")
    assert phone.is_checked("#confirm")
    screenshot(phone, "counter-second-screen-signed")
    phone.tap("#accept")
    phone.wait_for_selector("#thanks")
    assert "accepted and signed" in phone.inner_text("#thanks")
    assert_page_is_good(phone)
    screenshot(phone, "counter-second-screen-thanks")
    assert violations(phone, csp) == []

    # Staff's screen moves on by itself (it asks where the buyback stands): no Refresh.
    desktop.wait_for_selector("#pay-form", timeout=15000)
    assert desktop.inner_text("#owed") == "$500.00"
    desktop.click("#pay")
    desktop.wait_for_selector("#done")
    with desktop.expect_popup() as popup:
        desktop.click("#print-receipt")
    receipt = popup.value
    receipt.wait_for_load_state()
    screenshot(desktop, "counter-second-screen-staff-done")

    trade_in = refresh(trade_in)
    assert trade_in.state == State.CLOSED
    assert trade_in.payout.status == PayoutStatus.SETTLED and trade_in.payout.method == "cash"
    assert trade_in.unit.status == UnitStatus.GRADED
    assert refresh(product).stock == 1
    assert CashDrawer.objects.get().movements.get().amount == Decimal("500.00")
    declaration = Declaration.objects.get(trade_in=trade_in)
    assert declaration.wording == declaration_text()
    assert declaration.ip == "127.0.0.1"
    assert declaration.user_agent == phone.evaluate("navigator.userAgent")
    signature = CounterSignature.objects.get(declaration=declaration)
    png = bytes(signature.png)
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (signature.width, signature.height) == (600, 180)
    # Ink where the finger went: the pad's pixels, not a blank canvas.
    assert image.convert("RGBA").getchannel("A").getbbox() is not None
    # Answered: the code opens nothing any more.
    open_with_code(phone, code)
    assert "No offer is waiting" in phone.inner_text("[role=alert]")


def test_a_wrong_code_is_refused_and_too_many_stop_the_page(desktop, phone, staff, product):
    login(desktop, "staff")
    buyback, code = waiting_for_the_customer(desktop, product)
    wrong = "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"
    open_with_code(phone, wrong)
    assert phone.url.endswith(f"/counter/?code={wrong}")
    assert "No offer is waiting with that code" in phone.inner_text("[role=alert]")
    assert phone.locator("#customer-page").count() == 0
    assert_page_is_good(phone)
    screenshot(phone, "counter-second-screen-wrong-code")
    # Nothing changed: staff's screen still waits for the customer with the same code.
    desktop.reload()
    assert desktop.inner_text("#customer-code").strip() == code
    assert refresh(buyback.trade_in).state == buyback.trade_in.state

    limit = int(WRONG_CODES.split("/")[0])
    for _ in range(limit - 1):  # one wrong code is in already
        phone.goto(f"/counter/?code={wrong}")
        assert "No offer is waiting" in phone.inner_text("[role=alert]")
    # From this address, even the right code is refused now, politely.
    open_with_code(phone, code)
    assert phone.locator("#customer-page").count() == 0
    assert "Too many wrong codes from here: wait a few minutes." in phone.inner_text("[role=alert]")
    assert_page_is_good(phone)
    screenshot(phone, "counter-second-screen-paused")
    # The offer's own address says the same, not that the offer is gone.
    phone.goto(f"/counter/{code}/")
    assert phone.locator("#customer-page").count() == 0
    assert "Too many wrong codes" in phone.inner_text("[role=alert]")
    desktop.reload()
    assert desktop.inner_text("#customer-code").strip() == code
    # The counter's own screen, turned round, still works: the pause is the second device's.
    desktop.goto(f"/dashboard/counter/{buyback.pk}/customer/")
    desktop.wait_for_selector("#customer-page")


def test_the_customer_declines_on_their_phone(desktop, phone, staff, product):
    login(desktop, "staff")
    buyback, code = waiting_for_the_customer(desktop, product)
    open_with_code(phone, code)
    phone.wait_for_selector("#customer-page")
    phone.tap("#decline")
    phone.wait_for_selector("#thanks")
    assert "You declined the offer." in phone.inner_text("#thanks")
    assert_page_is_good(phone)
    screenshot(phone, "counter-second-screen-declined")

    desktop.reload()
    desktop.wait_for_selector("#ended")
    assert "Nothing was bought." in desktop.inner_text("#ended")
    assert desktop.locator("#customer-code").count() == 0
    trade_in = refresh(buyback.trade_in)
    assert trade_in.state == State.DECLINED
    assert refresh(product).stock == 0
    assert not Unit.objects.exists() and not Payout.objects.exists()
    assert not Declaration.objects.exists() and not CounterSignature.objects.exists()
    # Declined: the code opens nothing any more.
    phone.goto(f"/counter/{code}/")
    assert phone.locator("#customer-page").count() == 0
