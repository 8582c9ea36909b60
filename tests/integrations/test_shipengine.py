"""Shipping labels against a loopback server that answers like ShipEngine's `/v1/labels`."""

from __future__ import annotations

import json
import time

import pytest
from django.core import mail
from werkzeug import Response

from tests.helpers import declared, links_in_last_mail, refresh, staff_client, workflow
from tests.integrations.conftest import make_due
from tests.integrations.provider_spec import shipengine_example
from workflows import actions
from workflows.errors import InvalidInput
from workflows.models import (
    Event,
    EventKind,
    Order,
    ShippingLabel,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
)
from workflows.tasks import poll_tracking

PDF = b"%PDF-1.4\n% a carrier's label\n"
CARRIER_REFUSAL = {
    "request_id": "aa3d8e8e-462b-4476-9618-72db7f7b7009",
    "errors": [
        {
            "error_source": "carrier",
            "error_type": "validation",
            "error_code": "invalid_address",
            "message": "Invalid postal code 00000 for Chicago, IL",
        }
    ],
}


def label_body(server, label_id: str = "se-392157963") -> dict:
    """ShipEngine's example answer to `POST /v1/labels`, with this label's values."""
    return {
        **shipengine_example("/v1/labels", "post"),
        "label_id": label_id,
        "status": "completed",
        "shipment_id": "se-1053748895",
        "tracking_number": "9405511899223197428490",
        "is_return_label": True,
        "carrier_id": "se-123",
        "carrier_code": "stamps_com",
        "service_code": "usps_priority_mail",
        "voided": False,
        "label_format": "pdf",
        "label_layout": "4x6",
        "label_download": {
            "pdf": server.url_for("/v1/downloads/10/label.pdf"),
            "href": server.url_for("/v1/downloads/10/label.pdf"),
        },
    }


def sells_labels(server, bodies: list) -> None:
    """Answer each label purchase with the label and record the request bodies."""

    def buy(request):
        bodies.append(request.get_json())
        return Response(json.dumps(label_body(server)), status=200, content_type="application/json")

    server.expect_request(
        "/v1/labels", method="POST", headers={"API-Key": "TEST_shipengine_key"}
    ).respond_with_handler(buy)
    server.expect_request("/v1/downloads/10/label.pdf").respond_with_data(
        PDF, content_type="application/pdf"
    )


def label_posts(server) -> int:
    return server.arrivals.count(("POST", "/v1/labels"))


def test_it_buys_a_return_label_from_the_buyer_to_the_warehouse(shipengine, make_trade_in, client):
    bodies: list = []
    sells_labels(shipengine, bodies)

    trade_in = make_trade_in(State.ACCEPTED)

    [body] = bodies
    shipment = body["shipment"]
    assert (
        shipment["ship_from"]
        | {
            "name": "Ada Buyer",
            "address_line1": "1 Main St",
            "city_locality": "Chicago",
            "postal_code": "60601",
            "country_code": "US",
        }
        == shipment["ship_from"]
    )
    assert (shipment["ship_to"]["address_line1"], shipment["ship_to"]["postal_code"]) == (
        "12 Market Street",
        "62701",
    )
    assert shipment["packages"][0]["weight"] == {"value": 400, "unit": "gram"}
    assert (shipment["carrier_id"], shipment["service_code"]) == ("se-123", "usps_priority_mail")
    assert (body["is_return_label"], body["rma_number"]) == (True, trade_in.reference)
    assert body["label_format"] == "pdf"
    # Charged when the carrier first scans it: a label the buyer never uses costs nothing.
    assert body["charge_event"] == "on_carrier_acceptance"
    assert shipment["packages"][0]["label_messages"] == {
        "reference1": trade_in.reference,
        "reference2": None,
        "reference3": None,
    }

    label = ShippingLabel.objects.get(trade_in=trade_in)
    assert (label.provider, label.label_id) == ("shipengine", "se-392157963")
    assert not label.is_sample
    assert label.tracking_number == "9405511899223197428490" and bytes(label.pdf) == PDF
    link = [u for u in links_in_last_mail(trade_in.buyer_email) if "/trade-in/label/" in u][0]
    assert "9405511899223197428490" in mail.outbox[-1].body
    response = client.get(link.replace("http://testserver", ""))
    assert response["Content-Type"] == "application/pdf" and response.content == PDF


