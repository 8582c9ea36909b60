"""Issue 22, money per unit: a sale records its price, channel and day; a wholesale lot spreads
its price over its units; a unit's costs are its payout (revised offers included), its labels
and its refurbishment; margin = sale − costs, derived."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.helpers import declared, refresh, staff_client
from workflows import actions
from workflows.actions import answers
from workflows.actions.units import spread
from workflows.errors import DomainError, InvalidInput, TransitionRefused
from workflows.models import (
    Event,
    EventKind,
    RefurbishmentCost,
    SaleLot,
    ShippingLabel,
    State,
    Unit,
    UnitStatus,
)
from workflows.selectors.reports import unit_money


def graded_unit(make_trade_in) -> Unit:
    unit = make_trade_in(State.RECEIVED).unit
    assert unit.status == UnitStatus.GRADED
    return unit


def sell_page(client, unit: Unit, **data):
    return client.post(
        reverse("admin:workflows_unit_life", args=[unit.pk, "sell"]), data, follow=True
    ).content.decode()


# --- a sale -------------------------------------------------------------------------------------
def test_it_records_the_sale_price_channel_and_day_from_the_unit_page(make_trade_in, staff):
    unit = graded_unit(make_trade_in)
    client = staff_client(staff)
    page = client.get(reverse("admin:workflows_unit_change", args=[unit.pk])).content.decode()
    assert 'name="price"' in page and 'value="marketplace"' in page
    yesterday = timezone.localdate() - timedelta(days=1)
    sell_page(client, unit, price="455.90", channel="marketplace", sold_on=yesterday.isoformat())
    unit = refresh(unit)
    assert unit.status == UnitStatus.SOLD
    assert (unit.sale_price, unit.sale_channel, unit.sold_on) == (
        Decimal("455.90"),
        "marketplace",
        yesterday,
    )
    event = Event.objects.filter(trade_in=unit.trade_in, kind=EventKind.UNIT_SOLD).get()
    assert "$455.90 (marketplace" in event.note and event.actor == staff


def test_the_day_defaults_to_today(make_trade_in, staff):
    unit = graded_unit(make_trade_in)
    actions.unit_change_status(
        unit=unit, actor=staff, operation="sell", price="100", channel="storefront"
    )
    assert refresh(unit).sold_on == timezone.localdate()


@pytest.mark.parametrize(
    "data",
    [
        {"channel": "storefront"},  # no price
        {"price": "0", "channel": "storefront"},
        {"price": "-20", "channel": "storefront"},
        {"price": "abc", "channel": "storefront"},
        {"price": "120", "channel": "flea-market"},
        {"price": "120", "channel": ""},
    ],
)
def test_a_sale_without_a_valid_price_or_channel_changes_nothing(make_trade_in, staff, data):
    unit = graded_unit(make_trade_in)
    stock = refresh(unit.product).stock
    page = sell_page(staff_client(staff), unit, **data)
    assert "errornote" in page or "error" in page
    with pytest.raises(DomainError):
        actions.unit_change_status(unit=unit, actor=staff, operation="sell", **data)
    unit = refresh(unit)
    assert (unit.status, unit.sale_price, unit.sold_on) == (UnitStatus.GRADED, None, None)
    assert refresh(unit.product).stock == stock
    assert not Event.objects.filter(trade_in=unit.trade_in, kind=EventKind.UNIT_SOLD).exists()


def test_a_sale_cannot_be_dated_in_the_future(make_trade_in, staff):
    unit = graded_unit(make_trade_in)
    with pytest.raises(InvalidInput, match="future"):
        actions.unit_change_status(
            unit=unit,
            actor=staff,
            operation="sell",
            price="100",
            channel="storefront",
            sold_on=timezone.localdate() + timedelta(days=1),
        )
    assert refresh(unit).status == UnitStatus.GRADED


def test_the_police_hold_still_refuses_a_priced_sale(make_trade_in, staff, settings):
    settings.HOLD_DAYS, settings.POLICE_REPORT = 21, "off"
    unit = graded_unit(make_trade_in)
    page = sell_page(staff_client(staff), unit, price="300", channel="storefront")
    assert "police hold" in page
    unit = refresh(unit)
    assert (unit.status, unit.sale_price) == (UnitStatus.GRADED, None)


# --- a wholesale lot ----------------------------------------------------------------------------
def test_the_spread_is_proportional_and_adds_up_to_the_cent():
    shares = spread(Decimal("1000.01"), [Decimal(300), Decimal(300), Decimal(200)])
    assert shares == [Decimal("375.00"), Decimal("375.00"), Decimal("250.01")]
    assert sum(shares) == Decimal("1000.01")
    assert spread(Decimal("100"), [Decimal(0)] * 3) == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]


def revised_unit(make_trade_in) -> Unit:
    """A unit whose buyer accepted a revised offer of 200.00 (the quote was 300.00)."""
    trade_in = make_trade_in(State.REOFFERED)
    actions.revised_offer_accept(offer=trade_in.revised_offers.get(), declaration=declared())
    unit = refresh(trade_in).unit
    assert refresh(trade_in.payout).amount == Decimal("200.00")
    return unit


def test_a_wholesale_lot_from_the_units_list_spreads_its_price_by_payout(make_trade_in, staff):
    units = [graded_unit(make_trade_in), graded_unit(make_trade_in), revised_unit(make_trade_in)]
    client = staff_client(staff)
    changelist = reverse("admin:workflows_unit_changelist")
    selected = {"action": "sell_lot", "_selected_action": [u.pk for u in units]}
    ask = client.post(changelist, selected).content.decode()
    assert "Sell 3 units as a wholesale lot" in ask and 'name="total"' in ask
    assert all(refresh(u).status == UnitStatus.GRADED for u in units)  # nothing sold yet

    page = client.post(changelist, {**selected, "total": "1000.01"}, follow=True).content.decode()
    assert "3 unit(s) sold as one wholesale lot" in page
    lot = SaleLot.objects.get()
    units = [refresh(u) for u in units]
    assert [u.sale_price for u in units] == [
        Decimal("375.00"),
        Decimal("375.00"),
        Decimal("250.01"),
    ]
    assert sum(u.sale_price for u in units) == lot.total == Decimal("1000.01")
    assert {(u.status, u.sale_channel, u.sale_lot_id, u.sold_on) for u in units} == {
        (UnitStatus.SOLD, "wholesale", lot.pk, timezone.localdate())
    }
    assert (
        Event.objects.filter(kind=EventKind.UNIT_SOLD, note__contains=f"lot {lot.pk}").count() == 3
    )


def test_a_lot_with_a_held_unit_sells_nothing_and_says_which(make_trade_in, staff, settings):
    settings.HOLD_DAYS, settings.POLICE_REPORT = 21, "off"
    free, held = graded_unit(make_trade_in), graded_unit(make_trade_in)
    free.trade_in.__class__.objects.filter(pk=free.trade_in_id).update(
        received_at=timezone.now() - timedelta(days=30)
    )
    with pytest.raises(TransitionRefused, match="police hold") as refused:
        actions.unit_sell_lot(units=[free, held], actor=staff, total="500")
    assert held.imei in refused.value.message
    assert {refresh(u).status for u in (free, held)} == {UnitStatus.GRADED}
    assert not SaleLot.objects.exists()


def test_a_lot_needs_the_unit_permission(make_trade_in, staff):
    from django.contrib.auth.models import User

    unit = graded_unit(make_trade_in)
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    with pytest.raises(TransitionRefused):
        actions.unit_sell_lot(units=[unit], actor=viewer, total="500")
    assert refresh(unit).status == UnitStatus.GRADED


# --- costs and margin ---------------------------------------------------------------------------
def test_the_sample_provider_records_its_demo_label_cost(make_trade_in, settings):
    settings.SAMPLE_LABEL_COST = Decimal("7.50")
    unit = graded_unit(make_trade_in)
    label = ShippingLabel.objects.get(trade_in=unit.trade_in)
    assert (label.cost, label.cost_currency) == (Decimal("7.50"), "USD")


def test_refurbishment_entries_add_up_and_the_unit_page_shows_costs_sale_and_margin(
    make_trade_in, staff, settings
):
    unit = graded_unit(make_trade_in)
    client = staff_client(staff)
    url = reverse("admin:workflows_unit_life", args=[unit.pk, "refurbish"])
    client.post(url, {"amount": "40.00", "note": "Screen"})
    client.post(url, {"amount": "25.5", "note": "45 min labour"})
    refused = client.post(url, {"amount": "0", "note": "nothing"}, follow=True).content.decode()
    assert "more than 0" in refused
    assert [c.amount for c in RefurbishmentCost.objects.filter(unit=unit)] == [
        Decimal("40.00"),
        Decimal("25.50"),
    ]
    rows = Event.objects.filter(trade_in=unit.trade_in, kind=EventKind.REFURBISHMENT_COST_ADDED)
    assert [e.note for e in rows] == [
        f"Unit {unit.imei}: $40.00, Screen",
        f"Unit {unit.imei}: $25.50, 45 min labour",
    ]
    sell_page(client, unit, price="500", channel="storefront")
    money = unit_money(refresh(unit))
    # 300.00 payout + 7.50 label + 65.50 refurbishment
    assert (money.payout, money.labels, money.refurbishment) == (
        Decimal("300.00"),
        Decimal("7.50"),
        Decimal("65.50"),
    )
    assert money.total_cost == Decimal("373.00") and money.margin == Decimal("127.00")
    page = client.get(reverse("admin:workflows_unit_change", args=[unit.pk])).content.decode()
    section = page[page.index('id="unit-money"') :]
    for shown in ("300.00", "7.50", "65.50", "373.00", "500.00", "127.00", "Storefront"):
        assert shown in section, shown


def test_a_voided_label_and_a_declined_payout_cost_nothing(make_trade_in, staff):
    unit = graded_unit(make_trade_in)
    answers.shipping_label_voided(label=ShippingLabel.objects.get(trade_in=unit.trade_in))
    assert unit_money(unit).labels == Decimal("0.00")
    rerouted = make_trade_in(State.REROUTED).unit
    assert unit_money(rerouted).payout == Decimal("0.00")


def test_refurbishment_needs_its_permission(make_trade_in, staff):
    from django.contrib.auth.models import User

    unit = graded_unit(make_trade_in)
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    with pytest.raises(TransitionRefused):
        actions.unit_add_refurbishment_cost(unit=unit, actor=viewer, amount="10")
    assert not RefurbishmentCost.objects.exists()
