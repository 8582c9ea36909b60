"""The buyer's phone flow in Chromium at 390×844 (touch, mobile user agent): storefront footer →
confirmation → status, the quote link's accept and decline, and the broken-link pages. Every
page passes axe-core, has 44×44 tap targets and no sideways scroll."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from tests.browser.checks import assert_page_is_good, record_hosts
from tests.browser.conftest import PHONE_UA, screenshot
from tests.factories import ProductFactory, valid_imei
from workflows.links import quote_token, status_token
from workflows.models import Quote, State, TradeIn
from workflows.rules.pricing import suggested_offer

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = {
    "screen": "Light scratches",
    "body": "Like new",
    "battery": "Good",
    "accessories": "Box only",
}


def answer_condition(page) -> None:
    for question, label in ANSWERS.items():
        page.click(f"#f-{question} label.choice:has-text('{label}')")


def test_it_trades_in_from_the_storefront_footer_to_the_status_page(phone, product, site):
    bigger = ProductFactory(
        device_model=product.device_model, storage_gb=256, base_price=Decimal("560.00")
    )
    hosts = record_hosts(phone)
    phone.goto("/")
    assert_page_is_good(phone)
    screenshot(phone, "390-storefront")
    phone.evaluate("window.sameDocument = true")

    phone.click("footer >> text=Trade in your device")
    phone.wait_for_url("**/trade-in/")
    assert phone.locator("h1").inner_text() == "Which phone do you want to sell?"
    assert_page_is_good(phone)
    screenshot(phone, "390-make")

    phone.click(f".tiles a:has-text('{product.device_model.make.name}')")
    phone.wait_for_selector("#q")
    phone.fill("#q", product.device_model.name.split()[-1])  # the quick filter
    assert phone.locator("#models li:visible").count() == 1
    assert_page_is_good(phone)
    screenshot(phone, "390-model")
    phone.click("#models li:visible a.tile")
    phone.wait_for_selector("#tradein")
    phone.go_back()  # the browser's Back steps through the swapped-in pages too
    phone.wait_for_selector("#q")
    phone.go_forward()
    phone.wait_for_selector("#tradein")
    # Each step came without a full reload: the page's own window lived on.
    assert phone.evaluate("window.sameDocument") is True

    # Submitting nothing: every missing answer is marked inline and announced; nothing saved.
    phone.click("#submit")
    assert "Please check the highlighted answers" in phone.inner_text("#form-errors")
    assert phone.get_attribute("#form-errors", "aria-live") == "polite"
    assert phone.locator(".has-error").count() == 13  # 9 answers + ZIP, street, city, state
    assert phone.get_attribute("#id_imei", "aria-invalid") == "true"
    assert TradeIn.objects.count() == 0
    assert_page_is_good(phone)
    screenshot(phone, "390-form-errors")

    phone.click("#f-product label.choice:has-text('256 GB')")
    assert phone.is_hidden("#estimate")
    answer_condition(phone)
    expected = suggested_offer(
        bigger, {"screen": "scratched", "body": "like_new", "battery": "good", "accessories": "box"}
    )
    assert phone.inner_text("#estimate") == f"About ${expected:,.2f}, final offer after review"

    imei = valid_imei()
    phone.fill("#id_imei", imei[:-1] + str((int(imei[-1]) + 1) % 10))
    assert "last digit does not match" in phone.inner_text("#f-imei")
    phone.fill("#id_imei", imei)
    assert phone.inner_text("#scan-note") == "Looks right."
    assert phone.locator("#f-imei .error:visible").count() == 0
    phone.fill("#id_buyer_name", "Ada Lovelace")
    phone.fill("#id_buyer_email", "ada@example")
    phone.locator("#id_buyer_email").blur()
    assert "valid email" in phone.inner_text("#f-buyer_email")
    phone.fill("#id_buyer_email", "ada@example.com")
    assert phone.is_visible("#address")
    phone.click("#f-fulfilment label.choice:has-text('Drop off')")
    assert phone.is_hidden("#address")  # no address when dropping off
    phone.click("#f-payout_method label.choice:has-text('Check')")
    assert_page_is_good(phone)
    screenshot(phone, "390-form-filled")

    phone.click("#submit")
    phone.wait_for_url("**/trade-in/thanks/**")
    trade_in = TradeIn.objects.get()
    assert (trade_in.product, trade_in.imei, trade_in.fulfilment) == (bigger, imei, "pickup")
    assert trade_in.suggested_offer == expected
    assert trade_in.reference in phone.inner_text("main")
    assert_page_is_good(phone)
    screenshot(phone, "390-confirmation")

    phone.click("text=Follow your trade-in")
    phone.wait_for_url("**/trade-in/status/**")
    assert "We're checking your device" in phone.inner_text("main")
    assert phone.get_attribute(".journey li[aria-current]", "class") == "current"
    assert_page_is_good(phone)
    screenshot(phone, "390-status-submitted")
    assert hosts == {urlsplit(site).netloc}  # no third-party request anywhere in the flow


def test_it_works_as_a_plain_html_form_without_javascript(chromium, site, product):
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_UA,
        base_url=site,
        java_script_enabled=False,
    )
    page = context.new_page()
    page.goto("/")
    page.click("footer >> text=Trade in your device")
    page.click(f".tiles a:has-text('{product.device_model.make.name}')")
    page.click(f"#models a.tile:has-text('{product.device_model.name}')")
    page.check("#f-product input")
    for question, label in ANSWERS.items():
        page.click(f"#f-{question} label.choice:has-text('{label}')")
    page.fill("#id_imei", "12345")
    page.fill("#id_buyer_name", "Ada Lovelace")
    page.fill("#id_buyer_email", "ada@example.com")
    page.click("#f-fulfilment label.choice:has-text('Drop off')")
    page.click("#f-payout_method label.choice:has-text('Store credit')")
    page.click("#submit")
    # The server's answer: the same page, the answers kept, the problem beside the field, and
    # the estimate for the answers it has.
    assert "exactly 15 digits" in page.inner_text("#f-imei")
    assert page.inner_text("#estimate") == "About $435.00, final offer after review"
    assert page.get_attribute("#id_imei", "aria-invalid") == "true"
    assert page.is_checked("#f-payout_method input[value=store_credit]")
    assert TradeIn.objects.count() == 0
    page.fill("#id_imei", valid_imei())
    page.click("#submit")
    page.wait_for_url("**/trade-in/thanks/**")
    assert TradeIn.objects.get().payout_method == "store_credit"
    context.close()


def test_a_double_tap_on_submit_makes_one_trade_in(phone, product):
    phone.goto(
        f"/trade-in/?make={product.device_model.make.slug}&model={product.device_model.slug}"
    )
    phone.check("#f-product input")
    answer_condition(phone)
    phone.fill("#id_imei", valid_imei())
    phone.fill("#id_buyer_name", "Ada Lovelace")
    phone.fill("#id_buyer_email", "ada@example.com")
    phone.click("#f-fulfilment label.choice:has-text('Drop off')")
    phone.click("#f-payout_method label.choice:has-text('Check')")
    phone.dblclick("#submit")
    phone.wait_for_url("**/trade-in/thanks/**")
    assert TradeIn.objects.count() == 1


def test_it_accepts_and_declines_from_the_quote_link(phone, make_trade_in, drain):
    trade_in = make_trade_in(State.QUOTED)
    link = f"/trade-in/offer/{quote_token(trade_in.latest_quote())}/"
    phone.goto(link)
    main = phone.inner_text("main")
    assert "$300" in main and "Check" in main and "Prepaid shipping label for 1 Main St" in main
    assert_page_is_good(phone)
    screenshot(phone, "390-quote")
    phone.click("text=Accept $300.00")  # without the declaration: refused, with the reason
    assert "Please tick to confirm" in phone.inner_text("main")
    assert TradeIn.objects.get(pk=trade_in.pk).state == State.QUOTED
    phone.check("#id_declare")
    phone.click("text=Accept $300.00")
    phone.wait_for_url("**/trade-in/status/**")
    assert "Offer accepted. Now send us the device." in phone.inner_text("main")
    assert_page_is_good(phone)
    screenshot(phone, "390-status-accepted-label-coming")
    drain()  # the label is made after commit
    phone.reload()
    assert phone.is_visible("text=Download shipping label")
    assert_page_is_good(phone)
    screenshot(phone, "390-status-accepted-label")

    phone.goto(link)  # the same link again
    assert phone.locator("h1").inner_text() == "Already answered"
    assert_page_is_good(phone)
    screenshot(phone, "390-link-used")
    phone.click("text=See where your trade-in stands")
    assert "Offer accepted" in phone.inner_text("main")

    other = make_trade_in(State.QUOTED, fulfilment="pickup", address_line1="", city="", postcode="")
    phone.goto(f"/trade-in/offer/{quote_token(other.latest_quote())}/")
    assert "Dropping it off at our shop" in phone.inner_text("main")
    phone.click("text=Decline the offer")
    phone.click("text=Decline offer")  # without a reason
    assert "Please choose a reason." in phone.inner_text(".decline")
    assert TradeIn.objects.get(pk=other.pk).state == State.QUOTED
    assert_page_is_good(phone)
    screenshot(phone, "390-quote-decline-error")
    phone.click("label.choice:has-text('I sold it somewhere else')")
    phone.fill("#detail", "Got a better price")
    phone.click("text=Decline offer")
    phone.wait_for_url("**/trade-in/status/**")
    assert "This trade-in was declined" in phone.inner_text("main")
    assert TradeIn.objects.get(pk=other.pk).decline_reason == (
        "I sold it somewhere else: Got a better price"
    )
    assert_page_is_good(phone)
    screenshot(phone, "390-status-declined")


def test_broken_links_say_what_happened(phone, make_trade_in):
    expired = make_trade_in(State.QUOTED)
    quote = expired.latest_quote()
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    for url, heading, name in [
        (f"/trade-in/offer/{quote_token(quote)}/", "This offer has expired", "expired"),
        (f"/trade-in/offer/{quote_token(quote)}x/", "This link is not valid", "tampered"),
        (
            f"/trade-in/status/{status_token(expired)[:-3]}abc/",
            "This link is not valid",
            "tampered-status",
        ),
    ]:
        phone.goto(url)
        assert phone.locator("h1").inner_text() == heading
        assert_page_is_good(phone)
        screenshot(phone, f"390-link-{name}")


def test_every_buyer_page_works_on_a_320px_screen(chromium, site, make_trade_in):
    context = chromium.new_context(
        viewport={"width": 320, "height": 640},
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_UA,
        base_url=site,
    )
    page = context.new_page()
    quoted = make_trade_in(State.QUOTED)
    dm = quoted.product.device_model
    pages = {
        "storefront": "/",
        "make": "/trade-in/",
        "model": f"/trade-in/?make={dm.make.slug}",
        "form": f"/trade-in/?make={dm.make.slug}&model={dm.slug}",
        "confirmation": f"/trade-in/thanks/{status_token(quoted)}/",
        "quote": f"/trade-in/offer/{quote_token(quoted.latest_quote())}/",
        "link-invalid": "/trade-in/offer/nope/",
    }
    for state in (State.SUBMITTED, State.QUOTED, State.ACCEPTED, State.CLOSED, State.DECLINED):
        pages[f"status-{state}"] = f"/trade-in/status/{status_token(make_trade_in(state))}/"
    for name, url in pages.items():
        page.goto(url)
        if name == "form":
            page.click("#submit")  # with every inline error showing
        if name == "quote":
            page.click("text=Decline the offer")
        assert_page_is_good(page)
        screenshot(page, f"320-{name}")
    context.close()
