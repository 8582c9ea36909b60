"""The staff side of orders (issue 20): the order page (every device in the box with its own
panel, the order's totals and timeline), the queue and the Orders list, with bounded queries."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.urls import reverse

from tests.helpers import declared, staff_client, submission
from workflows import actions
from workflows.models import Order, PayoutStatus, TradeIn
from workflows.selectors import orders as order_reads


def box(product, drain, n: int, **overrides) -> list[TradeIn]:
    """An order of n devices submitted by the basket's real action, IMEI checks run."""
    order = actions.order_submit(
        submissions=[submission(product, **overrides) for _ in range(n)],
        submission_key=uuid.uuid4().hex,
    )
    drain()
    return list(order.devices.order_by("position"))


def quote(device: TradeIn, staff, amount: str = "300.00"):
    return actions.trade_in_quote(trade_in=device, actor=staff, amount=amount)


def accept(device: TradeIn, staff, amount: str = "300.00") -> TradeIn:
    actions.trade_in_accept(quote=quote(device, staff, amount), declaration=declared())
    return TradeIn.objects.get(pk=device.pk)


def mixed_box(product, drain, staff) -> list[TradeIn]:
    """Device 1 accepted at 300, device 2 declined by staff, device 3 quoted at 250."""
    first, second, third = box(product, drain, 3)
    accept(first, staff)
    actions.trade_in_decline(trade_in=second, actor=staff, reason="Not buying these")
    quote(third, staff, "250.00")
    drain()
    return [TradeIn.objects.get(pk=d.pk) for d in (first, second, third)]


def test_it_totals_an_order_offered_accepted_paid(db, product, drain, staff):
    first, second, third = mixed_box(product, drain, staff)
    totals = order_reads.order_totals(first.order)
    assert totals.devices == 3
    assert totals.offered == Decimal("550.00")
    assert totals.accepted == Decimal("300.00")
    assert totals.paid == Decimal("0.00")
    assert order_reads.state_summary(order_reads.order_devices(first.order)) == (
        "1 quoted, 1 accepted, 1 declined"
    )


def test_a_cancelled_device_leaves_the_accepted_total(db, product, drain, staff):
    first, second = box(product, drain, 2)
    accept(first, staff)
    accept(second, staff, "120.00")
    assert order_reads.order_totals(first.order).accepted == Decimal("420.00")
    actions.trade_in_cancel(trade_in=second, actor=staff, reason="Never arrived")
    assert order_reads.order_totals(first.order).accepted == Decimal("300.00")
    assert second.payout.__class__.objects.get(trade_in=second).status == PayoutStatus.VOID


def test_the_order_timeline_merges_the_devices_events_newest_first(db, product, drain, staff):
    first, second, third = mixed_box(product, drain, staff)
    devices = order_reads.order_devices(first.order)
    timeline = order_reads.order_timeline(first.order, devices)
    events = [event for event, _ in timeline]
    assert len(events) == sum(d.events.count() for d in devices)
    assert [(e.created_at, e.pk) for e in events] == sorted(
        ((e.created_at, e.pk) for e in events), reverse=True
    )
    assert all(device.pk == event.trade_in_id for event, device in timeline)
    assert {device.pk for _, device in timeline} == {first.pk, second.pk, third.pk}


def test_the_order_page_shows_every_device_with_its_panel(db, product, drain, staff):
    first, second, third = mixed_box(product, drain, staff)
    page = staff_client(staff).get(reverse("admin:workflows_order_change", args=[first.order_id]))
    assert page.status_code == 200
    html = page.content.decode()
    for n, device in enumerate((first, second, third), start=1):
        assert f'id="device-{n}"' in html
        assert device.reference in html and device.imei in html
        assert reverse("admin:workflows_tradein_change", args=[device.pk]) in html
    assert "Accepted" in html and "Declined" in html and "Quoted" in html
    assert 'data-total="offered">$550.00' in html
    assert 'data-total="accepted">$300.00' in html
    assert 'data-total="paid">$0.00' in html
    assert "$300.00 · Pending" in html  # device 1's payout
    assert "Not buying these" in html  # device 2's decline, on the order's timeline
    assert "1 quoted, 1 accepted, 1 declined" in html


def test_the_order_page_shows_a_red_flag(db, product, drain, staff):
    from workflows.models import BlockedImei

    sub = submission(product)
    BlockedImei.objects.create(imei=sub.imei, reason=BlockedImei.Reason.BLACKLISTED)
    order = actions.order_submit(
        submissions=[sub, submission(product)], submission_key=uuid.uuid4().hex
    )
    drain()
    html = staff_client(staff).get(reverse("admin:workflows_order_change", args=[order.pk]))
    assert "RED FLAG: blacklisted" in html.content.decode()


