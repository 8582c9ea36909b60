"""An order's offers on a phone (390×844), in Chromium: a three-device basket, all three
quoted, one email; the buyer accepts two and declines one with a reason on the order's page;
one label for the box, weighed for the two; the payouts are the two offers."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.core import mail

from tests.browser.checks import assert_page_is_good
from tests.browser.conftest import screenshot
from tests.factories import ProductFactory
from tests.helpers import links_in_last_mail, refresh, submission
from workflows import actions
from workflows.models import Payout, ShippingLabel, SideEffect, SideEffectKind, State
from workflows.selectors import order_box_weight

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_buyer_accepts_two_and_declines_one_on_the_orders_page(phone, product, staff, drain):
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
