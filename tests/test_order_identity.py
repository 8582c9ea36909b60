"""The seller's photo ID is the order's (issue 20): given once, from the signed page of any
device of the order, it is the ID of every device: the payout of the whole order, the police
report's row of each device, the intake bench when the ID is asked at drop-off. A second one
is refused from any device; a manager's correction from any device is the next version of the
order's ID; erasing one device keeps the ID while another device of the order still needs it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.helpers import receive_as_disclosed as receive
from tests.helpers import refresh, staff_client
from tests.test_compliance import ID_NUMBER, an_id
from tests.test_order_payout import answered_box, pay_by_check
from workflows import actions
from workflows.actions import BUYER
from workflows.errors import TransitionRefused
from workflows.links import status_token
from workflows.models import (
    EventKind,
    IdNumberAccess,
    PayoutStatus,
    PoliceReport,
    PoliceReportRow,
    SellerIdentity,
    State,
    TradeIn,
)
from workflows.rules import compliance
from workflows.tasks.compliance import send_police_reports


def _posted_id(**overrides) -> dict:
    return {
        "id_type": "drivers_license",
        "id_number": ID_NUMBER,
        "issuer": "MD",
        "birth_date": "1990-04-23",
        "expires_on": (timezone.localdate() + timedelta(days=400)).isoformat(),
        "signature": "Ada Buyer",
        **overrides,
    }


def _buyer_gives_id(client, device: TradeIn) -> None:
    """The buyer fills in the signed ID page linked from this device's status page."""
    url = reverse("buyer_portal:identity", args=[status_token(device)])
    assert client.post(url, _posted_id(), REMOTE_ADDR="198.51.100.7").status_code == 302


def _csv(report: PoliceReport, folder) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((folder / report.filename).read_text()))
    return {row["reference"]: row for row in rows}


def test_it_pays_the_order_once_with_the_id_given_on_one_device(
    client, db, product, drain, staff, manager, settings
):
    settings.SELLER_ID_REQUIRED = "payout"
    first, second = answered_box(product, drain, staff, ["300.00", "250.00"])
    first, second = receive(first, staff), receive(second, staff)
    with pytest.raises(TransitionRefused, match="photo ID is required"):
        pay_by_check(second.payout, manager)
    # Both status pages ask for it before the ID is given ...
    for device in (first, second):
        page = client.get(f"/trade-in/status/{status_token(device)}/").content.decode()
        assert "Add your photo ID" in page

    _buyer_gives_id(client, first)

    # ... and neither asks once it is given on one of them.
    for device in (first, second):
        assert compliance.identity_missing(refresh(device), "payout") == ""
        page = client.get(f"/trade-in/status/{status_token(device)}/").content.decode()
        assert "Add your photo ID" not in page
    pay_by_check(second.payout, manager)  # one check pays both
    assert [refresh(d).payout.status for d in (first, second)] == [PayoutStatus.SETTLED] * 2
    assert [refresh(d).state for d in (first, second)] == [State.CLOSED] * 2
    assert SellerIdentity.objects.count() == 1


def test_the_id_is_recorded_once_per_order(client, db, product, drain, staff, settings):
    settings.SELLER_ID_REQUIRED = "payout"
    first, second = answered_box(product, drain, staff, ["300.00", "250.00"])
    _buyer_gives_id(client, first)

    # Device 2's page shows the order's ID and takes no second one.
    url = reverse("buyer_portal:identity", args=[status_token(second)])
    shown = client.get(url).content.decode()
    assert "your ID is recorded" in shown and "•••• 9876" in shown
    again = client.post(url, _posted_id(id_number="Z999 1111"))
    assert again.status_code == 409
    with pytest.raises(TransitionRefused, match="already recorded"):
        actions.seller_identity_record(
            trade_in=second,
            actor=BUYER,
            data=an_id(id_type="passport", id_number="Z999 1111", issuer="Canada"),
        )
    # Staff at the counter on device 2 are refused too (only a manager corrects it).
    refused = staff_client(staff).post(
        reverse("admin:tradein_compliance", args=[second.pk, "identity"]),
        _posted_id(id_number="Z999 1111"),
        follow=True,
    )
    assert "Only a manager" in refused.content.decode()
    assert SellerIdentity.objects.count() == 1
    # Device 2's staff page shows the order's ID and where it was given.
    page = staff_client(staff).get(reverse("admin:workflows_tradein_change", args=[second.pk]))
    assert f"The order's ID, recorded on {first.reference}" in page.content.decode()