def test_the_order_page_of_100_devices_stays_within_12_queries(
    db, product, drain, staff, settings, django_assert_max_num_queries
):
    settings.BASKET_MAX_DEVICES = 100  # a business's device list
    devices = box(product, drain, 100)
    for device in devices[:5]:
        accept(device, staff)
    url = reverse("admin:workflows_order_change", args=[devices[0].order_id])
    client = staff_client(staff)
    client.get(url)  # warm the session
    with django_assert_max_num_queries(12):
        page = client.get(url)
    html = page.content.decode()
    assert html.count('class="bo-card" id="device-') == 100
    assert devices[99].reference in html


def test_the_orders_list_shows_states_money_and_buyer(db, product, drain, staff):
    first, second, third = mixed_box(product, drain, staff)
    html = staff_client(staff).get("/dashboard/workflows/order/").content.decode()
    assert "1 quoted, 1 accepted, 1 declined" in html
    assert "$550.00" in html
    assert "ada@example.com" in html


def test_the_orders_list_filters_orders_waiting_for_a_quote_or_to_arrive(db, product, drain, staff):
    waiting_quote = box(product, drain, 2)[0].order
    on_its_way = box(product, drain, 1)[0]
    accept(on_its_way, staff)
    done = box(product, drain, 1)[0]
    actions.trade_in_decline(trade_in=done, actor=staff, reason="No")
    client = staff_client(staff)

    def listed(waiting: str) -> set[str]:
        html = client.get("/dashboard/workflows/order/", {"waiting": waiting}).content.decode()
        return {o.reference for o in Order.objects.all() if f">{o.reference}<" in html}

    assert listed("quote") == {waiting_quote.reference}
    assert listed("arrival") == {on_its_way.order.reference}


def test_the_queue_shows_each_devices_order_and_its_size(db, product, drain, staff):
    devices = box(product, drain, 3)
    single = box(product, drain, 1)[0]
    html = staff_client(staff).get("/dashboard/trade-ins/").content.decode()
    assert html.count(f"{devices[0].order.reference} · 3 devices") == 3
    assert f"{single.order.reference} · 1 device<" in html


def test_the_queue_counts_order_sizes_without_a_query_per_row(
    db, product, drain, staff, django_assert_max_num_queries
):
    box(product, drain, 2)
    client = staff_client(staff)
    client.get("/dashboard/trade-ins/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/dashboard/trade-ins/")
    for n in (3, 4, 5):
        box(product, drain, n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/dashboard/trade-ins/").content.decode()
    assert "· 5 devices" in html


# --- exports: a row per device, with its order ---------------------------------------------------
def test_the_payout_export_carries_each_devices_order(db, product, drain, staff, manager):
    from tests.test_import_export import export_csv

    devices = box(product, drain, 2)
    for device in devices:
        accept(device, staff)
    single = box(product, drain, 1)[0]
    accept(single, staff)
    rows = export_csv(staff_client(manager))
    by_ref = {row["Trade-in"]: row["Order"] for row in rows}
    assert by_ref == {
        devices[0].reference: devices[0].order.reference,
        devices[1].reference: devices[0].order.reference,
        single.reference: single.order.reference,
    }
    assert devices[0].reference != devices[0].order.reference  # numbered: TI-…-1


def test_the_police_report_carries_each_devices_order(db, product, drain, staff):
    from workflows.documents import police_report

    devices = box(product, drain, 2)
    client = staff_client(staff)
    for device in devices:
        accept(device, staff)
    from tests.helpers import intake_data

    for device in devices:
        client.post("/dashboard/intake/", intake_data(TradeIn.objects.get(pk=device.pk)))
    purchases = police_report.purchases(TradeIn.objects.filter(order=devices[0].order))
    lines = [police_report.Line(t, "purchase", _purchase(t)) for t in purchases]
    data, _shown = police_report.rows(lines)
    order_column = police_report.COLUMNS.index("order")
    reference_column = police_report.COLUMNS.index("reference")
    assert [(r[reference_column], r[order_column]) for r in data] == [
        (d.reference, d.order.reference) for d in devices
    ]


def _purchase(trade_in):
    from workflows.rules import compliance

    return compliance.purchase_now(trade_in)
