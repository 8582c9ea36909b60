"""The bench and a box of several devices (issue 20): a scan of any device's IMEI finds its
order and shows the rest of the box; a device missing from the box is asked about ("still
coming" or "cancel this device") and, after the arrival window, cancelled alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.helpers import intake_data, staff_client
from tests.test_order_staff import accept, box
from workflows.models import Payout, PayoutStatus, State, TradeIn, Unit, UnitStatus
from workflows.models.inventory import STOCKED_STATUSES
from workflows.tasks.sweeps import cancel_unarrived_devices

BENCH = "/dashboard/intake/"


def accepted_box(product, drain, staff, n: int = 3) -> list[TradeIn]:
    devices = [accept(d, staff) for d in box(product, drain, n)]
    drain()
    return devices


def stock_is_units(product) -> None:
    product.refresh_from_db()
    assert (
        product.stock == Unit.objects.filter(product=product, status__in=STOCKED_STATUSES).count()
    )


def test_a_scan_shows_the_rest_of_the_box(db, product, drain, staff):
    first, second, third = accepted_box(product, drain, staff)
    client = staff_client(staff)
    client.post(BENCH, intake_data(first, grade="B"))
    page = client.get(BENCH, {"imei": second.imei}).content.decode()
    assert 'id="intake-box"' in page
    assert f"The rest of the box: order {first.order.reference} (this is device 2)" in page
    assert f"Device 1 ({product}) · {first.reference} · <strong>received" in page
    assert f"Device 3 ({product}) · {third.reference} · <strong>expected" in page
    assert f"Device 3 ({product}) is not in this box yet." in page
    assert 'id="missing-1"' not in page and 'id="missing-3"' in page
    assert "Still coming" in page and "Cancel this device" in page


def test_receiving_one_device_shows_what_else_is_expected(db, product, drain, staff):
    first, second, third = accepted_box(product, drain, staff)
    response = staff_client(staff).post(BENCH, intake_data(first, grade="B"), follow=True)
    page = response.content.decode()
    assert 'id="missing-2"' in page and 'id="missing-3"' in page


def test_still_coming_changes_nothing(db, product, drain, staff):
    first, second = accepted_box(product, drain, staff, 2)
    page = staff_client(staff).get(BENCH, {"imei": first.imei, "coming": second.pk}).content
    assert b"is still coming: nothing was changed" in page
    assert TradeIn.objects.get(pk=second.pk).state == State.ACCEPTED


def test_cancel_this_device_cancels_it_alone(db, product, drain, staff):
    first, second, third = accepted_box(product, drain, staff)
    client = staff_client(staff)
    client.post(BENCH, intake_data(first, grade="B"))
    client.post(BENCH, intake_data(second, grade="B"))
    back = f"{BENCH}?imei={second.imei}"
    response = client.post(
        reverse("admin:intake_cancel_missing"),
        {"trade_in": third.pk, "reason": "Not in the box", "back": back},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == back
    assert "cancelled: out of stock" in response.content.decode()
    states = dict(TradeIn.objects.filter(order=first.order).values_list("pk", "state"))
    assert states == {
        first.pk: State.RECEIVED,
        second.pk: State.RECEIVED,
        third.pk: State.CANCELLED,
    }
    assert Payout.objects.get(trade_in=third).status == PayoutStatus.VOID
    assert Unit.objects.get(trade_in=third).status == UnitStatus.VOID
    assert {p.status for p in Payout.objects.filter(trade_in__in=[first, second])} == {
        PayoutStatus.PENDING
    }
    assert third.events.filter(note="Not in the box").exists()
    stock_is_units(product)
    assert Unit.objects.filter(product=product, status__in=STOCKED_STATUSES).count() == 2


def test_cancel_needs_a_reason_and_an_open_device(db, product, drain, staff):
    first, second = accepted_box(product, drain, staff, 2)
    client = staff_client(staff)
    url = reverse("admin:intake_cancel_missing")
    page = client.post(url, {"trade_in": second.pk, "reason": ""}, follow=True).content
    assert b"Please give a reason" in page
    client.post(BENCH, intake_data(second, grade="B"))
    page = client.post(url, {"trade_in": second.pk, "reason": "gone"}, follow=True).content
    assert TradeIn.objects.get(pk=second.pk).state == State.RECEIVED
    assert b"cancelled: out of stock" not in page
    # Somewhere else than the back office is never a place to go back to.
    response = client.post(url, {"trade_in": first.pk, "reason": "x", "back": "https://evil.test/"})
    assert response["Location"] == BENCH
    assert client.get(url).status_code == 405


# The bench's scan of a one-device order on main before the box existed (session, user, the
# match with its unit, the sidebar badges, today's labels, ...).
SCAN_QUERIES = 8


def test_a_one_device_order_shows_no_box_and_costs_no_query_more(
    db, product, drain, staff, make_trade_in
):
    single = make_trade_in(State.ACCEPTED)
    client = staff_client(staff)
    client.get(BENCH, {"imei": single.imei})
    with CaptureQueriesContext(connection) as scan:
        page = client.get(BENCH, {"imei": single.imei}).content.decode()
    assert 'id="intake-box"' not in page and 'id="intake-match"' in page
    # Measured on main before the box existed: the bench's scan of a one-device order.
    assert len(scan.captured_queries) == SCAN_QUERIES


def test_the_arrival_sweep_cancels_the_missing_device_alone(db, product, drain, staff, settings):
    first, second, third = accepted_box(product, drain, staff)
    client = staff_client(staff)
    client.post(BENCH, intake_data(first, grade="B"))
    client.post(BENCH, intake_data(second, grade="B"))
    # The window passes for all three (accepted together); only the missing one is cancelled.
    TradeIn.objects.filter(order=first.order).update(
        accepted_at=timezone.now() - timedelta(days=settings.ARRIVAL_WINDOW_DAYS + 1)
    )
    assert cancel_unarrived_devices() == 1
    states = dict(TradeIn.objects.filter(order=first.order).values_list("pk", "state"))
    assert states == {
        first.pk: State.RECEIVED,
        second.pk: State.RECEIVED,
        third.pk: State.CANCELLED,
    }
    assert Payout.objects.get(trade_in=third).status == PayoutStatus.VOID
    assert Payout.objects.get(trade_in=first).status == PayoutStatus.PENDING
    assert Payout.objects.get(trade_in=second).status == PayoutStatus.PENDING
    stock_is_units(product)


def test_the_sweep_leaves_a_box_still_inside_its_window(db, product, drain, staff):
    devices = accepted_box(product, drain, staff, 2)
    assert cancel_unarrived_devices() == 0
    assert {d.state for d in TradeIn.objects.filter(pk__in=[d.pk for d in devices])} == {
        State.ACCEPTED
    }


@pytest.mark.parametrize("n", [2])
def test_a_scan_of_any_device_finds_its_order(db, product, drain, staff, n):
    devices = accepted_box(product, drain, staff, n)
    client = staff_client(staff)
    for device in devices:
        page = client.get(BENCH, {"imei": device.imei}).content.decode()
        assert device.order.reference in page and 'id="intake-box"' in page


def test_a_scan_of_a_device_already_received_still_shows_its_box(db, product, drain, staff):
    first, second = accepted_box(product, drain, staff, 2)
    client = staff_client(staff)
    client.post(BENCH, intake_data(first, grade="B"))
    page = client.get(BENCH, {"imei": first.imei}).content.decode()
    assert "was already received" in page
    assert 'id="missing-2"' in page and "Cancel this device" in page


def test_a_refused_receive_still_shows_the_box_with_working_links(db, product, drain, staff):
    first, second = accepted_box(product, drain, staff, 2)
    data = intake_data(first, grade="B")
    data["scanned_imei"] = second.imei  # not this device's IMEI: refused, the page again
    response = staff_client(staff).post(BENCH, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="missing-2"' in page
    assert f'href="{BENCH}?coming={second.pk}"' in page
    assert TradeIn.objects.get(pk=first.pk).state == State.ACCEPTED