def test_a_refused_address_shows_the_carriers_reason_and_staff_fix_it_and_retry(
    shipengine, make_trade_in, staff, drain
):
    shipengine.expect_oneshot_request("/v1/labels", method="POST").respond_with_json(
        CARRIER_REFUSAL, status=400
    )
    # Store credit: the address is only where the label ships from (for a check it is where
    # the money goes, and changes under two keys: tests/test_payout_details.py).
    trade_in = make_trade_in(State.ACCEPTED, postcode="00000", payout_method="store_credit")

    effect = SideEffect.objects.get(kind=SideEffectKind.CREATE_LABEL, trade_in=trade_in)
    assert effect.status == SideEffectStatus.FAILED  # the same address would be refused again
    failure = Event.objects.get(trade_in=trade_in, kind=EventKind.LABEL_CREATED, is_failure=True)
    assert "Invalid postal code 00000 for Chicago, IL" in failure.note
    assert not [m for m in mail.outbox if "shipping label" in m.subject]
    client = staff_client(staff)
    page = client.get(f"/dashboard/trade-ins/{trade_in.pk}/change/").content.decode()
    assert "No shipping label" in page and "Invalid postal code 00000" in page
    assert "Save address and retry label" in page

    bodies: list = []
    sells_labels(shipengine, bodies)
    response = workflow(
        client,
        trade_in,
        "retry_label",
        address_line1="1 Main St",
        city="Chicago",
        region="IL",
        postcode="60602",
        country="us",
        buyer_phone="555 0100",
    )
    assert "the label is requested again" in response.content.decode()
    drain()

    assert [b["shipment"]["ship_from"]["postal_code"] for b in bodies] == ["60602"]
    assert refresh(trade_in).postcode == "60602"
    assert ShippingLabel.objects.filter(trade_in=trade_in).count() == 1
    assert len([m for m in mail.outbox if "shipping label" in m.subject]) == 1
    assert Event.objects.filter(
        trade_in=trade_in,
        kind=EventKind.LABEL_REQUESTED_AGAIN,
        actor=staff,
        note__contains="corrected postcode",
    ).exists()


def test_retrying_the_label_with_a_bad_address_changes_nothing(shipengine, make_trade_in, staff):
    shipengine.expect_request("/v1/labels", method="POST").respond_with_json(
        CARRIER_REFUSAL, status=400
    )
    trade_in = make_trade_in(State.ACCEPTED)
    response = workflow(
        staff_client(staff),
        trade_in,
        "retry_label",
        address_line1="",
        city="Chicago",
        postcode="60601",
        country="US",
    )
    assert "Street" in response.content.decode()
    with pytest.raises(InvalidInput, match="two-letter"):
        actions.shipping_label_retry(trade_in=trade_in, actor=staff, address={"country": "USA"})
    assert refresh(trade_in).country == "US"
    assert (
        SideEffect.objects.filter(kind=SideEffectKind.CREATE_LABEL, trade_in=trade_in).count() == 1
    )


def test_a_server_error_is_retried_and_the_retry_buys_one_label(shipengine, make_trade_in, drain):
    shipengine.expect_oneshot_request("/v1/labels", method="POST").respond_with_json(
        {
            "request_id": "x",
            "errors": [
                {
                    "error_source": "shipengine",
                    "error_type": "system",
                    "error_code": "unspecified",
                    "message": "Oops",
                }
            ],
        },
        status=500,
    )
    trade_in = make_trade_in(State.ACCEPTED)
    assert not ShippingLabel.objects.filter(trade_in=trade_in).exists()
    assert "HTTP 500" in Event.objects.get(trade_in=trade_in, is_failure=True).note

    shipengine.expect_request(
        f"/v1/shipments/external_shipment_id/label-{trade_in.pk}"
    ).respond_with_json({"request_id": "y", "errors": [{"message": "not found"}]}, status=404)
    sells_labels(shipengine, [])
    make_due()
    drain()

    assert ShippingLabel.objects.filter(trade_in=trade_in).count() == 1
    assert label_posts(shipengine) == 2


