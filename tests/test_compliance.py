"""Second-hand dealer rules: declaration, seller identity, hold, police report, receipt,
retention. Each rule with its setting on and off, end to end through the real URLs."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from werkzeug import Response

from tests.helpers import declaration_post, declared, intake_data, refresh, staff_client
from workflows import actions, crypto
from workflows.errors import InvalidInput, TransitionRefused
from workflows.links import quote_token, status_token
from workflows.models import (
    Declaration,
    Event,
    EventKind,
    IdNumberAccess,
    Payout,
    PoliceReport,
    PoliceReportStatus,
    SellerIdentity,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    TradeIn,
    Unit,
)
from workflows.rules import compliance
from workflows.rules.inspection import checklist_as_disclosed
from workflows.tasks.compliance import anonymise_expired_records, send_police_reports

ID_NUMBER = "S530-4412-9876"


def login(user) -> Client:
    return staff_client(user)


def an_id(**overrides) -> actions.IdentityInput:
    today = timezone.localdate()
    fields = dict(
        id_type="drivers_license",
        id_number=ID_NUMBER,
        issuer="MD",
        birth_date=date(1990, 4, 23),
        expires_on=today.replace(year=today.year + 2),
        signature="Ada Buyer",
    )
    fields.update(overrides)
    return actions.IdentityInput(**fields)


def intake(trade_in: TradeIn, actor, grade: str) -> TradeIn:
    return actions.trade_in_intake(
        trade_in=trade_in,
        scanned_imei=trade_in.imei,
        actor=actor,
        checklist=checklist_as_disclosed(trade_in),
        outcome="grade",
        grade=grade,
    )


def accept_url(trade_in: TradeIn) -> str:
    return f"/trade-in/offer/{quote_token(trade_in.latest_quote())}/accept/"


def events(trade_in: TradeIn, kind: str) -> list[Event]:
    return list(Event.objects.filter(trade_in=trade_in, kind=kind))


# --- declaration -------------------------------------------------------------------------------
def test_it_accepts_only_with_the_declaration_and_stores_what_was_shown(client, make_trade_in):
    trade_in = make_trade_in(State.QUOTED)
    page = client.get(f"/trade-in/offer/{quote_token(trade_in.latest_quote())}/")
    assert compliance.declaration_text() in page.content.decode()

    refused = client.post(accept_url(trade_in), {})
    assert refused.status_code == 400
    assert "Please tick to confirm." in refused.content.decode()
    assert refresh(trade_in).state == State.QUOTED
    assert not Payout.objects.filter(trade_in=trade_in).exists()
    assert not Declaration.objects.exists()

    accepted = client.post(accept_url(trade_in), declaration_post(), REMOTE_ADDR="203.0.113.9")
    assert accepted.status_code == 302
    assert refresh(trade_in).state == State.ACCEPTED
    declaration = Declaration.objects.get(trade_in=trade_in)
    assert declaration.wording == compliance.declaration_text()
    assert "at least 18 years old" in declaration.wording
    assert declaration.ip == "203.0.113.9"
    assert declaration.quote == trade_in.latest_quote()
    assert abs(declaration.made_at - timezone.now()) < timedelta(minutes=1)
    assert events(trade_in, EventKind.DECLARED)


def test_the_accept_action_refuses_without_a_declaration_even_called_directly(make_trade_in):
    trade_in = make_trade_in(State.QUOTED)
    with pytest.raises(InvalidInput, match="confirm the declaration"):
        actions.trade_in_accept(quote=trade_in.latest_quote())
    with pytest.raises(InvalidInput, match="confirm the declaration"):
        actions.trade_in_accept(
            quote=trade_in.latest_quote(), declaration=declared(confirmed=False)
        )
    with pytest.raises(InvalidInput, match="wording has changed"):
        actions.trade_in_accept(quote=trade_in.latest_quote(), declaration=declared(wording="x"))
    assert refresh(trade_in).state == State.QUOTED


def test_it_accepts_without_a_declaration_when_the_setting_is_off(client, make_trade_in, settings):
    settings.DECLARATION_REQUIRED = False
    trade_in = make_trade_in(State.QUOTED)
    page = client.get(f"/trade-in/offer/{quote_token(trade_in.latest_quote())}/")
    assert "Your declaration" not in page.content.decode()
    assert client.post(accept_url(trade_in), {}).status_code == 302
    assert refresh(trade_in).state == State.ACCEPTED
    assert not Declaration.objects.exists()


def test_the_shops_own_wording_is_shown_and_a_wording_changed_meanwhile_is_refused(
    client, make_trade_in, settings
):
    settings.DECLARATION_TEXT = "I own this phone and I am {min_age} or older."
    settings.SELLER_MIN_AGE = 21
    trade_in = make_trade_in(State.QUOTED)
    page = client.get(f"/trade-in/offer/{quote_token(trade_in.latest_quote())}/").content.decode()
    assert "I own this phone and I am 21 or older." in page
    stale = declaration_post()
    settings.DECLARATION_TEXT = "New wording {min_age}"
    response = client.post(accept_url(trade_in), stale)
    assert response.status_code == 400 and "wording has changed" in response.content.decode()
    assert refresh(trade_in).state == State.QUOTED


@pytest.mark.parametrize(
    ("born", "message"),
    [
        (lambda today: today.replace(year=today.year - 17), "aged 18 or over"),
        (lambda today: today + timedelta(days=1), "in the future"),
        (lambda today: None, "Enter the date."),
    ],
)
def test_an_under_age_or_future_birth_date_refuses_the_purchase(
    client, make_trade_in, settings, born, message
):
    settings.DECLARATION_ASKS_BIRTH_DATE = True
    trade_in = make_trade_in(State.QUOTED)
    birth = born(timezone.localdate())
    data = declaration_post(birth_date=birth.isoformat() if birth else "")
    response = client.post(accept_url(trade_in), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert refresh(trade_in).state == State.QUOTED
    assert not Unit.objects.filter(trade_in=trade_in).exists()


def test_an_adult_birth_date_is_stored_with_the_declaration(client, make_trade_in, settings):
    settings.DECLARATION_ASKS_BIRTH_DATE = True
    trade_in = make_trade_in(State.QUOTED)
    today = timezone.localdate()
    eighteen = today.replace(year=today.year - 18) - timedelta(days=1)
    response = client.post(accept_url(trade_in), declaration_post(birth_date=eighteen.isoformat()))
    assert response.status_code == 302
    assert Declaration.objects.get(trade_in=trade_in).birth_date == eighteen


# --- seller identity ---------------------------------------------------------------------------
def test_the_id_number_is_encrypted_at_rest(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    identity = actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id())
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM workflows_selleridentity WHERE id = %s", [identity.pk])
        row = cursor.fetchone()
        columns = [c[0] for c in cursor.description]
    stored = dict(zip(columns, row, strict=True))
    for value in stored.values():
        text = str(value).upper()
        assert ID_NUMBER not in text and ID_NUMBER.replace("-", "") not in text
        assert "4412" not in text  # not even the middle of it
    assert stored["id_number_last4"] == "9876"
    assert crypto.decrypt(stored["id_number_encrypted"]) == ID_NUMBER


def test_an_old_key_still_opens_the_number_after_rotation(make_trade_in, staff, settings):
    trade_in = make_trade_in(State.ACCEPTED)
    identity = actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id())
    old = list(settings.ID_ENCRYPTION_KEYS)
    settings.ID_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old]
    assert crypto.decrypt(refresh(identity).id_number_encrypted) == ID_NUMBER
    settings.ID_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(refresh(identity).id_number_encrypted)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expires_on": date(2020, 1, 1)}, "expired on 2020-01-01"),
        ({"birth_date": None}, "date of birth"),
        ({"id_number": "  "}, "Enter the ID number"),
        ({"issuer": ""}, "issued the ID"),
        ({"expires_on": None}, "expiry date"),
        ({"id_number": "<script>"}, "letters, digits"),
    ],
)
def test_a_bad_id_is_refused_and_nothing_is_stored(make_trade_in, staff, change, message):
    trade_in = make_trade_in(State.ACCEPTED)
    with pytest.raises(InvalidInput, match=message):
        actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id(**change))
    assert not SellerIdentity.objects.exists()


def test_an_under_age_or_future_date_of_birth_on_the_id_is_refused(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    today = timezone.localdate()
    for born, message in [
        (today.replace(year=today.year - 16), "aged 18 or over"),
        (today + timedelta(days=3), "in the future"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            actions.seller_identity_record(
                trade_in=trade_in, actor=staff, data=an_id(birth_date=born)
            )
    assert not SellerIdentity.objects.exists()


def test_the_payout_waits_for_the_id_when_required_before_payout(
    make_trade_in, manager, staff, settings
):
    settings.SELLER_ID_REQUIRED = "payout"
    trade_in = make_trade_in(State.RECEIVED)  # receiving does not need it in this setting
    office = login(manager)
    url = reverse("admin:workflows_payout_change", args=[trade_in.payout.pk])
    page = office.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    assert "ID missing" in page.content.decode()
    with pytest.raises(TransitionRefused, match="photo ID is required"):
        actions.payout_settle_check(
            payout=trade_in.payout, actor=manager, check_number="77", check_date=date.today()
        )
    assert refresh(trade_in).state == State.RECEIVED
    assert office.get(url).status_code == 200

    actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id())
    actions.payout_settle_check(
        payout=trade_in.payout, actor=manager, check_number="77", check_date=date.today()
    )
    assert refresh(trade_in).state == State.CLOSED


def test_the_payout_needs_no_id_when_the_setting_is_off(make_trade_in, manager, settings):
    settings.SELLER_ID_REQUIRED = "off"
    trade_in = make_trade_in(State.RECEIVED)
    actions.payout_settle_check(
        payout=trade_in.payout, actor=manager, check_number="78", check_date=date.today()
    )
    assert refresh(trade_in).state == State.CLOSED


def test_at_drop_off_the_device_is_not_received_without_the_id(make_trade_in, staff, settings):
    settings.SELLER_ID_REQUIRED = "dropoff"
    trade_in = make_trade_in(State.ACCEPTED)
    bench = login(staff)
    response = bench.post(
        reverse("admin:intake_bench"), intake_data(trade_in, grade="A"), follow=True
    )
    assert "photo ID is required" in response.content.decode()
    assert refresh(trade_in).state == State.ACCEPTED

    # Staff type the ID from the card at the counter, then receive.
    recorded = bench.post(
        reverse("admin:tradein_compliance", args=[trade_in.pk, "identity"]),
        {
            "id_type": "state_id",
            "id_number": ID_NUMBER,
            "issuer": "MD",
            "birth_date": "1990-04-23",
            "expires_on": (timezone.localdate() + timedelta(days=400)).isoformat(),
        },
        follow=True,
    )
    assert "Seller&#x27;s ID recorded." in recorded.content.decode()
    identity = SellerIdentity.objects.get(trade_in=trade_in)
    assert identity.captured_by == staff and identity.captured_via == "counter"
    bench.post(reverse("admin:intake_bench"), intake_data(trade_in, grade="A"))
    assert refresh(trade_in).state == State.RECEIVED


def test_an_expired_id_typed_at_the_counter_is_refused_with_a_message(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    response = login(staff).post(
        reverse("admin:tradein_compliance", args=[trade_in.pk, "identity"]),
        {
            "id_type": "passport",
            "id_number": ID_NUMBER,
            "issuer": "US",
            "birth_date": "1990-04-23",
            "expires_on": "2021-06-30",
        },
        follow=True,
    )
    assert "This ID expired on 2021-06-30" in response.content.decode()
    assert not SellerIdentity.objects.exists()


def test_the_buyer_fills_in_their_id_on_the_signed_page(client, make_trade_in, settings):
    settings.SELLER_ID_REQUIRED = "payout"
    trade_in = make_trade_in(State.ACCEPTED)
    token = status_token(trade_in)
    status = client.get(f"/trade-in/status/{token}/").content.decode()
    assert "Add your photo ID" in status
    url = reverse("buyer_portal:identity", args=[token])
    assert "Sign: type your full name" in client.get(url).content.decode()
    data = {
        "id_type": "drivers_license",
        "id_number": ID_NUMBER,
        "issuer": "MD",
        "birth_date": "1990-04-23",
        "expires_on": (timezone.localdate() + timedelta(days=400)).isoformat(),
        "signature": "",
    }
    unsigned = client.post(url, data)
    assert unsigned.status_code == 400 and "Type your full name" in unsigned.content.decode()
    expired = client.post(url, {**data, "signature": "Ada Buyer", "expires_on": "2022-01-01"})
    assert expired.status_code == 400 and "expired on 2022-01-01" in expired.content.decode()
    assert not SellerIdentity.objects.exists()

    assert (
        client.post(url, {**data, "signature": "Ada Buyer"}, REMOTE_ADDR="198.51.100.7").status_code
        == 302
    )
    identity = SellerIdentity.objects.get(trade_in=trade_in)
    assert identity.captured_via == "buyer" and identity.signature == "Ada Buyer"
    assert str(identity.ip) == "198.51.100.7"
    shown = client.get(url).content.decode()
    assert "•••• 9876" in shown and ID_NUMBER not in shown
    assert client.post(url, {**data, "signature": "Someone Else"}).status_code == 409
    assert "Add your photo ID" not in client.get(f"/trade-in/status/{token}/").content.decode()


def test_the_number_is_masked_to_staff_and_each_unmasked_view_is_audited(
    make_trade_in, staff, manager
):
    trade_in = make_trade_in(State.RECEIVED)
    actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id())
    page_url = reverse("admin:workflows_tradein_change", args=[trade_in.pk])
    reveal_url = reverse("admin:tradein_compliance", args=[trade_in.pk, "reveal"])

    desk = login(staff)
    page = desk.get(page_url).content.decode()
    assert "•••• 9876" in page and ID_NUMBER not in page and "Show the whole ID number" not in page
    refused = desk.post(reveal_url, {"purpose": "curious"}, follow=True).content.decode()
    assert ID_NUMBER not in refused and "Only a manager" in refused
    assert not IdNumberAccess.objects.exists()

    office = login(manager)
    assert "Show the whole ID number" in office.get(page_url).content.decode()
    assert (
        "This field is required"
        in office.post(reveal_url, {"purpose": ""}, follow=True).content.decode()
    )
    assert not IdNumberAccess.objects.exists()
    shown = office.post(reveal_url, {"purpose": "Detective Ruiz asked, case 24-118"})
    assert shown.status_code == 200 and ID_NUMBER in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    access = IdNumberAccess.objects.get()
    assert access.actor == manager and access.purpose == "Detective Ruiz asked, case 24-118"
    assert events(trade_in, EventKind.ID_NUMBER_VIEWED)[0].actor == manager
    audit = office.get(reverse("admin:workflows_idnumberaccess_changelist")).content.decode()
    assert "Detective Ruiz asked" in audit


# --- hold period -------------------------------------------------------------------------------
def _age_purchase(trade_in: TradeIn, days: int) -> None:
    then = timezone.now() - timedelta(days=days)
    TradeIn.objects.filter(pk=trade_in.pk).update(received_at=then)


def test_there_is_no_hold_when_the_setting_is_zero(make_trade_in, settings):
    settings.HOLD_DAYS = 0
    unit = refresh(make_trade_in(State.RECEIVED)).unit
    assert not compliance.unit_on_hold(unit)
    assert compliance.hold_refusal(unit, "sell") == ""


def test_a_unit_on_hold_cannot_be_listed_or_sold_until_the_date(make_trade_in, settings):
    settings.HOLD_DAYS = 21
    settings.POLICE_REPORT = "off"  # then the hold counts from receipt
    trade_in = make_trade_in(State.RECEIVED)
    unit = Unit.objects.get(trade_in=trade_in)
    assert compliance.unit_on_hold(unit)
    until = timezone.localdate() + timedelta(days=21)
    assert f"on the police hold until {until:%Y-%m-%d}" in compliance.hold_refusal(unit, "sell")
    _age_purchase(trade_in, 20)
    assert compliance.unit_on_hold(Unit.objects.get(pk=unit.pk))
    _age_purchase(trade_in, 21)
    unit = Unit.objects.get(pk=unit.pk)
    assert not compliance.unit_on_hold(unit)
    assert compliance.hold_refusal(unit, "sell") == ""


def test_the_unit_actions_refuse_to_list_or_sell_a_unit_on_hold_even_called_directly(
    make_trade_in, staff, settings
):
    settings.HOLD_DAYS = 21
    settings.POLICE_REPORT = "off"
    trade_in = make_trade_in(State.RECEIVED)
    unit = Unit.objects.get(trade_in=trade_in)
    for operation in ("list", "sell"):
        with pytest.raises(TransitionRefused, match="police hold"):
            actions.unit_change_status(unit=unit, actor=staff, operation=operation)
    assert Unit.objects.get(pk=unit.pk).status == unit.status
    _age_purchase(trade_in, 21)
    actions.unit_change_status(unit=unit, actor=staff, operation="list")
    assert Unit.objects.get(pk=unit.pk).status != unit.status


def test_the_hold_counts_from_the_police_report(make_trade_in, settings, tmp_path):
    settings.HOLD_DAYS = 10
    settings.POLICE_REPORT = "folder"
    settings.POLICE_REPORT_DIR = tmp_path
    trade_in = make_trade_in(State.RECEIVED)
    _age_purchase(trade_in, 30)  # received long ago, but never reported: still on hold
    unit = Unit.objects.get(trade_in=trade_in)
    assert "has not been reported yet" in compliance.hold_refusal(unit, "sell")
    TradeIn.objects.filter(pk=trade_in.pk).update(reported_at=timezone.now() - timedelta(days=9))
    assert compliance.unit_on_hold(Unit.objects.get(pk=unit.pk))
    TradeIn.objects.filter(pk=trade_in.pk).update(reported_at=timezone.now() - timedelta(days=10))
    assert not compliance.unit_on_hold(Unit.objects.get(pk=unit.pk))


def test_a_manager_releases_a_hold_early_only_with_a_police_reference(
    make_trade_in, staff, manager, settings
):
    settings.HOLD_DAYS = 21
    trade_in = make_trade_in(State.RECEIVED)
    url = reverse("admin:tradein_compliance", args=[trade_in.pk, "release"])
    assert (
        "Only a manager"
        in login(staff).post(url, {"police_reference": "MCPD-1"}, follow=True).content.decode()
    )
    office = login(manager)
    page = office.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    assert "Release from the police hold early" in page.content.decode()
    missing = office.post(url, {"police_reference": " "}, follow=True).content.decode()
    assert "This field is required" in missing or "police reference" in missing.lower()
    assert compliance.unit_on_hold(Unit.objects.get(trade_in=trade_in))
    office.post(url, {"police_reference": "MCPD 24-0931"})
    unit = Unit.objects.get(trade_in=trade_in)
    assert not compliance.unit_on_hold(unit)
    assert unit.hold_release.released_by == manager
    event = events(trade_in, EventKind.HOLD_RELEASED)[0]
    assert "MCPD 24-0931" in event.note and event.actor == manager
    with pytest.raises(TransitionRefused, match="not on hold"):
        actions.unit_hold_release(unit=unit, actor=manager, police_reference="again")


# --- police report -----------------------------------------------------------------------------
def _report_settings(settings, tmp_path, mode: str = "folder") -> None:
    settings.POLICE_REPORT = mode
    settings.POLICE_REPORT_DIR = tmp_path
    settings.POLICE_REPORT_EVERY_HOURS = 0


def _received_with_id(make_trade_in, staff, **overrides) -> TradeIn:
    trade_in = make_trade_in(State.ACCEPTED, **overrides)
    actions.seller_identity_record(trade_in=trade_in, actor=staff, data=an_id())
    intake(trade_in, staff, "B")
    return refresh(trade_in)


def _expected_row(t: TradeIn) -> dict[str, str]:
    model = t.product.device_model
    return {
        "row_type": "purchase",
        "reference": t.reference,
        "order": t.order.reference,
        "purchased_at": timezone.localtime(t.received_at).strftime("%Y-%m-%d %H:%M:%S"),
        "seller_name": t.buyer_name,
        "address": t.address_line1,
        "city": t.city,
        "state": t.region,
        "postcode": t.postcode,
        "country": t.country,
        "id_type": "Driver's license",
        "id_number": ID_NUMBER,
        "id_issuer": "MD",
        "id_expires": compliance.current_identity(t).expires_on.isoformat(),
        "date_of_birth": "1990-04-23",
        "make": model.make.name,
        "model": model.name,
        "storage_gb": str(t.product.storage_gb),
        "imei": t.imei,
        "grade": "B",
        "price": f"{t.payout.amount:.2f}",
        "currency": t.payout.currency,
        "change": "",
    }


def test_the_report_is_written_to_the_folder_and_its_rows_match_the_database(
    make_trade_in, staff, drain, settings, tmp_path
):
    _report_settings(settings, tmp_path)
    first = _received_with_id(make_trade_in, staff)
    second = _received_with_id(make_trade_in, staff, buyer_name="=HYPERLINK(1)")
    make_trade_in(State.ACCEPTED)  # not received yet: not a purchase
    assert send_police_reports() == 2
    drain()
    report = PoliceReport.objects.get()
    assert report.status == PoliceReportStatus.SENT and report.rows == 2
    files = list(tmp_path.glob("purchases-*.csv"))
    assert [f.name for f in files] == [report.filename]
    rows = list(csv.DictReader(io.StringIO(files[0].read_text())))
    expected = [_expected_row(refresh(first)), _expected_row(refresh(second))]
    expected[1]["seller_name"] = "'=HYPERLINK(1)"  # a spreadsheet will not run it
    assert rows == expected
    for t in (first, second):
        t = refresh(t)
        assert t.reported_at is not None and t.police_report == report
        assert events(t, EventKind.REPORTED_TO_POLICE)
    assert IdNumberAccess.objects.filter(actor_label="system").count() == 2
    assert send_police_reports() == 0  # nothing new


def test_without_an_id_the_report_has_the_declared_birth_date(
    make_trade_in, staff, drain, settings, tmp_path
):
    _report_settings(settings, tmp_path)
    settings.DECLARATION_ASKS_BIRTH_DATE = True
    trade_in = make_trade_in(State.QUOTED)
    born = date(1985, 7, 14)
    actions.trade_in_accept(quote=trade_in.latest_quote(), declaration=declared(birth_date=born))
    intake(trade_in, staff, "A")
    send_police_reports()
    drain()
    (row,) = csv.DictReader(io.StringIO(next(tmp_path.glob("*.csv")).read_text()))
    assert row["date_of_birth"] == "1985-07-14" and row["id_number"] == "" and row["grade"] == "A"
    assert not IdNumberAccess.objects.exists()  # no ID number was read


def test_no_report_is_made_when_reporting_is_off(make_trade_in, staff, drain, settings):
    settings.POLICE_REPORT = "off"
    _received_with_id(make_trade_in, staff)
    assert send_police_reports() == 0
    assert not PoliceReport.objects.exists()


def test_a_batch_waits_until_its_oldest_purchase_has_waited_the_configured_hours(
    make_trade_in, staff, settings, tmp_path
):
    _report_settings(settings, tmp_path)
    settings.POLICE_REPORT_EVERY_HOURS = 12
    trade_in = _received_with_id(make_trade_in, staff)
    assert send_police_reports() == 0
    TradeIn.objects.filter(pk=trade_in.pk).update(received_at=timezone.now() - timedelta(hours=13))
    assert send_police_reports() == 1


def _make_due() -> None:
    SideEffect.objects.filter(status=SideEffectStatus.PENDING).update(
        next_attempt_at=timezone.now()
    )


def test_the_endpoint_failing_or_answering_garbage_is_retried_and_visible(
    make_trade_in, staff, manager, drain, settings, tmp_path, httpserver
):
    _report_settings(settings, tmp_path, "http")
    settings.POLICE_REPORT_URL = httpserver.url_for("/reports")
    settings.POLICE_REPORT_TOKEN = "police-token"
    settings.POLICE_REPORT_TIMEOUT = 2
    trade_in = _received_with_id(make_trade_in, staff)
    posted: list[bytes] = []

    def answer(body: str, status: int = 200, content_type: str = "application/json"):
        def handler(request):
            assert request.headers["Authorization"] == "Bearer police-token"
            assert request.headers["Content-Type"].startswith("text/csv")
            assert request.headers["Idempotency-Key"].startswith("police-report-")
            posted.append(request.get_data())
            return Response(body, status=status, content_type=content_type)

        return handler

    httpserver.expect_ordered_request("/reports", method="POST").respond_with_handler(
        answer("upstream down", 500, "text/plain")
    )
    httpserver.expect_ordered_request("/reports", method="POST").respond_with_handler(
        answer("<html>Thanks!</html>", 200, "text/html")
    )
    httpserver.expect_ordered_request("/reports", method="POST").respond_with_handler(
        answer('{"received": 5}')
    )
    httpserver.expect_ordered_request("/reports", method="POST").respond_with_handler(
        answer('{"received": 1}')
    )
    settings.POLICE_REPORT_DEADLINE_HOURS = 1
    TradeIn.objects.filter(pk=trade_in.pk).update(received_at=timezone.now() - timedelta(hours=2))
    send_police_reports()
    drain()
    report = PoliceReport.objects.get()
    effect = SideEffect.objects.get(kind=SideEffectKind.DELIVER_POLICE_REPORT)
    assert effect.status == SideEffectStatus.PENDING and "HTTP 500" in effect.last_error
    assert "HTTP 500" in refresh(report).last_error
    assert refresh(trade_in).reported_at is None
    dashboard = login(manager).get("/dashboard/").content.decode()
    assert "Police reports late" in dashboard and "1 delivery failing" in dashboard

    for expected_error in ("instead of JSON", "confirmed 5 rows"):
        _make_due()
        drain()
        assert expected_error in refresh(effect).last_error
        assert refresh(report).status == PoliceReportStatus.PENDING
        assert refresh(trade_in).reported_at is None

    _make_due()
    drain()
    assert refresh(effect).status == SideEffectStatus.DONE
    assert refresh(report).status == PoliceReportStatus.SENT
    assert refresh(trade_in).reported_at is not None
    assert len(set(posted)) == 1 and trade_in.imei.encode() in posted[0]  # the same file each time
    dashboard = login(manager).get("/dashboard/").content.decode()
    assert "delivery failing" not in dashboard
    httpserver.check_assertions()


def test_an_endpoint_that_never_recovers_is_marked_failed(
    make_trade_in, staff, drain, settings, tmp_path, httpserver
):
    _report_settings(settings, tmp_path, "http")
    settings.POLICE_REPORT_URL = httpserver.url_for("/reports")
    settings.SIDE_EFFECT_MAX_ATTEMPTS = 2
    httpserver.expect_request("/reports").respond_with_data("boom", status=503)
    _received_with_id(make_trade_in, staff)
    send_police_reports()
    drain()
    _make_due()
    drain()
    report = PoliceReport.objects.get()
    assert report.status == PoliceReportStatus.FAILED and "HTTP 503" in report.last_error
    assert (
        SideEffect.objects.get(kind=SideEffectKind.DELIVER_POLICE_REPORT).status
        == SideEffectStatus.FAILED
    )


def test_the_daily_csv_export_matches_the_database_and_is_for_managers(
    make_trade_in, staff, manager, settings
):
    first = _received_with_id(make_trade_in, staff)
    second = _received_with_id(make_trade_in, staff)
    yesterday = _received_with_id(make_trade_in, staff)
    _age_purchase(yesterday, 1)
    url = reverse("admin:police_daily_export")
    today = timezone.localdate().isoformat()
    assert login(staff).get(url, {"day": today}).status_code == 403
    response = login(manager).get(url, {"day": today})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows == [_expected_row(refresh(first)), _expected_row(refresh(second))]
    assert IdNumberAccess.objects.filter(actor=manager).count() == 2
    page = login(manager).get(reverse("admin:workflows_policereport_changelist"))
    assert "Daily police CSV" in page.content.decode()


def test_the_daily_csv_export_is_an_action_on_the_timeline_and_refused_without_permission(
    make_trade_in, staff, manager
):
    """Issue 19: the export wrote the audit rows from the view, with no authorize and no
    timeline row; the action does both, so a direct call by staff is refused too."""
    trade_in = _received_with_id(make_trade_in, staff)
    day = timezone.localdate()
    with pytest.raises(TransitionRefused, match="Only a manager can export the police CSV"):
        actions.police_daily_export(day=day, actor=staff)
    with pytest.raises(TransitionRefused):
        actions.police_daily_export(day=day, actor=actions.SYSTEM)
    assert not IdNumberAccess.objects.exists()
    content = actions.police_daily_export(day=day, actor=manager)
    assert trade_in.reference in content.decode()
    access = IdNumberAccess.objects.get()
    assert (access.actor, access.purpose) == (manager, f"daily police CSV for {day:%Y-%m-%d}")
    (event,) = events(trade_in, EventKind.ID_NUMBER_VIEWED)
    assert event.actor == manager and "daily police CSV" in event.note


def test_late_purchases_are_counted_on_the_dashboard(make_trade_in, staff, manager, settings):
    settings.POLICE_REPORT = "folder"
    settings.POLICE_REPORT_DEADLINE_HOURS = 24
    trade_in = _received_with_id(make_trade_in, staff)
    _received_with_id(make_trade_in, staff)
    assert compliance.late_reports().count() == 0
    TradeIn.objects.filter(pk=trade_in.pk).update(received_at=timezone.now() - timedelta(hours=25))
    assert list(compliance.late_reports()) == [trade_in]
    page = login(manager).get("/dashboard/").content.decode()
    assert "Police reports late" in page
    settings.POLICE_REPORT = "off"
    assert "Police reports late" not in login(manager).get("/dashboard/").content.decode()


# --- purchase receipt --------------------------------------------------------------------------
def test_the_receipt_is_emailed_at_acceptance_and_staff_can_print_it(
    client, make_trade_in, staff, drain
):
    trade_in = make_trade_in(State.QUOTED)
    url = reverse("admin:purchase_receipt", args=[trade_in.pk])
    assert login(staff).get(url).status_code == 404  # no purchase yet
    client.post(accept_url(trade_in), declaration_post())
    drain()
    receipt = [m for m in mail.outbox if "purchase receipt" in m.subject]
    assert len(receipt) == 1 and receipt[0].to == ["ada@example.com"]
    ((name, pdf, mimetype),) = receipt[0].attachments
    assert name == f"purchase-receipt-{trade_in.reference}.pdf" and mimetype == "application/pdf"

    trade_in = refresh(trade_in)
    printed = login(staff).get(url)
    assert printed.status_code == 200 and printed["Content-Type"] == "application/pdf"
    for document in (pdf, printed.content):
        assert document.startswith(b"%PDF")
        for text in (
            "Demo Phone Shop",
            trade_in.buyer_name,
            trade_in.imei,
            "$300.00",
            "lawful owner of the device",
            str(trade_in.product.device_model),
        ):
            assert text.encode("latin-1") in document, text
    page = login(staff).get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    assert url in page.content.decode()
    assert Client().get(url).status_code == 302  # to the login


# --- retention and erasure ---------------------------------------------------------------------
def test_the_retention_task_anonymises_old_records_and_keeps_the_money(
    make_trade_in, staff, manager, settings
):
    settings.RETENTION_DAYS = 365
    old = _received_with_id(make_trade_in, staff)
    actions.payout_settle_check(
        payout=old.payout, actor=manager, check_number="9", check_date=date.today()
    )
    recent = _received_with_id(make_trade_in, staff)
    declined = make_trade_in(State.DECLINED)
    past = timezone.now() - timedelta(days=366)
    TradeIn.objects.filter(pk=old.pk).update(received_at=past, updated_at=past)
    TradeIn.objects.filter(pk=declined.pk).update(updated_at=past)

    assert anonymise_expired_records() == 2
    old = refresh(old)
    assert old.anonymised_at and old.buyer_name == "anonymised"
    assert "ada@example.com" not in old.buyer_email and old.address_line1 == old.city == ""
    identity = SellerIdentity.objects.get(trade_in=old)
    assert identity.id_number_encrypted == "" and identity.birth_date is None
    assert identity.masked_number == "(erased)"
    payout = Payout.objects.get(trade_in=old)
    assert payout.amount == old.offer_amount and payout.status == "settled"
    assert old.imei and events(old, EventKind.ANONYMISED)
    assert refresh(declined).anonymised_at is not None
    assert refresh(recent).anonymised_at is None and refresh(recent).buyer_name == "Ada Buyer"
    assert anonymise_expired_records() == 0


def test_a_manager_erases_a_buyer_only_where_the_law_allows(
    make_trade_in, staff, manager, settings
):
    settings.HOLD_DAYS = 21
    declined = make_trade_in(State.DECLINED)
    bought = _received_with_id(make_trade_in, staff)
    office = login(manager)

    def erase(trade_in: TradeIn, reason: str = "Email of 3 May from the buyer") -> str:
        url = reverse("admin:tradein_compliance", args=[trade_in.pk, "erase"])
        return office.post(url, {"reason": reason}, follow=True).content.decode()

    assert "police hold" in erase(bought)
    settings.HOLD_DAYS = 0
    assert "still owed money" in erase(bought)  # the payout is pending
    actions.payout_settle_check(
        payout=refresh(bought).payout, actor=manager, check_number="7", check_date=date.today()
    )
    assert "the law requires the purchase record" in erase(bought)
    assert refresh(bought).buyer_name == "Ada Buyer"
    open_one = make_trade_in(State.QUOTED)
    assert "decline or cancel it first" in erase(open_one)

    assert (
        "Only a manager"
        in login(staff)
        .post(
            reverse("admin:tradein_compliance", args=[declined.pk, "erase"]),
            {"reason": "asked"},
            follow=True,
        )
        .content.decode()
    )
    assert refresh(declined).anonymised_at is None
    assert "was erased" in erase(declined)
    declined = refresh(declined)
    assert declined.anonymised_at and declined.buyer_name == "anonymised"
    event = events(declined, EventKind.ANONYMISED)[0]
    assert event.actor == manager and "Email of 3 May" in event.note
    assert "already erased" in erase(declined)


# --- settings are read strictly ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HOLD_DAYS", "-1", "HOLD_DAYS='-1': expected a number of days"),
        ("SELLER_ID_REQUIRED", "sometimes", "expected off, dropoff or payout"),
        ("DECLARATION_REQUIRED", "maybe", "DECLARATION_REQUIRED='maybe' is not a boolean"),
        ("POLICE_REPORT", "http", "POLICE_REPORT=http needs POLICE_REPORT_URL"),
        ("ID_ENCRYPTION_KEYS", "not-a-key", "must be a Fernet key"),
        ("RETENTION_DAYS", "0", "expected a number of days"),
    ],
)
def test_a_bad_compliance_setting_stops_the_start_with_a_clear_message(name, value, message):
    result = subprocess.run(
        [sys.executable, "-c", "import backoffice.settings"],
        env={"PATH": "/usr/bin:/bin", name: value},
        capture_output=True,
        text=True,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent),
    )
    assert result.returncode != 0
    assert message in result.stderr
