"""The counter's pages without a browser (issue 21): the customer page on a second device opens
only with a live code, accepts as the buyer with a drawn signature, and stops working after;
the staff pages refuse people without the counter's permission."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from tests.conftest import refresh
from tests.counter_helpers import quoted, signature_png, start
from tests.helpers import staff_client
from workflows.models import EventKind, State
from workflows.rules.compliance import declaration_text

pytestmark = pytest.mark.django_db


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def test_a_second_device_opens_the_offer_with_its_code_and_signs_as_the_buyer(
    client, staff, product
):
    early = start(staff, product)
    assert client.get(reverse("buyer_portal:counter_offer", args=[early.code])).status_code == 404
    buyback = quoted(staff, product)
    found = client.get(reverse("buyer_portal:counter_code"), {"code": buyback.code.lower()})
    url = reverse("buyer_portal:counter_offer", args=[buyback.code])
    assert found.status_code == 302 and found["Location"] == url
    page = client.get(url).content.decode()
    assert "$300.00" in page and declaration_text() in page
    blank = client.post(url, {"confirm": "on", "wording": declaration_text(), "signature": ""})
    assert "Please sign" in blank.content.decode()
    signed = client.post(
        url,
        {
            "confirm": "on",
            "wording": declaration_text(),
            "signature": data_url(signature_png()),
        },
    )
    assert 'id="thanks"' in signed.content.decode()
    trade_in = refresh(buyback.trade_in)
    assert trade_in.state == State.RECEIVED
    assert trade_in.events.get(kind=EventKind.ACCEPTED).actor_label == "buyer"
    # Answered: the code opens nothing any more.
    assert client.get(url).status_code == 404


def test_a_wrong_code_opens_nothing(client, staff, product):
    quoted(staff, product)
    page = client.get(reverse("buyer_portal:counter_code"), {"code": "ZZZZZZ"})
    assert "No offer is waiting" in page.content.decode()


def test_the_counter_pages_need_the_counter_permission(staff, product, django_user_model):
    from django.contrib.auth.models import Permission

    from tests.helpers import PASSWORD

    clerk = django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_tradein"))
    client = staff_client(clerk)
    assert client.get(reverse("admin:counter")).status_code == 403
    assert client.get(reverse("admin:counter_start")).status_code == 403
    assert staff_client(staff).get(reverse("admin:counter")).status_code == 200


def test_the_staff_screen_asks_where_the_buyback_stands(client, staff, product, django_user_model):
    """What the staff page waiting on a second device polls (counter_wait.js): the step, for
    counter staff only, never cached."""
    buyback = quoted(staff, product)
    url = reverse("admin:counter_step", args=[buyback.pk])
    waiting = staff_client(staff).get(reverse("admin:counter_buyback", args=[buyback.pk]))
    assert f'data-step-url="{url}"' in waiting.content.decode()
    answer = staff_client(staff).get(url)
    assert answer.json() == {"step": "customer"} and "no-store" in answer["Cache-Control"]
    client.post(
        reverse("buyer_portal:counter_offer", args=[buyback.code]),
        {"confirm": "on", "wording": declaration_text(), "signature": data_url(signature_png())},
    )
    assert staff_client(staff).get(url).json() == {"step": "pay"}
    assert client.get(url).status_code == 302  # to the sign-in: not for the customer's phone


def test_earlier_drawers_are_read_only_records(staff, product):
    from workflows.actions import counter_buyback as counter

    drawer = counter.cash_drawer_open(actor=staff, opening_float="250.00")
    client = staff_client(staff)
    listing = client.get(reverse("admin:workflows_cashdrawer_changelist"))
    assert listing.status_code == 200 and "250.00" in listing.content.decode()
    page = client.get(reverse("admin:workflows_cashdrawer_change", args=[drawer.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


def test_too_many_wrong_codes_pause_both_pages_with_the_same_answer(
    client, staff, product, monkeypatch
):
    from django.core.cache import caches

    from buyer_portal.views import counter as views

    caches["shared"].clear()
    monkeypatch.setattr(views, "WRONG_CODES", "2/10m")
    buyback = quoted(staff, product)
    for _ in range(2):
        client.get(reverse("buyer_portal:counter_code"), {"code": "ZZZZZZ"})
    right = client.get(reverse("buyer_portal:counter_code"), {"code": buyback.code})
    assert right.status_code == 200 and "Too many wrong codes" in right.content.decode()
    # The offer's own address does not pretend the offer is gone.
    offer = client.get(reverse("buyer_portal:counter_offer", args=[buyback.code]))
    assert offer.status_code == 429 and "Too many wrong codes" in offer.content.decode()
    assert "no longer waiting" not in offer.content.decode()
