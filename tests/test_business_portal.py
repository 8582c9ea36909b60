"""The business sellers' page on the buyer portal (issue 20): upload a device list, review it
by line, send the good devices as one order."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import valid_imei
from tests.test_device_list_orders import device_csv
from workflows.models import Order, SideEffect, SideEffectKind, State, TradeIn

UPLOAD = "/trade-in/business/"
REVIEW = "/trade-in/business/review/"

DETAILS = {
    "buyer_name": "Phones Wholesale LLC",
    "buyer_email": "buy@wholesale.example",
    "buyer_phone": "",
    "fulfilment": "ship",
    "postcode": "60601",
    "address_line1": "9 Depot Rd",
    "city": "Chicago",
    "region": "IL",
    "country": "US",
    "payout_method": "check",
    "submission_key": "biz-1",
    "website": "",
}


def upload(client, data: bytes, *, name="devices.csv", **overrides):
    return client.post(
        UPLOAD,
        {**DETAILS, **overrides, "device_list": SimpleUploadedFile(name, data, "text/csv")},
    )


def hundred_with_two_bad(product) -> tuple[bytes, list[str]]:
    imeis = [valid_imei() for _ in range(100)]
    imeis[9] = imeis[9][:-1] + str((int(imeis[9][-1]) + 1) % 10)  # line 11: a typo
    imeis[57] = "12345"  # line 59: too short
    return device_csv(product, imeis), [i for n, i in enumerate(imeis) if n not in (9, 57)]


def test_the_storefront_links_to_the_business_page(client, db):
    page = client.get("/").content.decode()
    assert 'href="/trade-in/business/"' in page and "Selling 10 or more devices?" in page


def test_it_offers_the_template_csv(client, db):
    response = client.get("/trade-in/business/template.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("Make,Model,Storage (GB),IMEI,Condition")
    assert 'href="/trade-in/business/template.csv"' in client.get(UPLOAD).content.decode()


def test_a_list_with_two_bad_lines_is_reviewed_by_line_and_the_rest_sent_as_one_order(
    client, product, drain, django_assert_max_num_queries
):
    data, good = hundred_with_two_bad(product)
    response = upload(client, data)
    assert response.status_code == 302 and response["Location"] == REVIEW
    with django_assert_max_num_queries(12):
        page = client.get(REVIEW).content.decode()
    assert "98 devices ready" in page
    assert "Line 11: IMEI" in page and "Line 59: IMEI" in page
    assert "about $37,730.00" in page  # 98 × 385
    assert not Order.objects.exists()  # nothing is written before "Send"
    response = client.post(REVIEW)
    assert response.status_code == 302
    order = Order.objects.get()
    assert list(order.devices.order_by("position").values_list("imei", flat=True)) == good
    assert order.devices.count() == 98
    # The confirmation shows the order's reference and stays cheap with 98 devices.
    with django_assert_max_num_queries(12):
        confirmation = client.get(response["Location"]).content.decode()
    assert order.reference in confirmation
    # The buyer's status page of an order of 98 devices, too.
    status_url = re.search(r'href="(/trade-in/status/[^"]+)"', confirmation).group(1)
    with django_assert_max_num_queries(12):
        assert client.get(status_url).status_code == 200
    assert (
        SideEffect.objects.filter(kind=SideEffectKind.CHECK_IMEI, trade_in__order=order).count()
        == 98
    )
    # Sent: the review is gone, and a second POST (a reload) makes no second order.
    assert client.get(REVIEW)["Location"] == UPLOAD
    client.post(REVIEW)
    assert Order.objects.count() == 1


def test_a_file_that_is_no_device_list_is_refused_beside_the_field(client, product):
    response = upload(client, b"Name,Email\r\nAda,ada@example.com\r\n")
    assert response.status_code == 400
    page = response.content.decode()
    assert "this file has no Make, Model, Storage (GB), IMEI, Condition column" in page
    assert 'aria-invalid="true"' in page or "has-error" in page


def test_a_file_too_large_is_refused_with_its_size(client, product, settings):
    settings.DEVICE_LIST_MAX_BYTES = 1024 * 1024
    response = upload(client, b"x" * (1024 * 1024 + 1))
    assert response.status_code == 400
    assert "a device list may be up to 1.0 MB" in response.content.decode()


def test_the_sellers_details_are_checked_like_the_buyer_forms(client, product):
    response = upload(client, device_csv(product, [valid_imei()]), address_line1="")
    assert response.status_code == 400
    assert "Needed for the shipping label." in response.content.decode()  # beside the street
    assert client.get(REVIEW)["Location"] == UPLOAD


def test_a_drop_off_seller_needs_no_address(client, product):
    response = upload(
        client,
        device_csv(product, [valid_imei()]),
        fulfilment="pickup",
        postcode="",
        address_line1="",
        city="",
        region="",
    )
    assert response.status_code == 302
    client.post(REVIEW)
    assert TradeIn.objects.get().fulfilment == "pickup"


def test_an_imei_taken_while_the_seller_reviews_refuses_the_send_naming_the_line(client, product):
    imeis = [valid_imei(), valid_imei()]
    upload(client, device_csv(product, imeis))
    other = client.__class__()
    upload(other, device_csv(product, imeis[1:]), submission_key="biz-2")
    assert other.post(REVIEW).status_code == 302
    response = client.post(REVIEW)
    assert response.status_code == 400
    assert "line 3" in response.content.decode()
    assert Order.objects.count() == 1


@pytest.mark.parametrize("path", [UPLOAD, REVIEW])
def test_the_pages_work_without_a_session_or_javascript(client, db, path):
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_every_good_device_is_new_and_checked(client, product, drain):
    upload(client, device_csv(product, [valid_imei() for _ in range(3)]))
    client.post(REVIEW)
    drain()
    assert set(TradeIn.objects.values_list("state", "imei_status")) == {(State.SUBMITTED, "clean")}


def test_the_seller_is_told_an_imei_is_taken_but_not_by_whom(client, product):
    imeis = [valid_imei(), valid_imei()]
    upload(client, device_csv(product, imeis[:1]), submission_key="first")
    client.post(REVIEW)
    held = TradeIn.objects.get()
    upload(client, device_csv(product, imeis), submission_key="second")
    page = client.get(REVIEW).content.decode()
    assert f"Line 2: IMEI {imeis[0]} is already with us" in page
    assert held.reference not in page  # who holds it is for staff only
    assert "1 device ready" in page


def test_an_xlsx_list_is_read_like_a_csv(client, product):
    from tests.test_device_list import xlsx_bytes

    model = product.device_model
    imeis = [valid_imei(), valid_imei()]
    rows = [[model.make.name, model.name, product.storage_gb, i, "fair"] for i in imeis]
    response = upload(client, xlsx_bytes(rows), name="devices.xlsx")
    assert response.status_code == 302
    assert "2 devices ready" in client.get(REVIEW).content.decode()
    client.post(REVIEW)
    assert list(TradeIn.objects.order_by("position").values_list("imei", flat=True)) == imeis
