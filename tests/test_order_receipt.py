"""One purchase receipt for an order of several devices (issue 20, "Law and paper"): every
device bought at its final amount, the total, the declaration once; served to the buyer from
the status page's signed link and to staff from the order page. An order of one keeps its
device's own receipt."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.helpers import (
    declared,
    receive_as_disclosed,
    receive_cracked,
    refresh,
    staff_client,
    submission,
    unsigned_part,
)
from workflows import actions
from workflows.documents.receipts import order_purchase, order_receipt_pdf
from workflows.links import order_offer_token, status_token
from workflows.models import State, TradeIn
from workflows.rules.compliance import declaration_text
from workflows.selectors import orders as order_reads


def pdf_text(document: bytes) -> str:
    """The PDF's text runs (fpdf2 writes them as (...) Tj, uncompressed here)."""
    return "\n".join(re.findall(r"\((.*?)\) Tj", document.decode("latin-1")))


def box(product, drain, n: int) -> list[TradeIn]:
    order = actions.order_submit(
        submissions=[submission(product) for _ in range(n)], submission_key=uuid.uuid4().hex
    )
    drain()
    return list(order.devices.order_by("position"))


def answer(devices, staff, drain, amounts, accept, decline=()) -> None:
    """Quote each device, then answer the order's page: accept some, decline the others."""
    quotes = [
        actions.trade_in_quote(trade_in=refresh(d), actor=staff, amount=a)
        for d, a in zip(devices, amounts, strict=True)
    ]
    drain()
    actions.order_answer(
        order=devices[0].order,
        quotes=quotes,
        accept=[refresh(devices[i]) for i in accept],
        decline={refresh(devices[i]): "The offer is too low" for i in decline},
        declaration=declared(),
    )
    drain()


@pytest.fixture
def mixed(db, product, drain, staff):
    """Three devices: 1 accepted at 100 and graded B; 2 accepted at 120, revised to 90 at
    intake and the buyer accepts 90; 3 declined."""
    first, second, third = box(product, drain, 3)
    answer([first, second, third], staff, drain, ["100.00", "120.00", "80.00"], [0, 1], [2])
    receive_as_disclosed(first, staff)
    receive_cracked(second, staff, "90.00")
    drain()
    second = refresh(second)
    actions.revised_offer_accept(offer=second.revised_offers.get(), declaration=declared())
    drain()
    return [refresh(d) for d in (first, second, third)]


def test_it_lists_exactly_the_devices_bought_at_their_final_amounts(mixed):
    first, second, third = mixed
    assert refresh(second).payout.amount == Decimal("90.00")
    text = pdf_text(order_receipt_pdf(first.order))
    assert f"Purchase receipt {first.order.reference}" in text
    assert "Demo Phone Shop" in text and first.buyer_name in text and first.buyer_email in text
    for device, amount in ((first, "$100.00"), (second, "$90.00")):
        line = text[text.index(device.reference) :]
        assert device.imei in line[:200] and amount in line[:200]
        assert str(device.product.device_model) in line[:200]
    grade = first.unit.get_grade_display()  # graded on intake; device 2 at its revision
    assert grade in text[text.index(first.reference) :][:200]
    assert "$190.00" in text  # the total: 100 + the revised 90, the declined one not counted
    assert "$120.00" not in text and "$80.00" not in text
    assert third.imei not in text  # the declined device is not listed as bought
    not_bought = text[text.index("Not bought") :]
    assert third.reference in not_bought and "Declined" in not_bought
    assert declaration_text()[:40] in text
    totals = order_reads.order_totals(first.order)
    assert order_purchase(first.order).total == totals.accepted == Decimal("190.00")


def test_a_cancelled_device_is_not_bought(db, product, drain, staff):
    first, second = box(product, drain, 2)
    answer([first, second], staff, drain, ["100.00", "120.00"], [0, 1])
    actions.trade_in_cancel(trade_in=refresh(second), actor=staff, reason="Never arrived")
    purchase = order_purchase(first.order)
    assert [d.pk for d in purchase.bought] == [first.pk]
    assert purchase.total == Decimal("100.00")
    text = pdf_text(order_receipt_pdf(first.order))
    assert second.imei not in text and "$120.00" not in text


def test_one_answer_shows_its_declaration_once(db, product, drain, staff):
    devices = box(product, drain, 3)
    answer(devices, staff, drain, ["100.00", "120.00", "80.00"], [0, 1, 2])
    purchase = order_purchase(devices[0].order)
    assert len(purchase.declarations) == 1 and len(purchase.declarations[0][1]) == 3
    text = pdf_text(order_receipt_pdf(devices[0].order))
    assert text.count(declaration_text()[:40]) == 1
    assert "$300.00" in text  # 100 + 120 + 80


def test_declarations_that_differ_each_name_their_devices(db, product, drain, staff):
    first, second = box(product, drain, 2)
    quotes = [
        actions.trade_in_quote(trade_in=refresh(d), actor=staff, amount="100.00")
        for d in (first, second)
    ]
    drain()
    actions.order_answer(
        order=first.order,
        quotes=quotes,
        accept=[refresh(first), refresh(second)],
        decline={},
        declaration=declared(),
    )
    # A revised offer accepted from another address: a second declaration, for device 2 only.
    receive_cracked(second, staff, "70.00")
    offer = refresh(second).revised_offers.get()
    actions.revised_offer_accept(offer=offer, declaration=declared(ip="10.0.0.9"))
    purchase = order_purchase(first.order)
    assert [len(covered) for _, covered in purchase.declarations] == [2, 1]
    text = pdf_text(order_receipt_pdf(first.order))
    assert f"Seller's declaration for {second.reference}" in text
    assert "from 10.0.0.9" in text and "from 127.0.0.1" in text


