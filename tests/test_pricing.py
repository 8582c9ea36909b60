"""Offers that learn (issue 22): suggestions from sales or market prices, applied only by a
manager with history, and auto-quote reading the applied list."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import ProductFactory
from tests.helpers import refresh, staff_client, valid_imei
from workflows import actions
from workflows.errors import TransitionRefused
from workflows.models import MarketPrice, PriceChange, Product, State, Unit, UnitStatus
from workflows.selectors.learning import price_rows

URL = "/dashboard/price-list/"


def sold(product, grade: str, price: str, days_ago: int = 5) -> Unit:
    """A unit sold at `price` (the sale fields the `sales` branch's sell action records)."""
    return Unit.objects.create(
        product=product,
        imei=valid_imei(),
        status=UnitStatus.SOLD,
        grade=grade,
        sale_price=Decimal(price),
        sale_channel="storefront",
        sold_on=timezone.localdate() - timedelta(days=days_ago),
    )


def row(product, grade):
    return next(r for r in price_rows(Product.objects.filter(pk=product.pk)) if r.grade == grade)


def test_it_suggests_the_median_of_recent_sales_less_refurbishment_and_margin(product):
    for price in ("400.00", "520.00", "430.00", "610.00"):
        sold(product, "B", price)
    sold(product, "B", "999.00", days_ago=91)  # outside the 90-day window
    sold(product, "A", "900.00")  # another grade
    r = row(product, "B")
    # median(400, 430, 520, 610) = 475; minus $25 refurbishment (B), minus 25% = 118.75 → 331.25
    assert r.suggestion == Decimal("331.00")
    assert r.basis == "median of 4 sales" and r.source == "sales"
    # Today's offer for B: base 500 less the B answers' deductions (scratched 10 + worn 8).
    assert r.offer == Decimal("410.00")
    assert row(product, "A").suggestion is None  # one sale is fewer than 3, no market price


def test_it_falls_back_to_market_prices_when_sales_are_few(product, manager):
    sold(product, "A", "700.00")
    sold(product, "A", "720.00")
    csv = (
        "model,storage,grade,price,source,date\n"
        f"{product.device_model},128,A,600.00,Swappa,{timezone.localdate()}\n"
        f"{product.device_model.slug},128 GB,a,640,Back Market,{timezone.localdate()}\n"
    )
    assert actions.market_prices_import(actor=manager, text=csv) == 2
    r = row(product, "A")
    # median(600, 640) = 620; minus $10 (A), minus 25% = 155 → 455
    assert r.suggestion == Decimal("455.00")
    assert r.basis == "market, 2 prices (2 of 3 sales)"


def test_the_import_refuses_a_file_with_bad_rows_and_names_them(product, manager):
    today = timezone.localdate()
    csv = (
        "model,storage,grade,price,source,date\n"
        f"{product.device_model},128,A,600.00,Swappa,{today}\n"
        f"Nokia 3310,128,A,600.00,Swappa,{today}\n"
        f"{product.device_model},128,E,-5,,2026-13-01\n"
        f"{product.device_model},64,B,300,eBay,{today + timedelta(days=3)}\n"
    )
    page = (
        staff_client(manager)
        .post(URL, {"step": "import", "file": _upload(csv)}, follow=True)
        .content.decode()
    )
    assert MarketPrice.objects.count() == 0
    assert "Nothing was imported." in page
    assert "Row 3: unknown model “Nokia 3310”." in page
    assert "Row 4: grade “E” is not A, B or C; price “-5” is not an amount above 0; " in page
    assert "the source is empty; date “2026-13-01” is not YYYY-MM-DD." in page
    assert "Row 5: " in page and "has no 64 GB version" in page and "in the future" in page
    # A file without the columns is refused too; a good file goes in.
    page = staff_client(manager).post(
        URL, {"step": "import", "file": _upload("model,price\nx,1\n")}, follow=True
    )
    assert "missing: storage, grade, source, date" in page.content.decode()
    good = "model,storage,grade,price,source,date\n" + csv.splitlines()[1] + "\n"
    page = staff_client(manager).post(URL, {"step": "import", "file": _upload(good)}, follow=True)
    assert "1 rows imported." in page.content.decode()
    assert MarketPrice.objects.get().imported_by == manager


def _upload(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("market.csv", text.encode(), content_type="text/csv")


def test_a_manager_applies_one_suggestion_with_history(product, manager):
    for price in ("600.00", "640.00", "620.00"):
        sold(product, "A", price)
    page = staff_client(manager).get(URL).content.decode()
    assert "median of 3 sales" in page and "$455.00" in page and "$500.00" in page
    response = staff_client(manager).post(
        URL,
        {"step": "apply", "product": product.pk, "grade": "A", "seen_offer": "500.00"},
        follow=True,
    )
    assert "Price list updated." in response.content.decode()
    product.refresh_from_db()
    assert product.base_price == Decimal("455.00")
    change = PriceChange.objects.get()
    assert (change.actor, change.old_price, change.new_price) == (
        manager,
        Decimal("500.00"),
        Decimal("455.00"),
    )
    assert change.basis == "grade A: median of 3 sales; offer 500.00 → 455.00"
    # The page the manager saw is stale now: a second click changes nothing.
    staff_client(manager).post(
        URL, {"step": "apply", "product": product.pk, "grade": "A", "seen_offer": "500.00"}
    )
    assert PriceChange.objects.count() == 1


def test_applying_a_grade_b_suggestion_sets_the_base_price_for_that_grades_offer(product, manager):
    for price in ("400.00", "430.00", "520.00"):
        sold(product, "B", price)
    # median 430 - 25 - 107.5 = 297.5 → 297; B's deductions are 18%: base 297 / 0.82 = 362.19,
    # rounded up to 363, whose B offer is 363 × 0.82 = 297.66, rounded down: the suggestion.
    change = actions.price_suggestion_apply(actor=manager, product=product, grade="B")
    assert change.new_price == Decimal("363.00")
    assert row(product, "B").offer == Decimal("297.00")


def test_apply_all_changes_only_the_offers_beyond_the_threshold(product, manager):
    near = ProductFactory(base_price=Decimal("460.00"))
    for p in (product, near):
        for price in ("600.00", "640.00", "620.00"):
            sold(p, "A", price)
    # Both suggest 455: product is 500 (-9 %), near is 460 (-1.1 %).
    response = staff_client(manager).post(URL, {"step": "apply_all", "threshold": "5"}, follow=True)
    assert "1 price changed" in response.content.decode()
    product.refresh_from_db()
    near.refresh_from_db()
    assert (product.base_price, near.base_price) == (Decimal("455.00"), Decimal("460.00"))
    assert PriceChange.objects.get().product == product


def test_staff_are_refused_inside_the_actions(product, staff, manager):
    for price in ("600.00", "640.00", "620.00"):
        sold(product, "A", price)
    page = staff_client(staff).get(URL).content.decode()
    assert "median of 3 sales" in page and 'name="step" value="apply"' not in page
    for data in (
        {"step": "apply", "product": product.pk, "grade": "A"},
        {"step": "apply_all", "threshold": "0"},
        {"step": "import", "file": _upload("model,storage,grade,price,source,date\n")},
    ):
        staff_client(staff).post(URL, data)
    product.refresh_from_db()
    assert product.base_price == Decimal("500.00") and not PriceChange.objects.exists()
    with pytest.raises(TransitionRefused):
        actions.price_suggestion_apply(actor=staff, product=product, grade="A")
    with pytest.raises(TransitionRefused):
        actions.price_suggestions_apply_all(actor=staff, threshold=Decimal("0"))
    with pytest.raises(TransitionRefused):
        actions.market_prices_import(actor=staff, text="model,storage,grade,price,source,date\n")


def test_auto_quote_uses_the_applied_price_and_never_an_unapplied_suggestion(
    product, manager, make_trade_in
):
    actions.quote_policy_update(
        actor=manager, changes={"auto_quote": True, "auto_quote_cap": Decimal("1000")}
    )
    for price in ("600.00", "640.00", "620.00"):
        sold(product, "A", price)
    like_new = dict(screen="flawless", body="like_new", battery="good", accessories="complete")
    before = make_trade_in(State.SUBMITTED, **like_new)
    assert before.quotes.get().amount == Decimal("500.00")  # the list, not the suggestion (455)
    actions.price_suggestion_apply(actor=manager, product=product, grade="A")
    # As the buyer form does, the product is read afresh for the next submission.
    after = make_trade_in(State.SUBMITTED, product=refresh(product), **like_new)
    assert after.state == State.QUOTED and after.quotes.get().amount == Decimal("455.00")


def test_the_acceptance_rate_counts_quotes_accepted_over_quotes_sent(make_trade_in, product):
    answers = dict(screen="scratched", body="worn", battery="good", accessories="box")  # B
    make_trade_in(State.QUOTED, **answers)
    make_trade_in(State.ACCEPTED, **answers)
    make_trade_in(State.ACCEPTED, **answers)
    make_trade_in(State.QUOTED, screen="flawless", body="like_new", battery="good")  # A
    r = row(product, "B")
    assert (r.accepted, r.sent, r.acceptance) == (2, 3, Decimal("67"))
    assert (row(product, "A").accepted, row(product, "A").sent) == (0, 1)
