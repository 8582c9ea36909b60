"""Anonymisation leaves the buyer nowhere: after the retention sweep (or an erasure), no row of
any table, the timeline's notes, a payout-detail change's old and new values and the shipping
label's PDF included, still holds the buyer's name, email, phone or address. The money, the
devices and what happened (without the values) stay."""

from __future__ import annotations

import re
import zlib
from datetime import date, timedelta

from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from tests.helpers import refresh, staff_client
from tests.test_compliance import an_id, intake
from workflows import actions
from workflows.models import (
    ChangeStatus,
    Event,
    EventKind,
    Order,
    Payout,
    PayoutDetailChange,
    ShippingLabel,
    StripeAccount,
    TradeIn,
)
from workflows.rules import erasure
from workflows.tasks.compliance import anonymise_expired_records

OLD = ("Ada Buyer", "ada@example.com", "555-0100", "1 Main St", "60601", "Chicago")
NEW = {
    "buyer_name": "Ada Lovelace-Byron",
    "buyer_email": "ada@new.example",
    "address_line1": "9 St. James Rd",
    "city": "Springfield",
    "postcode": "62704",
}


def readable(value) -> str:
    """A stored value as text; a PDF with its compressed streams opened (the label's are)."""
    if not isinstance(value, memoryview | bytes):
        return str(value)
    data = bytes(value)
    streams = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            streams.append(zlib.decompress(stream))
        except zlib.error:
            streams.append(stream)
    return b"\n".join([data, *streams]).decode("latin-1")


def rows_holding(texts) -> list[str]:
    """Every stored value, in every table, that contains one of `texts`."""
    found = []
    for model in apps.get_models():
        fields = list(model._meta.concrete_fields)
        for row in model._base_manager.values_list(*(f.attname for f in fields)):
            for field, value in zip(fields, row, strict=True):
                text = readable(value)
                for secret in texts:
                    if secret.lower() in text.lower():
                        found.append(f"{model._meta.label}.{field.name}: {secret!r}")
    return found


def test_after_the_retention_sweep_no_table_holds_the_buyer(
    make_trade_in, staff, manager, admin_user, settings, drain
):
    settings.RETENTION_DAYS = 365
    trade_in = make_trade_in("accepted")
    assert ShippingLabel.objects.filter(trade_in=trade_in).exists()  # a label with the address
    change = actions.payout_details_change_request(
        trade_in=trade_in, actor=staff, changes=NEW, reason="Moved; asked by phone"
    )
    actions.payout_details_change_approve(change=change, actor=admin_user, note="Called back")
    actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id())
    intake(refresh(trade_in), staff, "B")
    actions.payout_settle_check(
        payout=refresh(trade_in).payout, actor=manager, check_number="9", check_date=date.today()
    )
    drain()  # every email sent, its timeline event written
    # A Stripe account found by the buyer's email (as onboarding makes it), and another
    # buyer's, which stays.
    StripeAccount.objects.create(email="ada@new.example", account_id="acct_ada", provider="x")
    StripeAccount.objects.create(email="bo@example.com", account_id="acct_bo", provider="x")
    secrets = (*OLD, *NEW.values())
    label_page = reverse("admin:workflows_tradein_label", args=[trade_in.pk])
    assert "1 Main St" in readable(staff_client(staff).get(label_page).content)
    seen = {leak.split(": ", 1)[1] for leak in rows_holding(secrets)}
    assert seen == {repr(s) for s in secrets}  # the test can find each one before

    past = timezone.now() - timedelta(days=366)
    TradeIn.objects.filter(pk=trade_in.pk).update(received_at=past, updated_at=past)
    assert anonymise_expired_records() == 1

    assert rows_holding(secrets) == []
    # What happened stays, without the values; the money stays.
    change = PayoutDetailChange.objects.get(pk=change.pk)
    assert change.status == ChangeStatus.APPROVED and set(change.changes) == set(NEW)
    changed = Event.objects.get(trade_in=trade_in, kind=EventKind.PAYOUT_DETAILS_CHANGED)
    assert "Buyer email" in changed.note and "Called back" in changed.note
    payout = Payout.objects.get(trade_in=trade_in)
    assert payout.status == "settled" and payout.amount == refresh(trade_in).offer_amount
    assert refresh(trade_in).imei
    assert StripeAccount.objects.get(account_id="acct_ada").email.endswith("@invalid.example")
    assert StripeAccount.objects.get(account_id="acct_bo").email == "bo@example.com"
    label = staff_client(staff).get(label_page)
    assert label.status_code == 410 and b"erased with the buyer" in label.content
    page = staff_client(staff).get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    assert (
        "erased with the buyer" in page.content.decode() and label_page not in page.content.decode()
    )


def test_the_values_migration_0038_wrote_of_another_device_are_found_and_erased():
    order = Order(buyer_name="Ada Buyer", buyer_email="ada@example.com", city="Leeds")
    note = (
        "The buyer's details are now stored once for the order (its first device's); this "
        "device held others: Buyer email: ada@old.example → ada@example.com; Address line 1: "
        "2 Leeds Rd → —; Payout method: Check → Store credit"
    )
    values = erasure.identifying_values(order, [], [note])
    assert values == {"Ada Buyer", "ada@example.com", "Leeds", "ada@old.example", "2 Leeds Rd"}
    erased = erasure.erase_values(note, values)
    assert "Buyer email: (erased) → (erased); Address line 1: (erased) → —" in erased
    assert "Payout method: Check → Store credit" in erased  # not who: stays
    assert "ADA@EXAMPLE.COM wrote" not in erasure.erase_values("ADA@EXAMPLE.COM wrote", values)


def test_a_stripe_account_another_order_of_the_buyer_uses_keeps_its_email(make_trade_in, manager):
    erased = make_trade_in("declined")
    make_trade_in("submitted")  # the same buyer (ada@example.com) sells another phone
    StripeAccount.objects.create(email="ada@example.com", account_id="acct_ada", provider="x")
    actions.buyer_erase(trade_in=erased, actor=manager, reason="Email of 3 May, ada@example.com")
    assert refresh(erased).buyer_name == "anonymised"
    # The reason keeps who asked and when, not the address it quoted.
    note = Event.objects.get(trade_in=erased, kind=EventKind.ANONYMISED).note
    assert note == "Erased on request: Email of 3 May, (erased)"
    assert StripeAccount.objects.get().email == "ada@example.com"