def _reported_box(client, product, drain, staff, settings, tmp_path) -> tuple[TradeIn, TradeIn]:
    """Two devices of one order, the order's ID given by the buyer on device 1, both received
    and in one police report (written to tmp_path)."""
    settings.SELLER_ID_REQUIRED = "payout"
    settings.POLICE_REPORT, settings.POLICE_REPORT_DIR = "folder", tmp_path
    settings.POLICE_REPORT_EVERY_HOURS = 0
    first, second = answered_box(product, drain, staff, ["300.00", "250.00"])
    _buyer_gives_id(client, first)
    first, second = receive(first, staff), receive(second, staff)
    assert send_police_reports() == 2
    drain()
    return first, second


def test_the_police_report_rows_of_every_device_carry_the_orders_id(
    client, db, product, drain, staff, manager, settings, tmp_path
):
    first, second = _reported_box(client, product, drain, staff, settings, tmp_path)

    rows = _csv(PoliceReport.objects.get(), tmp_path)
    assert {ref: row["id_number"] for ref, row in rows.items()} == {
        first.reference: ID_NUMBER,
        second.reference: ID_NUMBER,
    }
    assert set(PoliceReportRow.objects.values_list("id_version", flat=True)) == {1}
    # The file's every whole number is on the audit trail: one per row that shows it.
    assert IdNumberAccess.objects.count() == 2

    # The manager's daily CSV: the same, each export on the timeline of the row's device.
    daily = staff_client(manager).get(
        reverse("admin:police_daily_export"), {"day": timezone.localdate().isoformat()}
    )
    rows = list(csv.DictReader(io.StringIO(daily.content.decode())))
    assert [(r["reference"], r["id_number"]) for r in rows] == [
        (first.reference, ID_NUMBER),
        (second.reference, ID_NUMBER),
    ]
    for device in (first, second):
        assert device.events.filter(kind=EventKind.ID_NUMBER_VIEWED).count() == 1


def test_a_managers_correction_from_another_device_is_the_orders_next_version(
    client, db, product, drain, staff, manager, settings, tmp_path
):
    first, second = _reported_box(client, product, drain, staff, settings, tmp_path)
    reported = PoliceReport.objects.get()

    # From device 2's page, a manager corrects the ID recorded on device 1.
    response = staff_client(manager).post(
        reverse("admin:tradein_compliance", args=[second.pk, "identity"]),
        {**_posted_id(id_number="D123 4567"), "reason": "Digits swapped at entry"},
    )
    assert response.status_code == 302
    new = SellerIdentity.objects.get(version=2)
    assert new.trade_in == second and new.correction_reason == "Digits swapped at entry"
    for device in (first, second):
        device = refresh(device)
        assert compliance.identity_of(device) == new
        assert [v.version for v in compliance.identity_versions(device)] == [2, 1]
    assert second.events.filter(kind=EventKind.IDENTITY_CORRECTED).exists()

    # Both devices' purchases go to the police again with the corrected ID.
    assert send_police_reports() == 2
    drain()
    rows = _csv(PoliceReport.objects.exclude(pk=reported.pk).get(), tmp_path)
    assert {ref: (r["row_type"], r["id_number"]) for ref, r in rows.items()} == {
        first.reference: ("correction", "D123 4567"),
        second.reference: ("correction", "D123 4567"),
    }
    assert all("seller's ID corrected" in r["change"] for r in rows.values())
    assert send_police_reports() == 0

    # A second correction, from device 1 this time: version 3, still counting up order-wide.
    actions.seller_identity_correct(
        trade_in=first,
        actor=manager,
        data=an_id(id_number="D123 4568", signature=""),
        reason="One more digit",
    )
    assert compliance.current_identity(refresh(second)).version == 3
    assert sorted(SellerIdentity.objects.values_list("trade_in", "version")) == [
        (first.pk, 1),
        (first.pk, 3),
        (second.pk, 2),
    ]

    # The whole number of an earlier version, revealed from device 2's page.
    reveal = staff_client(manager).post(
        reverse("admin:tradein_compliance", args=[second.pk, "reveal"]),
        {"purpose": "Police enquiry", "version": "1"},
    )
    assert reveal.status_code == 200 and ID_NUMBER in reveal.content.decode()
    access = IdNumberAccess.objects.get(purpose="Police enquiry")
    assert access.identity.version == 1 and access.identity.trade_in == first
    assert second.events.filter(kind=EventKind.ID_NUMBER_VIEWED).count() == 1


