"""`make run`'s demo: loads once, runs twice without duplicates, and its books balance."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.helpers import assert_books_balance
from workflows.models import Product, Quote, QuotePolicy, State, TradeIn, Unit, UnitStatus
from workflows.selectors.learning import price_rows


def test_it_seeds_the_demo_and_can_run_again(db):
    call_command("seed_demo")
    counts = (Product.objects.count(), TradeIn.objects.count())
    stock = sum(Product.objects.values_list("stock", flat=True))
    call_command("seed_demo")
    assert (Product.objects.count(), TradeIn.objects.count()) == counts
    assert sum(Product.objects.values_list("stock", flat=True)) == stock
    assert counts[0] >= 90 and Product.objects.values("device_model").distinct().count() >= 30
    states = set(TradeIn.objects.values_list("state", flat=True))
    assert {
        State.SUBMITTED,
        State.QUOTED,
        State.ACCEPTED,
        State.RECEIVED,
        State.CLOSED,
        State.DECLINED,
    } <= states
    assert TradeIn.objects.filter(imei_status="flagged").exists()
    for username in ("staff", "manager", "admin"):  # through the real, throttled sign-in form
        browser = Client()
        page = browser.post("/dashboard/login/", {"username": username, "password": "tradein-demo"})
        assert page.status_code == 302
        if username != "staff":  # the second step, with the code `manage.py demo_totp` prints
            from django_otp.plugins.otp_totp.models import TOTPDevice

            from tests.helpers import totp_code

            code = totp_code(TOTPDevice.objects.get(user__username=username))
            browser.post("/dashboard/two-step/", {"code": code})
        assert browser.get("/dashboard/").status_code == 200
    assert_books_balance()


def test_the_demo_holds_a_realistic_month_walked_through_the_actions(db):
    call_command("seed_demo")
    month = TradeIn.objects.filter(submission_key__startswith="demo-month-")
    assert 60 <= month.count() <= 120
    now = timezone.now()
    created = list(month.values_list("created_at", flat=True))
    assert all(now - timedelta(days=31) < c <= now for c in created)
    assert len({c.date() for c in created}) >= 20  # spread over the month, not one day
    assert set(month.values_list("state", flat=True)) >= {
        State.SUBMITTED,
        State.QUOTED,
        State.DECLINED,
        State.ACCEPTED,
        State.CLOSED,
    }
    # Every record's story is in order: quoted after submitted, received after accepted.
    for trade_in in month.exclude(accepted_at=None):
        quote = trade_in.quotes.get()
        assert trade_in.created_at <= quote.created_at <= trade_in.accepted_at
        first = trade_in.events.order_by("pk").first()
        assert abs(first.created_at - trade_in.created_at) < timedelta(seconds=5)
    sold = Unit.objects.filter(status=UnitStatus.SOLD, trade_in__in=month)
    assert sold.count() >= 30 and not sold.filter(sale_price=None).exists()
    assert set(sold.values_list("sale_channel", flat=True)) == {
        "storefront",
        "marketplace",
        "wholesale",
    }
    for unit in sold.select_related("trade_in__payout"):
        assert unit.sold_on >= unit.trade_in.received_at.date()
        sold_event = unit.trade_in.events.get(kind="unit_sold")
        assert timezone.localdate(sold_event.created_at) == unit.sold_on
    margins = [
        u.sale_price - u.trade_in.payout.amount for u in sold.select_related("trade_in__payout")
    ]
    assert sum(m > 0 for m in margins) >= 0.8 * len(margins)  # a shop that mostly makes money
    # Two weeks of the auto-quote trial show on the dashboard; the shop's setting is as it was.
    assert Quote.objects.filter(trade_in__in=month, auto_quoted=True).count() >= 10
    assert not QuotePolicy.current().auto_quote
    rows = price_rows()
    assert sum(r.source == "sales" for r in rows) >= 3
    assert sum(r.source == "market" for r in rows) >= 2
    assert sum(r.sent > 0 for r in rows) >= 10
    assert_books_balance()


def test_it_records_a_made_up_seller_id_for_every_received_demo_trade_in(db):
    from workflows import crypto
    from workflows.rules.compliance import identity_of

    call_command("seed_demo")
    received = TradeIn.objects.exclude(received_at=None)
    month = received.filter(submission_key__startswith="demo-month-")
    assert month.exists() and received.exclude(pk__in=month).exists()
    year = timezone.localdate().year
    for trade_in in received:
        identity = identity_of(trade_in)
        assert (identity.id_type, identity.issuer, identity.version) == ("drivers_license", "IL", 1)
        number = crypto.decrypt(identity.id_number_encrypted)
        if trade_in in month:  # _demo_month: D<pk>-7731-<i>, valid 4 more years
            assert number.startswith(f"D{trade_in.pk:04d}-7731-")
            assert identity.expires_on.year == year + 4
        else:  # seed_demo's one-of-each-stage: D<pk>-5550-<pk>, valid 3 more years
            assert number == f"D{trade_in.pk:03d}-5550-{trade_in.pk:04d}"
            assert identity.expires_on.year == year + 3
