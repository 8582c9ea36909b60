"""An attacker's audit of orders of several devices (issue 20), each attack a real request
where there is one: a buyer's signed link used on another order, replayed or submitted twice;
another order's label or receipt; staff paying or approving their own change; paying an order
twice, or while a device is undecided; the intake bench given another order's device; business
uploads built to hurt (tiny files that unpack to millions of cells, blank-line floods, many
sheets, duplicate IMEIs, a renamed file). Every one must leave money, stock and records as
they were, with a clear message."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import test_order_offers
from tests.factories import valid_imei
from tests.helpers import (
    declaration_post,
    intake_data,
    receive_as_disclosed,
    refresh,
    staff_client,
)
from tests.test_business_portal import DETAILS, UPLOAD
from tests.test_compliance import _received_with_id
from tests.test_device_list_orders import device_csv
from tests.test_import_export import HOSTILE_NAMES
from tests.test_order_offers import quote
from tests.test_order_payout import answered_box
from workflows import actions
from workflows.documents import police_report
from workflows.errors import InvalidInput, TransitionRefused
from workflows.formatting import neutralise
from workflows.integrations import payments
from workflows.links import order_offer_token, status_token
from workflows.models import (
    Event,
    EventKind,
    Order,
    Payout,
    PayoutDetailChange,
    PayoutStatus,
    ShippingLabel,
    SideEffect,
    State,
    StripeAccount,
    TradeIn,
    Unit,
)
from workflows.rules.device_list import read_device_list
from workflows.rules.sheets import XLSX_MAX_COLUMNS, sheet_rows

# The order-offer tests' fixtures: a submitted order, and one whose devices are all quoted.
basket = test_order_offers.basket
quoted = test_order_offers.quoted


def _answer_url(order, quotes) -> str:
    return reverse(
        "buyer_portal:order_offer_answer", args=[order_offer_token(order, [q.pk for q in quotes])]
    )


def _snapshot():
    """Everything an attack must not move: states, payouts, units, labels, side effects."""
    return (
        sorted(TradeIn.objects.values_list("pk", "state")),
        sorted(Payout.objects.values_list("pk", "status", "amount")),
        sorted(Unit.objects.values_list("pk", "status")),
        ShippingLabel.objects.count(),
        SideEffect.objects.count(),
    )


# --- the buyer's order link --------------------------------------------------------------------
def test_one_orders_link_cannot_answer_another_orders_devices(quoted):
    order, quotes, (a, b) = quoted(2)
    other_order, other_quotes, (x, y) = quoted(2)
    before = _snapshot()
    # The other order's device ids in the POST, this order's own left unanswered.
    response = Client().post(
        _answer_url(order, quotes),
        {f"answer-{x.pk}": "accept", f"answer-{y.pk}": "accept", **declaration_post()},
    )
    assert response.status_code == 400
    assert "Please choose accept or decline." in response.content.decode()
    assert _snapshot() == before
    # "Accept all" on this order's link with the other order's ids tacked on: only this order.
    response = Client().post(
        _answer_url(order, quotes),
        {"accept_all": "1", f"answer-{x.pk}": "accept", **declaration_post()},
    )
    assert response.status_code == 302
    assert [refresh(d).state for d in (a, b)] == [State.ACCEPTED, State.ACCEPTED]
    assert [refresh(d).state for d in (x, y)] == [State.QUOTED, State.QUOTED]
    assert not Payout.objects.filter(trade_in__in=(x, y)).exists()


def test_a_link_naming_another_orders_quotes_is_refused(quoted):
    order, quotes, _devices = quoted(2)
    _other, other_quotes, _others = quoted(2)
    before = _snapshot()
    # A token is signed, so the attacker cannot make one; even one signed for the wrong pair
    # (order, quotes) is refused as a whole.
    response = Client().post(
        _answer_url(order, other_quotes), {"accept_all": "1", **declaration_post()}
    )
    assert response.status_code == 404
    assert _snapshot() == before


def test_a_double_submit_and_an_old_link_after_a_re_quote_change_nothing(quoted, staff, drain):
    order, quotes, (a, b) = quoted(2)
    post = {"accept_all": "1", **declaration_post()}
    assert Client().post(_answer_url(order, quotes), post).status_code == 302
    drain()
    before = _snapshot()
    again = Client().post(_answer_url(order, quotes), post)
    assert again.status_code == 410
    assert "already answered" in again.content.decode()
    assert _snapshot() == before
    assert Event.objects.filter(trade_in=a, kind=EventKind.ACCEPTED).count() == 1

    # Another order: the link of the first quotes, replayed after staff re-quoted one device.
    order, quotes, (c, d) = quoted(2)
    quote(d, staff, "60.00")
    drain()
    before = _snapshot()
    replay = Client().post(_answer_url(order, quotes), post)
    assert replay.status_code == 410
    assert "replaced by a newer one" in replay.content.decode()
    assert _snapshot() == before
    assert [refresh(x).state for x in (c, d)] == [State.QUOTED, State.QUOTED]


def test_a_device_staff_declined_after_the_page_opened_is_not_bought(quoted, staff):
    order, quotes, (a, b, c) = quoted(3)
    actions.trade_in_decline(trade_in=c, actor=staff, reason="Blacklisted after all")
    response = Client().post(
        _answer_url(order, quotes),
        {
            f"answer-{a.pk}": "accept",
            f"answer-{b.pk}": "accept",
            f"answer-{c.pk}": "accept",  # what the buyer saw on the page they opened
            **declaration_post(),
        },
    )
    assert response.status_code == 302
    assert [refresh(d).state for d in (a, b, c)] == [
        State.ACCEPTED,
        State.ACCEPTED,
        State.DECLINED,
    ]
    assert not Payout.objects.filter(trade_in=c).exists()
    assert not Unit.objects.filter(trade_in=c).exists()


def test_the_declined_devices_quote_cannot_be_accepted_through_the_action_either(quoted, staff):
    order, quotes, (a, b) = quoted(2)
    actions.trade_in_decline(trade_in=b, actor=staff, reason="Blacklisted after all")
    before = _snapshot()
    with pytest.raises(Exception, match="already answered"):
        actions.order_answer(order=order, quotes=quotes, accept=[a, b], decline={})
    assert _snapshot() == before


# --- another order's label and receipt -----------------------------------------------------------
def test_a_status_link_gives_its_own_orders_label_and_receipt_only(db, product, drain, staff):
    mine = answered_box(product, drain, staff, ["100.00", "50.00"])
    theirs = answered_box(product, drain, staff, ["300.00", "200.00"])
    my_label = ShippingLabel.objects.get(trade_in__order=mine[0].order)
    their_label = ShippingLabel.objects.get(trade_in__order=theirs[0].order)
    assert bytes(my_label.pdf) != bytes(their_label.pdf) or my_label.pk != their_label.pk
    client = Client()
    label = client.get(reverse("buyer_portal:label", args=[status_token(mine[1])]))
    assert label.status_code == 200 and label.content == bytes(my_label.pdf)
    # Their receipt, asked for with my device's link.
    receipt = client.get(
        reverse(
            "buyer_portal:order_receipt",
            args=[theirs[0].order.reference, status_token(mine[0])],
        )
    )
    assert receipt.status_code == 404
    # A status link with the order-offer salt (another kind of link of the same order).
    forged = order_offer_token(theirs[0].order, [theirs[0].latest_quote().pk])
    assert client.get(reverse("buyer_portal:label", args=[forged])).status_code == 404


# --- staff and money ---------------------------------------------------------------------------
def _received_box(product, drain, staff, offers=("300.00", "120.00")):
    devices = answered_box(product, drain, staff, list(offers))
    return [receive_as_disclosed(device, staff) for device in devices]


def test_staff_cannot_pay_an_order_through_the_page(db, product, drain, staff):
    first, second = _received_box(product, drain, staff)
    before = _snapshot()
    response = staff_client(staff).post(
        reverse("admin:workflows_payout_settle", args=[first.payout.pk]),
        {"check_number": "77", "check_date": "2026-12-05"},
        follow=True,
    )
    assert response.status_code in (200, 403)
    assert _snapshot() == before
    assert {refresh(d.payout).status for d in (first, second)} == {PayoutStatus.PENDING}


def test_a_manager_paying_twice_through_the_page_pays_once(db, product, drain, staff, manager):
    first, second = _received_box(product, drain, staff)
    office = staff_client(manager)
    url = reverse("admin:workflows_payout_settle", args=[second.payout.pk])
    office.post(url, {"check_number": "77", "check_date": "2026-12-05"})
    before = _snapshot()
    again = office.post(
        reverse("admin:workflows_payout_settle", args=[first.payout.pk]),
        {"check_number": "78", "check_date": "2026-12-05"},
        follow=True,
    )
    assert "settled" in again.content.decode()
    assert _snapshot() == before
    refs = set(Payout.objects.values_list("settlement_reference", flat=True))
    assert refs == {"check 77 dated 2026-12-05"}


def test_paying_while_a_device_is_in_returns_or_on_its_way(db, product, drain, staff, manager):
    first, second, third = answered_box(product, drain, staff, ["300.00", "120.00", "50.00"])
    first, second = receive_as_disclosed(first, staff), receive_as_disclosed(second, staff)
    actions.trade_in_reroute(trade_in=second, actor=staff, reason="Water inside")
    before = _snapshot()
    with pytest.raises(TransitionRefused, match="in Returns|has not arrived"):
        actions.payout_settle_check(
            payout=first.payout, actor=manager, check_number="1", check_date=date(2026, 12, 5)
        )
    assert _snapshot() == before


def test_paying_after_a_device_was_cancelled_pays_only_what_came(
    db, product, drain, staff, manager
):
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"])
    first = receive_as_disclosed(first, staff)
    actions.trade_in_cancel(trade_in=second, actor=staff, reason="Not in the box")
    actions.payout_settle_check(
        payout=first.payout, actor=manager, check_number="9", check_date=date(2026, 12, 5)
    )
    assert refresh(first.payout).status == PayoutStatus.SETTLED
    assert refresh(second.payout).status == PayoutStatus.VOID
    # The cancelled device's own payout cannot be paid afterwards.
    with pytest.raises(TransitionRefused):
        actions.payout_settle_check(
            payout=refresh(second.payout),
            actor=manager,
            check_number="10",
            check_date=date(2026, 12, 5),
        )
    assert refresh(second.payout).status == PayoutStatus.VOID


def test_nobody_approves_their_own_payout_detail_change(db, product, drain, staff, manager):
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"])
    change = actions.payout_details_change_request(
        trade_in=first, actor=manager, changes={"buyer_name": "Mallory"}, reason="asked by phone"
    )
    with pytest.raises(TransitionRefused, match="two people"):
        actions.payout_details_change_approve(change=change, actor=manager)
    with pytest.raises(TransitionRefused, match="manager"):
        actions.payout_details_change_approve(change=change, actor=staff)
    assert refresh(first).buyer_name != "Mallory"
    assert PayoutDetailChange.objects.get().status == "pending"


# --- the intake bench ----------------------------------------------------------------------------
def test_the_bench_refuses_another_orders_imei_and_a_cancelled_device(db, product, drain, staff):
    mine = answered_box(product, drain, staff, ["100.00", "50.00"])
    theirs = answered_box(product, drain, staff, ["300.00", "200.00"])
    bench = staff_client(staff)
    before = _snapshot()
    # Their device's IMEI scanned as mine: staff cannot receive it (a manager would need a note).
    data = {**intake_data(mine[0]), "scanned_imei": theirs[0].imei}
    page = bench.post(reverse("admin:intake_bench"), data).content.decode()
    assert f"is not {mine[0].reference}" in page
    assert _snapshot() == before
    # Mine, cancelled alone, then "received" anyway by a stale bench page.
    actions.trade_in_cancel(trade_in=mine[1], actor=staff, reason="Not in the box")
    before = _snapshot()
    page = bench.post(reverse("admin:intake_bench"), intake_data(mine[1]), follow=True)
    assert "is cancelled, not waiting to be received" in page.content.decode()
    assert _snapshot() == before


# --- business uploads ---------------------------------------------------------------------------
def _upload(client, data: bytes, name="devices.csv"):
    return client.post(
        UPLOAD, {**DETAILS, "device_list": SimpleUploadedFile(name, data, "text/csv")}
    )


def _xlsx(dimension: str, last_row: int) -> bytes:
    """A 1.6 KB workbook whose sheet claims `dimension` and has one cell on `last_row`."""
    header = "".join(
        f'<c r="{col}1" t="inlineStr"><is><t>{text}</t></is></c>'
        for col, text in zip(
            "ABCDE", ["Make", "Model", "Storage", "IMEI", "Condition"], strict=True
        )
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org'
        f'/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData><row r="1">{header}'
        f'</row><row r="{last_row}"><c r="A{last_row}" t="inlineStr"><is><t>x</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    ns = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?>'
        f'<Types xmlns="{ns}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
        f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package'
        f'/2006/relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_a_tiny_xlsx_claiming_16384_columns_is_read_no_wider_than_a_device_list(db):
    # Before: every one of the 100,000 rows came back 16,384 cells wide (1.6 billion cells
    # from 1.6 KB; a million rows took a worker half a minute and more).
    data = _xlsx("A1:XFD100000", 3)
    assert len(data) < 2000
    widths = {len(row) for row in sheet_rows(data)}
    assert max(widths) <= XLSX_MAX_COLUMNS


def test_a_tiny_xlsx_with_a_cell_on_its_millionth_row_is_refused_by_line_count(client, db):
    data = _xlsx("A1:XFD1048576", 1048576)
    with pytest.raises(InvalidInput, match="more than .* lines"):
        read_device_list(data)
    response = _upload(client, data, name="devices.xlsx")
    assert response.status_code == 400
    assert "lines (blank ones included)" in response.content.decode()
    assert not Order.objects.exists()


def test_a_csv_of_a_million_blank_lines_is_refused_by_line_count(client, product):
    data = device_csv(product, [valid_imei()]) + b",,,,\r\n" * 300_000
    assert len(data) < 2 * 1024 * 1024  # within the upload cap
    response = _upload(client, data)
    assert response.status_code == 400
    assert "lines (blank ones included)" in response.content.decode()
    assert not Order.objects.exists()


def test_an_xlsx_of_many_sheets_reads_the_first_only(product):
    book = openpyxl.Workbook()
    book.active.append(["Make", "Model", "Storage", "IMEI", "Condition"])
    dm = product.device_model
    imei = valid_imei()
    book.active.append([dm.make.name, dm.name, product.storage_gb, imei, "good"])
    for n in range(200):
        sheet = book.create_sheet(f"S{n}")
        sheet.append(["Make", "Model", "Storage", "IMEI", "Condition"])
        sheet.append([dm.make.name, dm.name, product.storage_gb, valid_imei(), "good"])
    out = io.BytesIO()
    book.save(out)
    result = read_device_list(out.getvalue())
    assert [row.imei for row in result.devices] == [imei]


def test_duplicate_imeis_in_the_file_and_against_an_open_trade_in_are_refused(
    client, product, make_trade_in
):
    open_one = make_trade_in(State.ACCEPTED, product=product)
    twice = valid_imei()
    data = device_csv(product, [twice, valid_imei(), twice, open_one.imei])
    result = read_device_list(data)
    assert [row.line for row in result.bad_rows] == [2, 4, 5]
    assert len(result.devices) == 1
    # Sent, only the good line becomes a device: the open trade-in keeps its IMEI alone.
    assert _upload(client, data).status_code == 302
    client.post("/trade-in/business/review/")
    assert TradeIn.objects.filter(imei=open_one.imei).count() == 1
    assert TradeIn.objects.filter(imei=twice).count() == 0


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 100,  # a picture renamed .csv
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100,  # a program renamed .csv
        b"PK\x03\x04" + b"\x00" * 100,  # a broken zip
    ],
)
def test_a_renamed_file_is_refused_with_a_message(client, db, data):
    response = _upload(client, data)
    assert response.status_code == 400
    assert "not a CSV" in response.content.decode() or "XLSX" in response.content.decode()
    assert not Order.objects.exists()


# --- exports: what a seller typed must not run in the shop's spreadsheet ----------------------
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_the_police_report_neutralises_formulas_as_the_exports_do(make_trade_in, staff, name):
    # Before: the report had its own shorter list of formula starts and let "＝1+1" (full-width,
    # run by some Excel locales) through, while the payouts export caught it (the others of
    # HOSTILE_NAMES held: the stored names are trimmed before they reach the report).
    trade_in = _received_with_id(make_trade_in, staff, buyer_name=name, city=name)
    [row], _shown = police_report.rows(police_report.day_lines(timezone.localdate()))
    seller, city = (
        row[police_report.COLUMNS.index("seller_name")],
        row[police_report.COLUMNS.index("city")],
    )
    assert seller == "'" + trade_in.buyer_name and city == "'" + trade_in.city
    assert neutralise(name) == "'" + name  # the exports' rule, the same one


def test_cancelling_the_missing_device_keeps_the_label_the_box_came_with(db, product, drain, staff):
    # Before: the last device still expected, cancelled alone, voided the box's label although
    # the box had come on it (a refund asked of the carrier for a used label, and the received
    # units' label cost gone from their margins).
    first, second = answered_box(product, drain, staff, ["300.00", "120.00"])
    first = receive_as_disclosed(first, staff)
    label = ShippingLabel.objects.get(trade_in__order=first.order)
    cost = refresh(first.unit).label_cost
    actions.trade_in_cancel(trade_in=second, actor=staff, reason="Not in the box")
    drain()
    assert refresh(label).voided_at is None
    assert not SideEffect.objects.filter(kind="void_label").exists()
    assert refresh(first.unit).label_cost >= cost


# --- a device rerouted while Stripe is paying its order ----------------------------------------
def _stripe_box_paying(product, drain, staff, manager, monkeypatch, reroute: int):
    """An order of two received devices paid by Stripe; while Stripe makes the transfer (the
    task holds no lock during the call), staff reroute device number `reroute` to Returns."""
    devices = answered_box(product, drain, staff, ["300.00", "120.00"], method="stripe")
    first, second = [receive_as_disclosed(device, staff) for device in devices]
    account = StripeAccount.objects.create(
        email=first.buyer_email, account_id="acct_attack", provider="demo-payouts"
    )
    StripeAccount.objects.filter(pk=account.pk).update(payouts_enabled=True)
    Payout.objects.filter(pk=first.payout.pk).update(payee_account=account)
    sent = []
    real = payments.DemoPayouts.transfer

    def transfer(self, **kwargs):
        target = (first, second)[reroute - 1]
        actions.trade_in_reroute(trade_in=refresh(target), actor=staff, reason="Water inside")
        sent.append(kwargs["amount"])
        return real(self, **kwargs)

    monkeypatch.setattr(payments.DemoPayouts, "transfer", transfer)
    actions.payout_send_stripe(payout=refresh(first).payout, actor=manager)
    drain()
    return refresh(first), refresh(second), sent


def _reverse_warnings(device):
    return device.events.filter(
        kind=EventKind.PAYOUT_SETTLED, is_failure=True, note__contains="reverse it in Stripe"
    )


def test_a_device_rerouted_while_stripe_pays_its_order_is_flagged_for_reversal(
    product, drain, staff, manager, monkeypatch
):
    # Before: the 420.00 went out, the first line was settled, and nothing said 120.00 of it
    # paid for a device now in Returns.
    first, second, sent = _stripe_box_paying(product, drain, staff, manager, monkeypatch, 2)
    assert sent == [Decimal("420.00")]
    assert refresh(first.payout).status == PayoutStatus.SETTLED
    assert (second.state, refresh(second.payout).status) == (State.REROUTED, PayoutStatus.DECLINED)
    assert _reverse_warnings(second).exists()


def test_the_lead_rerouted_while_stripe_pays_still_settles_the_rest_it_paid(
    product, drain, staff, manager, monkeypatch
):
    # Before: the first (lead) line was flagged, but the second, paid by the same transfer,
    # stayed pending: a manager could pay it again.
    first, second, sent = _stripe_box_paying(product, drain, staff, manager, monkeypatch, 1)
    assert sent == [Decimal("420.00")]
    assert (first.state, refresh(first.payout).status) == (State.REROUTED, PayoutStatus.DECLINED)
    assert _reverse_warnings(first).exists()
    assert refresh(second.payout).status == PayoutStatus.SETTLED
    assert second.state == State.CLOSED
    with pytest.raises(TransitionRefused):
        actions.payout_send_stripe(payout=refresh(second.payout), actor=manager)
