"""Staff upload a business customer's device list (issue 20) and quote the order in bulk."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import valid_imei
from tests.helpers import staff_client
from tests.test_business_portal import hundred_with_two_bad
from tests.test_device_list_orders import DETAILS, device_csv, device_rows
from workflows import actions
from workflows.models import Event, Order, State

UPLOAD = "/dashboard/orders/upload/"
REVIEW = "/dashboard/orders/upload/review/"
ORDERS = "/dashboard/workflows/order/"


def upload(client, data: bytes, **overrides):
    fields = {
        "buyer_name": "Phones Wholesale LLC",
        "buyer_email": "buy@wholesale.example",
        "fulfilment": "pickup",
        "payout_method": "check",
        "key": "staff-1",
        **overrides,
    }
    return client.post(UPLOAD, {**fields, "device_list": SimpleUploadedFile("d.csv", data)})


def test_the_order_list_has_an_upload_button_for_staff(staff):
    client = staff_client(staff)
    page = client.get(ORDERS).content.decode()
    assert "Upload a device list" in page
    assert "Quote every device at its suggested offer" in page  # the list's action
    assert client.get(UPLOAD).status_code == 200


def test_staff_upload_a_list_review_it_by_line_with_holders_and_send_it(
    staff, product, drain, django_assert_max_num_queries
):
    client = staff_client(staff)
    data, good = hundred_with_two_bad(product)
    # Line 2's IMEI is already in an open trade-in: staff see which one holds it.
    held = actions.order_submit_list(
        devices=device_rows(product, 1), details=DETAILS, submission_key="x", actor=staff
    ).devices.get()
    lines = data.decode().split("\r\n")
    lines[1] = lines[1].rsplit(",", 2)[0] + f",{held.imei},good"
    data = "\r\n".join(lines).encode()
    assert upload(client, data)["Location"] == REVIEW
    with django_assert_max_num_queries(12):
        page = client.get(REVIEW).content.decode()
    assert "97 devices ready" in page and "3 lines refused" in page
    assert f"<td>{held.reference}</td>" in page  # held_by, for staff only
    response = client.post(REVIEW)
    order = Order.objects.exclude(pk=held.order_id).get()
    assert response["Location"] == f"/dashboard/orders/upload/sent/{order.pk}/"
    assert order.devices.count() == 97
    assert Event.objects.filter(trade_in__order=order, actor=staff).count() == 97
    # Quoted in one click once the IMEI checks are in.
    drain()
    with django_assert_max_num_queries(12):
        sent = client.get(response["Location"]).content.decode()
    assert "Quote every device at its suggested offer" in sent
    response = client.post(f"/dashboard/orders/upload/sent/{order.pk}/", follow=True)
    assert set(order.devices.values_list("state", flat=True)) == {State.QUOTED}
    assert "97 devices quoted" in response.content.decode()


def test_the_order_list_action_quotes_and_says_which_were_skipped(staff, product, drain):
    client = staff_client(staff)
    order = actions.order_submit_list(
        devices=device_rows(product, 3), details=DETAILS, submission_key="o", actor=staff
    )
    drain()
    order.devices.filter(position=2).update(suggested_offer=None)
    response = client.post(
        ORDERS,
        {"action": "quote_suggested_orders", "_selected_action": [order.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "2 devices quoted" in page
    assert f"{order.reference}-2 (no price in the price list)" in page
    assert order.devices.get(position=1).quotes.get().amount == Decimal("385.00")


def test_a_file_that_is_no_device_list_is_refused_beside_the_field(staff, product):
    response = upload(staff_client(staff), b"Name\r\nAda\r\n")
    assert response.status_code == 400
    assert "this file has no Make" in response.content.decode()


def test_the_customers_address_is_checked_when_the_list_is_sent(staff, product):
    client = staff_client(staff)
    upload(client, device_csv(product, [valid_imei()]), fulfilment="ship")
    response = client.post(REVIEW)
    assert response.status_code == 400
    assert "We need your address" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize("path", [UPLOAD, REVIEW, "/dashboard/orders/upload/template.csv"])
def test_staff_without_the_permission_cannot_upload(staff, path, db):
    staff.groups.clear()
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = staff_client(staff)
    assert client.get(path).status_code == 403
    assert "Upload a device list" not in client.get(ORDERS).content.decode()


@pytest.mark.parametrize("key", ["not-hex", "9" * 400, ""])
def test_a_hostile_page_key_is_replaced_by_a_fresh_one(staff, product, key):
    client = staff_client(staff)
    response = upload(client, device_csv(product, [valid_imei()]), key=key)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert client.post(REVIEW).status_code == 302
    assert re.fullmatch(r"staff-list:[0-9a-f]{32}:\d+", Order.objects.get().submission_key)
