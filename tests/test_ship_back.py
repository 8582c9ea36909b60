"""Nothing left on a shelf (issue 18, found in the walk): every device that must go back to its
buyer gets one entry in "To ship back" (label or counter pickup, packed, shipped with tracking)
until the carrier confirms delivery or the buyer collects it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.helpers import refresh, staff_client
from workflows import actions
from workflows.actions.answers import shipping_label_tracking_record
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    Direction,
    EventKind,
    RevisedOffer,
    ShipBack,
    ShipBackStatus,
    State,
    UnitStatus,
)
from workflows.tasks.sweeps import apply_revised_offer_defaults

LIST = "admin:workflows_shipback_changelist"


def _declined(make_trade_in, drain, **overrides):
    trade_in = make_trade_in(State.REOFFERED, **overrides)
    actions.revised_offer_decline(offer=trade_in.revised_offers.get())
    drain()  # the return label (or the pickup email)
    return refresh(trade_in)


def test_every_flow_that_sends_a_device_back_puts_it_on_the_list(
    make_trade_in, drain, staff, settings
):
    declined = _declined(make_trade_in, drain)
    settings.REVISED_OFFER_DEFAULT = "return"
    lapsed = make_trade_in(State.REOFFERED)
    RevisedOffer.objects.filter(trade_in=lapsed).update(respond_by=timezone.now())
    apply_revised_offer_defaults()
    rerouted = make_trade_in(State.REROUTED)
    actions.return_case_resolve(
        case=rerouted.return_case, actor=staff, resolution="returned", note="Buyer wants it"
    )
    drain()
    for trade_in in (declined, lapsed, rerouted):
        ship_back = ShipBack.objects.get(trade_in=trade_in)
        assert ship_back.status == ShipBackStatus.TO_PACK
        assert ship_back.unit.status == UnitStatus.RETURNED
        label = trade_in.labels.get(direction=Direction.TO_BUYER)
        assert ship_back.label == label and ship_back.tracking_number == label.tracking_number
    page = staff_client(staff).get(reverse(LIST)).content.decode()
    for trade_in in (declined, lapsed, rerouted):
        assert trade_in.reference in page and trade_in.imei in page
    assert page.count("Label PDF") == 3


def test_a_drop_off_buyer_collects_it_at_the_counter(make_trade_in, drain, staff):
    trade_in = _declined(make_trade_in, drain, fulfilment="pickup", postcode="62702")
    ship_back = trade_in.ship_back
    assert ship_back.counter_pickup and ship_back.label is None
    client = staff_client(staff)
    assert "counter pickup" in client.get(reverse(LIST)).content.decode()
    with pytest.raises(TransitionRefused, match="collected at the counter"):
        actions.ship_back_ship(ship_back=ship_back, actor=staff, tracking_number="1Z999")
    step = "admin:workflows_shipback_step"
    client.post(reverse(step, args=[ship_back.pk, "pack"]))
    client.post(reverse(step, args=[ship_back.pk, "collect"]), {"note": "Showed her licence"})
    assert refresh(ship_back).status == ShipBackStatus.COLLECTED
    assert trade_in.reference not in client.get(reverse(LIST)).content.decode()
    kinds = set(trade_in.events.values_list("kind", flat=True))
    assert {EventKind.SHIP_BACK_PACKED, EventKind.SHIP_BACK_COLLECTED} <= kinds


def test_packed_shipped_with_tracking_and_on_the_list_until_delivered(make_trade_in, drain, staff):
    trade_in = _declined(make_trade_in, drain)
    ship_back = trade_in.ship_back
    client = staff_client(staff)
    step = "admin:workflows_shipback_step"
    # Not shipped before it is packed, nor without a tracking number.
    client.post(reverse(step, args=[ship_back.pk, "ship"]), {"tracking_number": "9400X"})
    assert refresh(ship_back).status == ShipBackStatus.TO_PACK
    client.post(reverse(step, args=[ship_back.pk, "pack"]))
    assert refresh(ship_back).status == ShipBackStatus.PACKED
    with pytest.raises(InvalidInput, match="tracking number"):
        actions.ship_back_ship(ship_back=ship_back, actor=staff, tracking_number=" ")
    client.post(
        reverse(step, args=[ship_back.pk, "ship"]),
        {"tracking_number": ship_back.tracking_number, "carrier": "USPS"},
    )
    ship_back = refresh(ship_back)
    assert ship_back.status == ShipBackStatus.SHIPPED and ship_back.shipped_by == staff
    assert trade_in.reference in client.get(reverse(LIST)).content.decode()

    # The carrier's word: in transit keeps it on the list, delivered takes it off.
    shipping_label_tracking_record(label=ship_back.label, status_code="IT", description="Moving")
    assert refresh(ship_back).status == ShipBackStatus.SHIPPED
    shipping_label_tracking_record(
        label=ship_back.label, status_code="DE", description="Delivered, front door"
    )
    assert refresh(ship_back).status == ShipBackStatus.DELIVERED
    assert trade_in.reference not in client.get(reverse(LIST)).content.decode()
    notes = dict(trade_in.events.values_list("kind", "note"))
    assert "Delivered, front door" in notes[EventKind.SHIP_BACK_DELIVERED]
    assert ship_back.tracking_number in notes[EventKind.SHIP_BACK_SHIPPED]


def test_the_trade_in_page_sends_staff_to_the_ship_back_entry(make_trade_in, drain, staff):
    trade_in = _declined(make_trade_in, drain)
    client = staff_client(staff)
    url = reverse("admin:workflows_tradein_change", args=[trade_in.pk])
    page = client.get(url).content.decode()
    assert "Nothing for you to do" not in page
    assert reverse("admin:workflows_shipback_change", args=[trade_in.ship_back.pk]) in page
    # The return label has its own card, not the inbound "Shipping label" card.
    inbound = trade_in.labels.get(direction=Direction.TO_SHOP)
    ret = trade_in.labels.get(direction=Direction.TO_BUYER)
    shipping_card = page[page.index("<h2>Shipping label") :]
    shipping_card = shipping_card[: shipping_card.index("</section>")]
    assert inbound.label_id in shipping_card and ret.label_id not in shipping_card
    assert 'id="return-shipment"' in page
    # The trade-in's label link is still the buyer's inbound label; the return one is apart.
    pdf = client.get(reverse("admin:workflows_shipback_label", args=[trade_in.ship_back.pk]))
    assert pdf["Content-Type"] == "application/pdf" and bytes(pdf.content) == bytes(ret.pdf)
    # Once it was handed over, there is nothing left to do.
    ship_back = trade_in.ship_back
    actions.ship_back_pack(ship_back=ship_back, actor=staff)
    actions.ship_back_ship(ship_back=ship_back, actor=staff, tracking_number="9400111")
    actions.ship_back_confirm_delivery(ship_back=ship_back, actor=staff, note="USPS site: DE")
    assert "Nothing for you to do" in client.get(url).content.decode()


def test_the_dashboard_and_the_sidebar_count_what_is_still_to_ship(make_trade_in, drain, staff):
    client = staff_client(staff)
    _declined(make_trade_in, drain)
    _declined(make_trade_in, drain)
    page = client.get(reverse("admin:index")).content.decode()
    card = f'<a class="bo-card bo-stat" href="{reverse(LIST)}">'
    assert card in page
    assert '<span class="bo-muted">To ship back</span><strong>2</strong>' in page
    # The sidebar's link carries the same count as its badge.
    sidebar = page[: page.index(card)]
    link = sidebar[sidebar.index(f'href="{reverse(LIST)}"') :][:1500]
    assert re.search(r">\s*2\s*<", link)


def test_a_hand_confirmed_delivery_needs_a_note(make_trade_in, drain, staff):
    ship_back = _declined(make_trade_in, drain).ship_back
    actions.ship_back_pack(ship_back=ship_back, actor=staff)
    actions.ship_back_ship(ship_back=ship_back, actor=staff, tracking_number="9400111")
    with pytest.raises(InvalidInput, match="how you know"):
        actions.ship_back_confirm_delivery(ship_back=ship_back, actor=staff, note="")
    assert refresh(ship_back).status == ShipBackStatus.SHIPPED
    assert timezone.now() - refresh(ship_back).shipped_at < timedelta(minutes=1)


def test_devices_returned_before_the_list_existed_get_their_entry(make_trade_in, drain):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("workflows.migrations.0022_hold_revision_reason_and_ship_back")
    waiting, delivered = _declined(make_trade_in, drain), _declined(make_trade_in, drain)
    delivered.labels.filter(direction=Direction.TO_BUYER).update(tracking_status="DE")
    ShipBack.objects.all().delete()  # as before this list existed
    migration.open_ship_backs(apps, None)
    assert ShipBack.objects.get(trade_in=waiting).status == ShipBackStatus.TO_PACK
    assert ShipBack.objects.get(trade_in=delivered).status == ShipBackStatus.DELIVERED
    assert ShipBack.objects.get(trade_in=waiting).label is not None


def test_the_unit_page_points_to_the_ship_back_entry(make_trade_in, drain, staff):
    trade_in = _declined(make_trade_in, drain)
    url = reverse("admin:workflows_unit_change", args=[trade_in.unit.pk])
    page = staff_client(staff).get(url).content.decode()
    assert reverse("admin:workflows_shipback_change", args=[trade_in.ship_back.pk]) in page