# --- the buyer's link --------------------------------------------------------------------------
def _buyer_url(device: TradeIn, token: str | None = None) -> str:
    return reverse(
        "buyer_portal:order_receipt",
        args=[device.order.reference, token if token is not None else status_token(device)],
    )


def test_the_status_page_offers_the_orders_receipt(mixed):
    first, second, third = mixed
    page = Client().get(reverse("buyer_portal:status", args=[status_token(third)]))
    assert (
        unsigned_part(_buyer_url(third)) in page.content.decode()
    )  # any device's page, the declined too
    response = Client().get(_buyer_url(third))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert first.order.reference in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert first.imei in text and second.imei in text and "$190.00" in text


def test_the_buyer_link_refuses_a_bad_token_and_another_orders_token(mixed, product, drain, staff):
    first = mixed[0]
    assert Client().get(_buyer_url(first, "nonsense")).status_code == 404
    # Another kind of signed link for this very order is no status link.
    other_kind = order_offer_token(first.order, [first.latest_quote().pk])
    assert Client().get(_buyer_url(first, other_kind)).status_code == 404
    # The status link of another order's device, under this order's reference.
    stranger = box(product, drain, 2)
    answer(stranger, staff, drain, ["55.00", "66.00"], [0, 1])
    response = Client().get(_buyer_url(first, status_token(stranger[0])))
    assert response.status_code == 404
    assert Client().get(_buyer_url(stranger[0])).status_code == 200  # its own order's works


def test_nothing_accepted_yet_offers_no_receipt(db, product, drain, staff):
    devices = box(product, drain, 2)
    page = Client().get(reverse("buyer_portal:status", args=[status_token(devices[0])]))
    assert "order-receipt" not in page.content.decode()
    assert Client().get(_buyer_url(devices[0])).status_code == 404


def test_an_order_of_one_keeps_only_its_devices_receipt(make_trade_in, staff):
    trade_in = make_trade_in(State.RECEIVED)
    page = Client().get(reverse("buyer_portal:status", args=[status_token(trade_in)]))
    assert "order-receipt" not in page.content.decode()
    assert Client().get(_buyer_url(trade_in)).status_code == 404
    staff_url = reverse("admin:workflows_order_receipt", args=[trade_in.order_id])
    assert staff_client(staff).get(staff_url).status_code == 404
    order_page = staff_client(staff).get(
        reverse("admin:workflows_order_change", args=[trade_in.order_id])
    )
    assert "order-receipt" not in order_page.content.decode()


# --- staff -------------------------------------------------------------------------------------
def test_staff_download_it_from_the_order_page(mixed, staff):
    first = mixed[0]
    url = reverse("admin:workflows_order_receipt", args=[first.order_id])
    client = staff_client(staff)
    page = client.get(reverse("admin:workflows_order_change", args=[first.order_id]))
    html = page.content.decode()
    assert url in html and "Download the order's receipt" in html
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "$190.00" in pdf_text(response.content)
    assert Client().get(url).status_code == 302  # to the login


def test_staff_without_the_permission_get_403(mixed):
    first = mixed[0]
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    client = Client()
    client.force_login(clerk)
    url = reverse("admin:workflows_order_receipt", args=[first.order_id])
    assert client.get(url).status_code == 403


def test_the_receipt_of_100_devices_takes_a_bounded_number_of_queries(
    db, product, drain, staff, settings, django_assert_max_num_queries
):
    settings.BASKET_MAX_DEVICES = 100  # a business's device list
    devices = box(product, drain, 100)
    answer(devices, staff, drain, ["10.00"] * 100, list(range(99)), [99])
    order = devices[0].order
    # The devices, their declarations, the seller's ID: the same for 1 device or 100.
    with django_assert_max_num_queries(3):
        document = order_receipt_pdf(order)
    text = pdf_text(document)
    assert "$990.00" in text and devices[98].imei in text and devices[99].imei not in text
    client = staff_client(staff)
    url = reverse("admin:workflows_order_receipt", args=[order.pk])
    client.get(url)  # warm the session
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
    buyer = _buyer_url(devices[0])
    with django_assert_max_num_queries(8):
        assert Client().get(buyer).status_code == 200


def test_a_long_model_name_is_cut_to_its_column_and_the_imei_stays_whole(db, drain, staff):
    from tests.factories import ProductFactory

    # The longest name the column holds (100 characters: PostgreSQL refuses more).
    name = ("Galaxy Z Fold Ultra Special Edition " * 3)[:100].strip()
    product = ProductFactory(device_model__name=name)
    devices = box(product, drain, 2)
    answer(devices, staff, drain, ["100.00", "120.00"], [0, 1])
    text = pdf_text(order_receipt_pdf(devices[0].order))
    line = text[text.index(devices[0].reference) :][:300]
    assert "..." in line and str(product.device_model) not in line
    assert devices[0].imei in line


def test_the_sellers_id_is_shown_masked(mixed, staff):
    from tests.test_compliance import ID_NUMBER, an_id

    first = mixed[0]
    actions.seller_identity_record(trade_in=refresh(first), actor=staff, data=an_id())
    text = pdf_text(order_receipt_pdf(first.order))
    assert f"Driver's license * {ID_NUMBER[-4:]}" in text.replace("****", "*")
    assert ID_NUMBER not in text
