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
from workflows.inspection import checklist_as_disclosed
from workflows.models import (
    STOCKED_STATUSES,
    Payout,
    PayoutStatus,
    Product,
    RevisedOfferStatus,
    State,
    StoreCredit,
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


def accepted_amount(trade_in: TradeIn) -> Decimal:
    """What the buyer agreed to be paid: an accepted revised offer, else the latest quote."""
    revised = trade_in.revised_offers.filter(status=RevisedOfferStatus.ACCEPTED).first()
    return revised.amount if revised else trade_in.latest_quote().amount


def assert_books_balance() -> None:
    """Stock, units, payouts and store credit add up: every stocked unit is counted once,
    every accepted trade-in owes exactly what the buyer agreed, nothing that left stock is
    still owed, and every store credit's balance is its amount less its redemptions."""
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
            State.REOFFERED,
            State.RETURNED,
            State.RECYCLED,
        )
        assert has_payout == ever_accepted, trade_in
        assert Unit.objects.filter(trade_in=trade_in).exists() == ever_accepted, trade_in
        if trade_in.state in (State.RECEIVED, State.CLOSED):
            assert trade_in.payout.amount == accepted_amount(trade_in), trade_in
        if trade_in.state in (State.RETURNED, State.RECYCLED, State.CANCELLED):
            assert not trade_in.unit.is_stocked, trade_in
    owed = Payout.objects.filter(status__in=[PayoutStatus.PENDING, PayoutStatus.FAILED])
    for payout in owed:
        assert payout.trade_in.state in (State.ACCEPTED, State.RECEIVED, State.REOFFERED), payout
    settled = Payout.objects.filter(status=PayoutStatus.SETTLED).aggregate(s=Sum("amount"))["s"]
    accepted_offers = sum(
        (accepted_amount(t) for t in TradeIn.objects.filter(state=State.CLOSED)), Decimal(0)
    )
    assert (settled or Decimal(0)) == accepted_offers
    for credit in StoreCredit.objects.all():
        spent = credit.redemptions.aggregate(s=Sum("amount"))["s"] or Decimal(0)
        assert credit.balance == credit.amount - spent >= 0, credit
        assert credit.amount == credit.payout.amount, credit


def intake_data(trade_in: TradeIn, *, outcome: str = "grade", grade: str = "B", **found) -> dict:
    """The intake bench's POST: the checklist as disclosed (overridden by `found`), an outcome."""
    checklist = {**checklist_as_disclosed(trade_in), **found}
    return {
        "trade_in": trade_in.pk,
        "scanned_imei": trade_in.imei,  # the device's own IMEI, read at the bench
        "outcome": outcome,
        "grade": grade,
        "notes": "",
        **{f"check_{key}": value for key, value in checklist.items()},
    }


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
    from django.http import HttpRequest

    client = Client()
    # django-axes checks every authenticate() against the request it came with (a bare one
    # here, without an address); sign-in throttling is tested through the form.
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
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


def declared(**overrides) -> actions.DeclarationInput:
    """The buyer's declaration as the offer page sends it (ticked, the configured wording)."""
    from workflows.compliance import declaration_text

    fields = dict(confirmed=True, wording=declaration_text(), ip="127.0.0.1")
    fields.update(overrides)
    return actions.DeclarationInput(**fields)


def declaration_post(**extra: str) -> dict[str, str]:
    """The accept form's declaration fields, ticked."""
    from workflows.compliance import declaration_fingerprint

    return {"declare": "on", "wording": declaration_fingerprint(), **extra}