def test_a_lost_answer_is_found_again_instead_of_buying_a_second_label(
    shipengine, make_trade_in, drain
):
    def slow(request):
        time.sleep(1.0)  # the label is bought, but the client stopped waiting after 0.5 s
        return Response(json.dumps(label_body(shipengine)), content_type="application/json")

    shipengine.expect_oneshot_request("/v1/labels", method="POST").respond_with_handler(slow)
    trade_in = make_trade_in(State.ACCEPTED)
    assert (
        "did not answer within 0.5 s" in Event.objects.get(trade_in=trade_in, is_failure=True).note
    )

    shipengine.expect_request(
        f"/v1/shipments/external_shipment_id/label-{trade_in.pk}"
    ).respond_with_json(
        {"shipment_id": "se-1053748895", "external_shipment_id": f"label-{trade_in.pk}"}
    )
    shipengine.expect_request(
        "/v1/labels", method="GET", query_string="shipment_id=se-1053748895"
    ).respond_with_json({"labels": [label_body(shipengine)], "total": 1, "page": 1, "pages": 1})
    shipengine.expect_request("/v1/downloads/10/label.pdf").respond_with_data(PDF)
    make_due()
    drain()

    assert ShippingLabel.objects.get(trade_in=trade_in).label_id == "se-392157963"
    assert label_posts(shipengine) == 1


@pytest.mark.parametrize("trouble", ["no label link", "html instead of pdf"])
def test_garbage_buys_nothing_we_store_and_is_retried(shipengine, make_trade_in, trouble):
    body = label_body(shipengine)
    if trouble == "no label link":
        del body["label_download"]
    shipengine.expect_request("/v1/labels", method="POST").respond_with_json(body)
    shipengine.expect_request("/v1/downloads/10/label.pdf").respond_with_data(
        "<html>Login</html>", content_type="text/html"
    )

    trade_in = make_trade_in(State.ACCEPTED)

    assert not ShippingLabel.objects.filter(trade_in=trade_in).exists()
    effect = SideEffect.objects.get(kind=SideEffectKind.CREATE_LABEL, trade_in=trade_in)
    assert effect.status == SideEffectStatus.PENDING and effect.attempts == 1
    assert Event.objects.filter(trade_in=trade_in, is_failure=True).count() == 1


def test_cancelling_voids_the_label_at_the_carrier(shipengine, make_trade_in, staff, drain):
    sells_labels(shipengine, [])
    trade_in = make_trade_in(State.ACCEPTED)
    shipengine.expect_request("/v1/labels/se-392157963/void", method="PUT").respond_with_json(
        {"approved": True, "message": "Request for refund submitted.  This label has been voided."}
    )

    actions.trade_in_cancel(trade_in=trade_in, actor=staff, reason="Buyer kept the phone")
    drain()

    assert ShippingLabel.objects.get(trade_in=trade_in).voided_at is not None
    assert Event.objects.filter(
        trade_in=trade_in, kind=EventKind.LABEL_VOIDED, note="Shipping label voided: se-392157963"
    ).exists()


def test_a_refused_void_is_shown_and_the_label_stays(shipengine, make_trade_in, staff, drain):
    sells_labels(shipengine, [])
    trade_in = make_trade_in(State.ACCEPTED)
    shipengine.expect_request("/v1/labels/se-392157963/void", method="PUT").respond_with_json(
        {"approved": False, "message": "Label already used", "reason_code": "label_already_used"}
    )

    actions.trade_in_cancel(trade_in=trade_in, actor=staff, reason="Never arrived")
    drain()

    assert ShippingLabel.objects.get(trade_in=trade_in).voided_at is None
    failure = Event.objects.get(trade_in=trade_in, kind=EventKind.LABEL_VOIDED, is_failure=True)
    assert "Label already used" in failure.note
    assert SideEffect.objects.get(kind=SideEffectKind.VOID_LABEL).status == SideEffectStatus.FAILED


