"""Helpers shared by the test modules: build input the way a buyer or a staff member sends it,
and check what must always hold. Fixtures are in conftest.py."""

from __future__ import annotations

import re
from decimal import Decimal

from django.core import mail
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from tests.factories import valid_imei
from workflows import actions
from workflows.models import (
    STOCKED_STATUSES,
    Payout,
    PayoutStatus,
    Product,
    State,
    TradeIn,
    Unit,
)

PASSWORD = "tradein-demo"


def submission(product: Product, /, **overrides) -> actions.Submission:
    fields = dict(
        product=product,
        screen="scratched",
        body="like_new",
        battery="good",
        accessories="box",
        imei=valid_imei(),
        buyer_name="Ada Buyer",
        buyer_email="ada@example.com",
        buyer_phone="555-0100",
        fulfilment="ship",
        address_line1="1 Main St",
        city="Chicago",
        region="IL",
        postcode="60601",
        payout_method="check",
    )
    fields.update(overrides)
    return actions.Submission(**fields)


def refresh(obj):
    obj.refresh_from_db()
    return obj


def links_in_last_mail(to: str | None = None) -> list[str]:
    messages = [m for m in mail.outbox if to is None or to in m.to]
    assert messages, "no email was sent"
    return re.findall(r"https?://\S+", messages[-1].body)


def assert_books_balance() -> None:
    """Stock, units and payouts add up: every stocked unit is counted once, every accepted
    trade-in owes exactly its accepted quote, and nothing that left stock is still owed."""
    for product in Product.objects.all():
        stocked = Unit.objects.filter(product=product, status__in=STOCKED_STATUSES).count()
        assert product.stock == stocked, f"{product}: stock {product.stock} != {stocked} units"
    for trade_in in TradeIn.objects.all():
        has_payout = Payout.objects.filter(trade_in=trade_in).exists()
        ever_accepted = trade_in.state in (
            State.ACCEPTED,
            State.RECEIVED,
            State.CLOSED,
            State.CANCELLED,
            State.REROUTED,
        )
        assert has_payout == ever_accepted, trade_in
        assert Unit.objects.filter(trade_in=trade_in).exists() == ever_accepted, trade_in
    owed = Payout.objects.filter(status__in=[PayoutStatus.PENDING, PayoutStatus.FAILED])
    for payout in owed:
        assert payout.trade_in.state in (State.ACCEPTED, State.RECEIVED), payout
    settled = Payout.objects.filter(status=PayoutStatus.SETTLED).aggregate(s=Sum("amount"))["s"]
    accepted_offers = sum(
        (t.latest_quote().amount for t in TradeIn.objects.filter(state=State.CLOSED)), Decimal(0)
    )
    assert (settled or Decimal(0)) == accepted_offers


def form_url(product) -> str:
    dm = product.device_model
    return f"/trade-in/?make={dm.make.slug}&model={dm.slug}"


def buyer_post(client: Client, product, /, **overrides):
    data = {
        "product": product.pk,
        "screen": "scratched",
        "body": "like_new",
        "battery": "good",
        "accessories": "box",
        "imei": valid_imei(),
        "buyer_name": "Ada Buyer",
        "buyer_email": "ada@example.com",
        "buyer_phone": "555 0100",
        "fulfilment": "ship",
        "address_line1": "1 Main St",
        "city": "Chicago",
        "region": "IL",
        "postcode": "60601",
        "payout_method": "check",
        "submission_key": overrides.pop("submission_key", "k-" + valid_imei()),
        "website": "",
    }
    data.update(overrides)
    return client.post(form_url(product), data)


def staff_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def workflow(client: Client, trade_in: TradeIn, step: str, **data):
    url = reverse("admin:workflows_tradein_workflow", args=[trade_in.pk, step])
    return client.post(url, data, follow=True)


def submit_and_check(client, product, drain, **overrides) -> TradeIn:
    response = buyer_post(client, product, **overrides)
    assert response.status_code == 302, response.content.decode()[:2000]
    confirmation = client.get(response["Location"])
    trade_in = TradeIn.objects.latest("pk")
    assert trade_in.reference in confirmation.content.decode()
    drain()
    return refresh(trade_in)