def test_at_drop_off_the_id_given_on_one_device_lets_the_bench_receive_every_device(
    client, db, product, drain, staff, settings
):
    settings.SELLER_ID_REQUIRED = "dropoff"
    first, second = answered_box(product, drain, staff, ["300.00", "250.00"])
    bench = staff_client(staff)
    from tests.helpers import intake_data

    refused = bench.post("/dashboard/intake/", intake_data(second), follow=True)
    assert "photo ID is required" in refused.content.decode()
    assert refresh(second).state == State.ACCEPTED

    _buyer_gives_id(client, first)
    bench.post("/dashboard/intake/", intake_data(refresh(second)))
    assert refresh(second).state == State.RECEIVED


def test_the_police_report_reads_the_orders_id_without_a_query_per_row(
    client, db, product, drain, staff, settings
):
    settings.SELLER_ID_REQUIRED = "payout"
    from workflows.documents import police_report

    def timed(devices) -> int:
        _buyer_gives_id(client, devices[-1])  # on the last device: every row must find it
        for device in devices:
            receive(device, staff)
        queryset = TradeIn.objects.filter(order=devices[0].order)
        with CaptureQueriesContext(connection) as queries:
            lines = [
                police_report.Line(t, "purchase", compliance.purchase_now(t))
                for t in police_report.purchases(queryset)
            ]
            data, shown = police_report.rows(lines)
        assert [row[police_report.COLUMNS.index("id_number")] for row in data] == [ID_NUMBER] * len(
            devices
        )
        assert len(shown) == len(devices)
        return len(queries.captured_queries)

    one = timed(answered_box(product, drain, staff, ["300.00"]))
    four = timed(answered_box(product, drain, staff, ["300.00", "250.00", "99.00", "80.00"]))
    assert four == one


def test_the_orders_id_is_erased_with_the_order_once_every_device_allows_it(
    client, db, product, drain, staff, manager, settings
):
    settings.SELLER_ID_REQUIRED = "payout"
    settings.POLICE_REPORT, settings.HOLD_DAYS = "off", 0
    first, second = answered_box(product, drain, staff, ["300.00", "250.00"])
    _buyer_gives_id(client, first)
    second = receive(second, staff)
    actions.trade_in_cancel(trade_in=first, actor=staff, reason="Never arrived")
    pay_by_check(second.payout, manager)

    # Device 1 (cancelled, nothing bought) may go, but device 2's purchase record is kept for
    # its retention period, the ID recorded on device 1 with it: the order's data waits.
    with pytest.raises(TransitionRefused, match=second.reference):
        actions.buyer_erase(trade_in=first, actor=manager, reason="Email of 3 May")
    assert compliance.identity_of(refresh(second)).id_number_encrypted

    # Once device 2's retention is over, one erasure takes the order's data and its ID.
    past = timezone.now() - timedelta(days=settings.RETENTION_DAYS + 1)
    TradeIn.objects.filter(pk=second.pk).update(received_at=past, updated_at=past)
    actions.buyer_erase(trade_in=first, actor=manager, reason="Email of 3 May")
    identity = SellerIdentity.objects.get()
    assert identity.anonymised_at is not None and identity.id_number_encrypted == ""
    for device in (first, second):
        assert compliance.identity_of(refresh(device)) is None
        assert refresh(device).anonymised_at is not None
    assert refresh(first).buyer_name == "anonymised"