def track(server, code: str, description: str, event: str = "") -> None:
    server.clear()
    server.expect_request("/v1/labels/se-392157963/track").respond_with_json(
        {
            "tracking_number": "9405511899223197428490",
            "status_code": code,
            "status_description": description,
            "carrier_status_code": "X",
            "carrier_status_description": description.upper(),
            "events": [
                {
                    "occurred_at": "2026-11-20T12:32:00Z",
                    "description": event,
                    "city_locality": "CHICAGO",
                    "state_province": "IL",
                }
            ]
            if event
            else [],
        }
    )


def test_tracking_is_polled_and_each_change_goes_on_the_timeline(shipengine, make_trade_in):
    sells_labels(shipengine, [])
    trade_in = make_trade_in(State.ACCEPTED)

    track(shipengine, "IT", "In Transit", "Arrived at USPS Regional Facility")
    assert poll_tracking() == 1
    assert poll_tracking() == 0  # nothing new: no new timeline row
    notes = list(
        Event.objects.filter(trade_in=trade_in, kind=EventKind.TRACKING_UPDATED).values_list(
            "note", flat=True
        )
    )
    assert notes == [
        "Tracking 9405511899223197428490: In Transit: Arrived at USPS Regional "
        "Facility (CHICAGO, IL)"
    ]

    shipengine.clear()
    shipengine.expect_request("/v1/labels/se-392157963/track").respond_with_data(
        "<html>502 Bad Gateway</html>", status=502, content_type="text/html"
    )
    poll_tracking()
    poll_tracking()
    assert (
        Event.objects.filter(
            trade_in=trade_in, kind=EventKind.TRACKING_UPDATED, is_failure=True
        ).count()
        == 1
    )
    assert "HTTP 502" in ShippingLabel.objects.get(trade_in=trade_in).tracking_error

    track(shipengine, "DE", "Delivered", "Delivered, In/At Mailbox")
    assert poll_tracking() == 1
    label = ShippingLabel.objects.get(trade_in=trade_in)
    assert (label.tracking_status, label.tracking_error) == ("DE", "")
    requests_before = len(shipengine.log)
    assert poll_tracking() == 0
    assert len(shipengine.log) == requests_before  # delivered: the intake bench takes over


def test_a_buyer_who_drops_off_gets_instructions_and_no_label(shipengine, make_trade_in):
    # Drop-off is the buyer's choice (a local ZIP alone no longer decides it: the form asks).
    trade_in = make_trade_in(State.ACCEPTED, fulfilment="pickup", postcode="62702")

    assert not shipengine.log and not ShippingLabel.objects.filter(trade_in=trade_in).exists()
    message = mail.outbox[-1]
    assert "drop off" in message.subject
    assert "12 Market Street" in message.body and trade_in.reference in message.body


def test_a_slow_or_failing_carrier_stops_the_tracking_poll_early(shipengine, make_trade_in):
    # Found by the outage tests: waiting out the timeout for each of 500 parcels ran past the
    # task's time limit, and the parcels at the end of the list were never asked.
    sells_labels(shipengine, [])
    first, second = make_trade_in(State.ACCEPTED), make_trade_in(State.ACCEPTED)
    shipengine.clear()
    shipengine.expect_request("/v1/labels/se-392157963/track").respond_with_data(
        "<html>503</html>", status=503, content_type="text/html"
    )
    poll_tracking()
    assert sum("/track" in request.path for request, _ in shipengine.log) == 1
    asked_first = ShippingLabel.objects.filter(tracking_error__contains="503").get()
    poll_tracking()  # the other parcel's turn comes first now
    labels = ShippingLabel.objects.filter(trade_in__in=[first, second])
    assert all("503" in label.tracking_error for label in labels)
    assert asked_first.trade_in_id in (first.pk, second.pk)


def carriers_answer(*carriers: dict) -> dict:
    """ShipEngine's example `GET /v1/carriers` answer, with these carrier accounts."""
    body = shipengine_example("/v1/carriers")
    template = body["carriers"][0]
    return {
        **body,
        "carriers": [
            {
                **template,
                "carrier_id": c["carrier_id"],
                "friendly_name": c.get("name", "Stamps.com"),
                "primary": c.get("primary"),
                "disabled_by_billing_plan": False,
                "services": [
                    {**template["services"][0], "service_code": code}
                    for code in c.get("services", ["usps_priority_mail"])
                ],
            }
            for c in carriers
        ],
    }


