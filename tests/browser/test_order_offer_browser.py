"""An order's offers on a phone (390×844), in Chromium: a three-device basket, all three
quoted, one email; the buyer accepts two and declines one with a reason on the order's page;
one label for the box, weighed for the two; the payouts are the two offers. Then the box
arrives and a manager, on the same phone-size page, pays the order once: one check for the
two offers, both devices closed, one payment email."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from tests.browser.checks import assert_page_is_good, scrolls_sideways, staff_page_problems
from tests.browser.conftest import login, screenshot
from tests.factories import ProductFactory
from tests.helpers import links_in_last_mail, receive_as_disclosed, refresh, submission
from workflows import actions
from workflows.models import (
    Payout,
    PayoutStatus,
    ShippingLabel,
    SideEffect,
    SideEffectKind,
    State,
)
from workflows.selectors import order_box_weight

pytestmark = pytest.mark.django_db(transaction=True)


def assert_staff_page_is_good(page) -> None:
    """A staff page on the phone: the buyer pages' bar (44 px taps, no sideways scroll) and
    the staff pages' (every WCAG A/AA rule, ids that resolve)."""
    assert_page_is_good(page)
    assert staff_page_problems(page) == [], page.url


def at_desktop_width(chromium, site, phone, name: str) -> None:
    """The page `phone` shows, signed in as the same person, at a desktop's 1280 px."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900},
        base_url=site,
        storage_state=phone.context.storage_state(),
    )
    try:
        page = context.new_page()
        page.goto(phone.url)
        # A mouse here: the staff pages' bar (WCAG AA), not the phone's 44 px taps.
        assert staff_page_problems(page) == [], page.url
        assert not scrolls_sideways(page), page.url
        screenshot(page, f"1280-{name}")
    finally:
        context.close()


def test_the_buyer_accepts_two_and_declines_one_and_the_order_is_paid_once(
    phone, chromium, site, product, staff, manager, drain
):
    products = [
        product,
        ProductFactory(device_model__weight_grams=250),
        ProductFactory(device_model__weight_grams=900),
    ]
    order = actions.order_submit(
        submissions=[submission(p) for p in products], submission_key=uuid.uuid4().hex
    )
    drain()
    a, b, c = order.devices.order_by("position")
    mail.outbox.clear()
    for device, amount in ((a, "100.00"), (b, "120.00"), (c, "80.00")):
        actions.trade_in_quote(trade_in=refresh(device), actor=staff, amount=amount)
    drain()
    assert len(mail.outbox) == 1  # one email for the order
    [link] = [u for u in links_in_last_mail() if "/trade-in/offers/" in u]

    phone.goto(link)
    main = phone.inner_text("main")
    for device in (a, b, c):
        assert device.reference in main
    assert "$300.00" in main
    assert_page_is_good(phone)
    screenshot(phone, "390-order-offer")
    phone.set_viewport_size({"width": 320, "height": 640})
    assert_page_is_good(phone)
    screenshot(phone, "320-order-offer")
    phone.set_viewport_size({"width": 390, "height": 844})

    phone.click(f"#device-{a.pk} label.choice:has-text('Accept')")
    phone.click(f"#device-{b.pk} label.choice:has-text('Accept')")
    phone.click(f"#device-{c.pk} label.choice:has-text('Decline')")
    phone.check("#id_declare")
    phone.click("text=Send my answers")  # the decline has no reason yet: refused
    assert "Please choose a reason." in phone.inner_text(f"#device-{c.pk}")
    assert refresh(a).state == State.QUOTED
    assert_page_is_good(phone)
    screenshot(phone, "390-order-offer-decline-error")
    phone.click(f"#device-{c.pk} label.choice:has-text('The offer is too low')")
    phone.fill(f"#detail-{c.pk}", "Worth more to me")
    if not phone.is_checked("#id_declare"):
        phone.check("#id_declare")
    phone.click("text=Send my answers")
    phone.wait_for_url("**/trade-in/status/**")
    # The status page lists the order's devices; each link is a 44 px tap target.
    assert_page_is_good(phone)
    drain()

    assert [refresh(d).state for d in (a, b, c)] == [State.ACCEPTED, State.ACCEPTED, State.DECLINED]
    assert refresh(c).decline_reason == "The offer is too low: Worth more to me"
    assert SideEffect.objects.filter(kind=SideEffectKind.CREATE_LABEL).count() == 1
    label = ShippingLabel.objects.get()
    assert label.trade_in_id == a.pk
    assert order_box_weight(order.pk) == product.device_model.weight_grams + 250
    payouts = Payout.objects.filter(trade_in__order=order)
    assert sorted(p.amount for p in payouts) == [Decimal("100.00"), Decimal("120.00")]

    phone.goto(link)  # the same link again: answered
    assert phone.locator("h1").inner_text() == "Already answered"

    # The box arrives; the first device is received, the second not yet: the order's one
    # payout waits for it, on the order's page and on the payout's.
    first, second = Payout.objects.filter(trade_in__order=order).order_by("trade_in__position")
    receive_as_disclosed(a, staff)
    drain()
    login(phone, "manager")
    order_url = reverse("admin:workflows_order_change", args=[order.pk])
    payout_url = reverse("admin:workflows_payout_change", args=[first.pk])
    phone.goto(order_url)
    banner = phone.inner_text("#order-payout")
    assert f"{b.reference} has not arrived" in banner
    assert "The order is paid in one payout." in banner
    assert "$100.00" not in banner  # what is received so far is not the order's payout
    assert phone.locator("#order-payout-settle").count() == 0
    assert_staff_page_is_good(phone)
    screenshot(phone, "390-order-payout-waits")
    phone.goto(payout_url)
    assert f"{b.reference} has not arrived" in phone.inner_text("#order-payout-wait")
    assert phone.locator("#order-payout").count() == 0  # no "paid once: $100.00" yet
    assert phone.locator("form[action$='/settle/']").count() == 0  # no check form, no button
    assert phone.locator("#id_check_number").count() == 0
    assert_staff_page_is_good(phone)
    screenshot(phone, "390-payout-waits")

    # The second arrives: one payout of the two offers, a manager pays it with one check.
    receive_as_disclosed(b, staff)
    drain()
    phone.goto(order_url)
    banner = phone.inner_text("#order-payout")
    assert "One payout for the order: $220.00 for 2 devices" in banner
    assert_staff_page_is_good(phone)
    screenshot(phone, "390-order-payout")
    at_desktop_width(chromium, site, phone, "order-payout")
    phone.click("#order-payout-settle")
    phone.wait_for_url(f"**{payout_url}")
    order_payout = phone.inner_text("#order-payout")
    assert f"Order {order.reference} is paid once: $220.00 for 2 devices." in order_payout
    for device in (a, b):
        assert device.reference in order_payout
    assert c.reference not in order_payout  # declined: nothing owed
    assert_staff_page_is_good(phone)
    screenshot(phone, "390-payout-settle")
    at_desktop_width(chromium, site, phone, "payout-settle")
    mail.outbox.clear()
    phone.fill("#id_check_number", "1042")
    phone.click("button:has-text('Record check and settle')")
    phone.wait_for_selector("text=Check payout recorded.")
    drain()

    first, second = refresh(first), refresh(second)
    assert [first.status, second.status] == [PayoutStatus.SETTLED, PayoutStatus.SETTLED]
    assert first.settlement_reference == second.settlement_reference
    assert first.settlement_reference.startswith("check 1042 dated ")
    assert first.amount + second.amount == Decimal("100.00") + Decimal("120.00")
    assert [refresh(d).state for d in (a, b, c)] == [State.CLOSED, State.CLOSED, State.DECLINED]
    [sent] = [m for m in mail.outbox if m.subject.startswith("Your payment is on its way")]
    assert sent.to == ["ada@example.com"]
    [(html, _)] = sent.alternatives
    for body in (sent.body, html):
        assert f"order {order.reference}" in body
        assert "one payment of" in body and "$220.00" in body
        for device, amount in ((a, "$100.00"), (b, "$120.00")):
            assert device.reference in body and amount in body
        assert c.reference not in body
    settled = phone.inner_text("#payout-settled")
    assert f"Paid with order {order.reference}: one payment of $220.00 for 2 devices." in settled
    assert b.reference in settled
    assert_staff_page_is_good(phone)
    screenshot(phone, "390-payout-settled")
    phone.goto(order_url)
    assert phone.inner_text("[data-total=paid]") == "$220.00"
    assert phone.locator("#order-payout").count() == 0  # nothing owed any more
    assert_staff_page_is_good(phone)
    screenshot(phone, "390-order-paid")
