"""Issue 22: a label's cost is what ShipEngine's answer says it cost (`shipment_cost`)."""

from __future__ import annotations

import json
from decimal import Decimal

from werkzeug import Response

from tests.integrations.test_shipengine import PDF, label_body
from workflows.models import ShippingLabel, State
from workflows.selectors.reports import unit_money


def sells_labels_at(server, amount) -> None:
    def buy(request):
        body = {**label_body(server), "shipment_cost": {"currency": "usd", "amount": amount}}
        return Response(json.dumps(body), status=200, content_type="application/json")

    server.expect_request("/v1/labels", method="POST").respond_with_handler(buy)
    server.expect_request("/v1/downloads/10/label.pdf").respond_with_data(
        PDF, content_type="application/pdf"
    )


def test_it_keeps_shipengines_shipment_cost_on_the_label(shipengine, make_trade_in):
    sells_labels_at(shipengine, 9.37)
    trade_in = make_trade_in(State.ACCEPTED)
    label = ShippingLabel.objects.get(trade_in=trade_in)
    assert (label.cost, label.cost_currency) == (Decimal("9.37"), "USD")
    assert unit_money(trade_in.unit).labels == Decimal("9.37")


def test_an_answer_without_a_cost_leaves_it_unknown(shipengine, make_trade_in):
    sells_labels_at(shipengine, None)
    trade_in = make_trade_in(State.ACCEPTED)
    label = ShippingLabel.objects.get(trade_in=trade_in)
    assert label.cost is None and label.label_id == "se-392157963"
    assert unit_money(trade_in.unit).labels == Decimal("0.00")