def test_without_a_carrier_id_it_buys_from_the_accounts_one_carrier_and_says_which(
    shipengine, make_trade_in, settings, drain
):
    # Before: no carrier_id was sent when SHIPENGINE_CARRIER_ID was unset, and ShipEngine
    # (here: its OpenAPI document) refuses a label without one.
    settings.SHIPENGINE_CARRIER_ID = ""
    shipengine.expect_request("/v1/carriers").respond_with_json(
        carriers_answer(
            {"carrier_id": "se-ups", "name": "UPS", "services": ["ups_ground"]},
            {"carrier_id": "se-usps", "name": "Stamps.com"},
        )
    )
    bodies: list = []
    sells_labels(shipengine, bodies)

    trade_in = make_trade_in(State.ACCEPTED)

    assert [b["shipment"]["carrier_id"] for b in bodies] == ["se-usps"]
    assert ShippingLabel.objects.filter(trade_in=trade_in).exists()
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("check_integrations", stdout=out)
    assert "labels from carrier se-usps (Stamps.com, usps_priority_mail" in out.getvalue()


def test_labels_that_cannot_be_bought_fail_check_integrations_and_say_what_to_set(
    shipengine, make_trade_in, settings
):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.SHIPENGINE_CARRIER_ID = ""
    shipengine.expect_request("/v1/carriers").respond_with_json(
        carriers_answer({"carrier_id": "se-a"}, {"carrier_id": "se-b"})
    )
    out = StringIO()
    with pytest.raises(CommandError, match="Shipping labels"):
        call_command("check_integrations", stdout=out)
    assert "2 of this key's carrier accounts offer usps_priority_mail (se-a, se-b" in (
        out.getvalue()
    )
    assert "set SHIPENGINE_CARRIER_ID" in out.getvalue()

    # A label asked for meanwhile fails with the same words, and nothing is bought.
    trade_in = make_trade_in(State.ACCEPTED)
    failure = Event.objects.get(trade_in=trade_in, kind=EventKind.LABEL_CREATED, is_failure=True)
    assert "set SHIPENGINE_CARRIER_ID" in failure.note
    assert label_posts(shipengine) == 0

    # A configured carrier that does not offer the service fails the check too.
    settings.SHIPENGINE_CARRIER_ID = "se-a"
    shipengine.clear()
    shipengine.expect_request("/v1/carriers").respond_with_json(
        carriers_answer({"carrier_id": "se-a", "services": ["ups_ground"]})
    )
    out = StringIO()
    with pytest.raises(CommandError, match="Shipping labels"):
        call_command("check_integrations", stdout=out)
    assert "carrier se-a does not offer usps_priority_mail" in out.getvalue()


def test_the_address_shipengine_corrects_goes_on_the_label_and_staff_see_it(
    shipengine, make_trade_in
):
    shipengine.clear()
    checks = shipengine.validates_addresses(postal_code="60601-1234", address_line1="1 MAIN ST")
    bodies: list = []
    sells_labels(shipengine, bodies)

    trade_in = make_trade_in(State.ACCEPTED)

    [[sent]] = checks
    assert (sent["address_line1"], sent["postal_code"], sent["state_province"]) == (
        "1 Main St",
        "60601",
        "IL",
    )
    ship_from = bodies[0]["shipment"]["ship_from"]
    assert (ship_from["address_line1"], ship_from["postal_code"]) == ("1 MAIN ST", "60601-1234")
    done = Event.objects.get(trade_in=trade_in, kind=EventKind.LABEL_CREATED, is_failure=False)
    assert "ShipEngine corrected the buyer's address to: 1 MAIN ST" in done.note
    assert "60601-1234" in done.note


def test_an_address_shipengine_cannot_validate_is_refused_with_its_words(shipengine, make_trade_in):
    shipengine.clear()
    shipengine.validates_addresses(status="error")
    trade_in = make_trade_in(State.ACCEPTED)

    effect = SideEffect.objects.get(kind=SideEffectKind.CREATE_LABEL, trade_in=trade_in)
    assert effect.status == SideEffectStatus.FAILED
    failure = Event.objects.get(trade_in=trade_in, kind=EventKind.LABEL_CREATED, is_failure=True)
    assert "could not validate the buyer's address: Address not found" in failure.note
    assert label_posts(shipengine) == 0


