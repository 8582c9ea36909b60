"""One label per box (issue 20): an order's accepted devices go in one parcel, bought once
from the loopback ShipEngine (validated against its published spec) and weighed for them."""

from __future__ import annotations

import uuid

from tests.factories import ProductFactory
from tests.helpers import declared, refresh, submission
from tests.integrations.test_shipengine import label_posts, sells_labels
from workflows import actions
from workflows.links import order_offer_from_token, order_offer_token
from workflows.models import Email, ShippingLabel, SideEffect, State


def test_it_buys_one_label_weighing_only_the_accepted_devices(shipengine, product, staff, drain):
    bodies: list = []
    sells_labels(shipengine, bodies)
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
    for device, amount in ((a, "100.00"), (b, "120.00"), (c, "80.00")):
        actions.trade_in_quote(trade_in=refresh(device), actor=staff, amount=amount)
    drain()
    effect = SideEffect.objects.get(payload__template=Email.ORDER_OFFER)
    order, quotes = order_offer_from_token(order_offer_token(order, effect.payload["quote_ids"]))
    actions.order_answer(
        order=order,
        quotes=quotes,
        accept=[refresh(a), refresh(b)],
        decline={refresh(c): "The offer is too low"},
        declaration=declared(),
    )
    drain()

    assert label_posts(shipengine) == 1
    [body] = bodies
    weight = product.device_model.weight_grams + 250
    assert body["shipment"]["packages"][0]["weight"] == {"value": weight, "unit": "gram"}
    label = ShippingLabel.objects.get()
    assert label.trade_in_id == a.pk
    assert [refresh(d).state for d in (a, b, c)] == [State.ACCEPTED, State.ACCEPTED, State.DECLINED]
