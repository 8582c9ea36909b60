"""Helpers shared by the test modules: build input the way a buyer or a staff member sends it,
and check what must always hold. Fixtures are in conftest.py."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from backoffice.roles import requires_two_step
from tests.factories import valid_imei
from workflows import actions
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
from workflows.rules.inspection import checklist_as_disclosed

PASSWORD = "tradein-demo"

# A race test's marks (`pytestmark = RACE`): real threads against PostgreSQL's row locks, each
# committing, so the test database is flushed after it; skipped on SQLite.
RACE = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need PostgreSQL row locks; set DATABASE_URL to run them",
    ),
]


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


def unsigned_part(url: str) -> str:
    """A signed link up to its timestamp (payload and the colon after it): what a page shows
    whatever second the link was signed in. The whole link differs when the second ticks over
    between the test's signing and the view's."""
    return url[: url.index(":") + 1]


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
        # One credit pays an order's owed devices together: their sum.
        paid = Payout.objects.filter(
            trade_in__order_id=credit.payout.trade_in.order_id,
            settlement_reference=credit.payout.settlement_reference,
        ).aggregate(s=Sum("amount"))["s"]
        assert credit.amount == paid, credit


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
    if requires_two_step(user):
        verify_second_step(client, user)
    return client


def verify_second_step(client: Client, user) -> None:
    """Mark a signed-in test session as past the second step, as the two-step page leaves it
    (the user gets an authenticator device if they have none). For tests about something
    else; tests/test_two_step.py signs in through the real forms."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def totp_code(device) -> str:
    """The code an authenticator app shows for this device now (or the next step's, when
    this step's code was already used: each is accepted once)."""
    import time

    from django_otp.oath import TOTP

    device.refresh_from_db()
    step = max(int(time.time()) // device.step + device.drift, device.last_t + 1)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = step * device.step
    return f"{totp.token():0{device.digits}d}"


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
    from workflows.rules.compliance import declaration_text

    fields = dict(confirmed=True, wording=declaration_text(), ip="127.0.0.1")
    fields.update(overrides)
    return actions.DeclarationInput(**fields)


def declaration_post(**extra: str) -> dict[str, str]:
    """The accept form's declaration fields, ticked."""
    from workflows.rules.compliance import declaration_fingerprint

    return {"declare": "on", "wording": declaration_fingerprint(), **extra}


def receive_cracked(device: TradeIn, staff, amount: str) -> TradeIn:
    """The device at the intake bench with a cracked screen it did not disclose: grade C and
    a revised offer of `amount` for the buyer to answer."""
    actions.trade_in_intake(
        trade_in=refresh(device),
        scanned_imei=device.imei,
        actor=staff,
        checklist={**checklist_as_disclosed(device), "screen": "cracked"},
        outcome="revise",
        grade="C",
        amount=amount,
        notes="Cracked glass",
    )
    return refresh(device)


def receive_as_disclosed(device: TradeIn, staff) -> TradeIn:
    """The device at the intake bench: its own IMEI scanned, found as disclosed, grade B."""
    actions.trade_in_intake(
        trade_in=refresh(device),
        scanned_imei=device.imei,
        actor=staff,
        checklist=checklist_as_disclosed(device),
        outcome="grade",
        grade="B",
    )
    return refresh(device)