def test_an_address_shipengine_would_refuse_is_refused_before_any_call(
    shipengine, make_trade_in, drain
):
    # The buyer form and the submit action refuse such an address (workflows.rules.addresses, the
    # same rules); a row written before those rules, or edited since, is still caught here.
    trade_in = make_trade_in(State.QUOTED)
    Order.objects.filter(pk=trade_in.order_id).update(region="Illinois", postcode="6060")
    actions.trade_in_accept(quote=trade_in.quotes.get(), declaration=declared())
    drain()

    failure = Event.objects.get(trade_in=trade_in, kind=EventKind.LABEL_CREATED, is_failure=True)
    assert "the state 'Illinois' is not a USPS state code" in failure.note
    assert "the ZIP code '6060' is not 5 digits" in failure.note
    assert not shipengine.arrivals


def test_a_parcel_at_a_collection_point_ends_polling_and_the_newest_event_is_shown(
    shipengine, make_trade_in
):
    sells_labels(shipengine, [])
    trade_in = make_trade_in(State.ACCEPTED)
    shipengine.clear()
    answer = shipengine_example("/v1/labels/{label_id}/track")
    older = {**answer["events"][0], "occurred_at": "2026-11-20T09:00:00Z"}
    newest = {**answer["events"][0], "occurred_at": "2026-11-21T15:00:00Z"}
    shipengine.expect_request("/v1/labels/se-392157963/track").respond_with_json(
        {
            **answer,
            "status_code": "SP",
            "status_description": "Delivered To Collection Location",
            # Carriers list events in any order: the newest by time is where the parcel is.
            "events": [
                {**older, "description": "Accepted at USPS Origin Facility"},
                {**newest, "description": "Available for pickup at a Parcel Locker"},
            ],
        }
    )

    assert poll_tracking() == 1
    note = Event.objects.get(trade_in=trade_in, kind=EventKind.TRACKING_UPDATED).note
    assert "Available for pickup at a Parcel Locker" in note
    assert ShippingLabel.objects.get(trade_in=trade_in).tracking_status == "SP"
    asked = len(shipengine.arrivals)
    assert poll_tracking() == 0
    assert len(shipengine.arrivals) == asked  # collected at the locker: no more polling


def test_the_shipengine_fake_refuses_the_old_label_request_with_shipengines_400(shipengine):
    import requests

    # The request we used to send with SHIPENGINE_CARRIER_ID unset: no carrier_id, and only
    # one of the three label_messages lines.
    old = {
        "shipment": {
            "service_code": "usps_priority_mail",
            "ship_from": {
                "name": "Ada Buyer",
                "phone": "555",
                "address_line1": "1 Main St",
                "city_locality": "Chicago",
                "state_province": "IL",
                "postal_code": "60601",
                "country_code": "US",
            },
            "ship_to": {
                "name": "Shop",
                "phone": "555",
                "address_line1": "12 Market Street",
                "city_locality": "Springfield",
                "state_province": "IL",
                "postal_code": "62701",
                "country_code": "US",
            },
            "packages": [
                {"weight": {"value": 400, "unit": "gram"}, "label_messages": {"reference1": "R"}}
            ],
        },
        "charge_event": "when_used",
    }
    response = requests.post(
        shipengine.url_for("/v1/labels"),
        json=old,
        headers={"API-Key": "TEST_shipengine_key"},
        timeout=5,
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"request_id", "errors"}
    messages = " ".join(e["message"] for e in body["errors"])
    assert "'carrier_id' is a required property" in messages
    assert "'reference2' is a required property" in messages
    assert "'when_used' is not one of" in messages
    no_key = requests.get(shipengine.url_for("/v1/carriers"), timeout=5)
    assert no_key.status_code == 401
    unknown = requests.post(
        shipengine.url_for("/v1/labels/se-1/cancel"),
        headers={"API-Key": "k"},
        timeout=5,
    )
    assert unknown.status_code == 404
    shipengine.refusals_expected = True
