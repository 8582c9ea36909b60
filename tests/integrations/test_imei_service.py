"""The IMEI check against a loopback server that answers like imeicheck.net's `/v1/checks`."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from tests.factories import DeviceModelFactory, valid_imei
from tests.helpers import refresh, staff_client, workflow
from tests.integrations.conftest import make_due
from tests.integrations.provider_spec import imei_sample
from workflows import actions
from workflows.errors import TransitionRefused
from workflows.integrations.imei import model_mismatch
from workflows.models import (
    Event,
    EventKind,
    ImeiCheckStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
)


def answer(imei: str, status: str = "successful", **properties) -> dict:
    """A check as the service answers it (imeicheck-samples.json), for mock service 12, with
    this IMEI and these properties."""
    body = imei_sample("basic_info_gsma")
    kept = {k: v for k, v in body["properties"].items() if "model" not in k.lower()}
    kept.pop("deviceName")  # each test names the model it wants
    return {
        **body,
        "id": "OOhKtrYIPUOesu9Z",
        "status": status,
        "service": {"id": 12, "title": "Mock service with only successful results"},
        "deviceId": imei,
        "properties": {
            **kept,
            "imei": imei,
            "simLock": False,
            "fmiOn": False,
            "network": "Unlocked",
            "usaBlockStatus": "Clean",
            "gsmaBlacklisted": False,
            **properties,
        },
    }


def expect_check(server, imei: str):
    return server.expect_request(
        "/v1/checks",
        method="POST",
        headers={"Authorization": "Bearer imei-key"},
        json={"deviceId": imei, "serviceId": 12},
    )


def posts(server) -> int:
    return sum(1 for request, _ in server.log if request.method == "POST")


def test_it_records_a_clean_check_as_the_service_reports_it(
    imei_service, make_trade_in, product, staff
):
    imei = valid_imei()
    reported = f"{product.device_model.name} 128GB Black [A3090]"
    expect_check(imei_service, imei).respond_with_json(
        answer(imei, deviceName=reported), status=201
    )

    trade_in = make_trade_in(State.SUBMITTED, imei=imei)

    check = trade_in.latest_imei_check()
    assert (trade_in.imei_status, check.status) == ("clean", "clean")
    assert check.provider == "imei-service"
    assert (check.carrier, check.sim_lock, check.activation_lock) == ("Unlocked", False, False)
    assert check.reported_model == reported and not trade_in.model_mismatch
    assert check.raw["id"] == "OOhKtrYIPUOesu9Z"
    assert Event.objects.filter(
        trade_in=trade_in,
        kind=EventKind.IMEI_CHECKED,
        note__startswith="IMEI check (imei-service): Clean",
    ).exists()
    actions.trade_in_quote(trade_in=trade_in, actor=staff, amount="250")  # a clean check quotes


@pytest.mark.parametrize(
    ("properties", "flags"),
    [
        (
            {"usaBlockStatus": "Reported stolen by AT&T MOBILITY", "lostMode": True},
            ["blacklisted", "lost/stolen"],
        ),
        ({"gsmaBlacklisted": True}, ["blacklisted"]),
        ({"financeStatus": "Unpaid balance on installment plan"}, ["finance-locked"]),
    ],
)
def test_it_raises_a_red_flag_that_only_a_manager_can_override(
    imei_service, make_trade_in, staff, properties, flags
):
    imei = valid_imei()
    expect_check(imei_service, imei).respond_with_json(answer(imei, **properties), status=201)

    trade_in = make_trade_in(State.SUBMITTED, imei=imei)

    assert trade_in.imei_status == ImeiCheckStatus.FLAGGED
    assert trade_in.latest_imei_check().red_flags == flags
    with pytest.raises(TransitionRefused, match="red flag"):
        actions.trade_in_quote(trade_in=trade_in, actor=staff, amount="250")


def test_it_flags_a_model_the_buyer_did_not_choose(imei_service, make_trade_in, staff):
    imei = valid_imei()
    expect_check(imei_service, imei).respond_with_json(
        answer(
            imei,
            deviceName="iPhone 13 Pro Max 256GB Gold [A2484] [iPhone14,3]",
            **{"apple/modelName": "iPhone 13 Pro Max"},
        ),
        status=201,
    )

    trade_in = make_trade_in(State.SUBMITTED, imei=imei)

    assert trade_in.model_mismatch and trade_in.latest_imei_check().model_mismatch
    client = staff_client(staff)
    detail = client.get(f"/dashboard/trade-ins/{trade_in.pk}/change/").content.decode()
    assert "Model mismatch" in detail and "iPhone 13 Pro Max" in detail
    assert "model mismatch" in client.get("/dashboard/trade-ins/").content.decode()


@pytest.mark.parametrize(
    ("device_model", "reported", "mismatch"),
    [
        ("iPhone 13", "iPhone 13 Pro Max 256GB Gold [A2484]", True),
        ("iPhone 13 Pro Max", "iPhone 13 Pro Max 256GB Gold [A2484]", False),
        ("iPhone 15 Pro", "iPhone 15 Pro Natural Titanium", False),
        ("iPhone 15", "iPhone 15 Plus", True),
        ("Galaxy Z Fold5", "Samsung Galaxy Z Fold 5 (SM-F946B)", False),
        ("Galaxy S22+", "Galaxy S22", True),
        ("Galaxy S22+", "Samsung Galaxy S22 Plus 5G", False),
        ("Pixel 7", "Google Pixel 7a", True),
        ("iPhone SE (2022)", "iPhone SE (3rd generation)", False),
        ("iPhone 15", "", False),
    ],
)
def test_it_compares_models_by_name_not_by_storage_colour_or_part_number(
    db, device_model, reported, mismatch
):
    make = (
        "Samsung" if "Galaxy" in device_model else "Google" if "Pixel" in device_model else "Apple"
    )
    model = DeviceModelFactory(name=device_model, make__name=make, make__slug=make.lower())
    assert model_mismatch(model, reported) is mismatch


def test_an_answer_without_blacklist_data_is_unknown_not_clean(imei_service, make_trade_in):
    imei = valid_imei()
    body = answer(imei)
    body["properties"] = {"imei": imei, "deviceName": "iPhone 15"}
    expect_check(imei_service, imei).respond_with_json(body, status=201)

    trade_in = make_trade_in(State.SUBMITTED, imei=imei)

    assert trade_in.imei_status == ImeiCheckStatus.UNKNOWN
    assert "did not say whether the IMEI is blacklisted" in trade_in.latest_imei_check().detail


def test_a_refusal_shows_the_services_reason_and_is_not_retried(imei_service, make_trade_in):
    imei = valid_imei()
    expect_check(imei_service, imei).respond_with_json(
        {
            "message": "The given data was invalid.",
            "errors": {"deviceId": ["Device ID is not valid for this service"]},
        },
        status=422,
    )

    trade_in = make_trade_in(State.SUBMITTED, imei=imei)

    check = trade_in.latest_imei_check()
    assert trade_in.imei_status == check.status == ImeiCheckStatus.ERROR
    assert "Device ID is not valid for this service" in check.detail
    effect = SideEffect.objects.get(kind=SideEffectKind.CHECK_IMEI, trade_in=trade_in)
    assert (effect.status, effect.attempts) == (SideEffectStatus.FAILED, 1)
    failure = Event.objects.get(trade_in=trade_in, kind=EventKind.IMEI_CHECKED, is_failure=True)
    assert "HTTP 422" in failure.note and "not retried" in failure.note
    make_due()
    from workflows.tasks import run_due_side_effects

    run_due_side_effects()
    assert posts(imei_service) == 1


def test_a_server_error_is_retried_and_the_retry_succeeds(imei_service, make_trade_in, drain):
    imei = valid_imei()
    expect_check(imei_service, imei).respond_with_data("upstream down", status=503)
    trade_in = make_trade_in(State.SUBMITTED, imei=imei)
    assert trade_in.imei_status == ImeiCheckStatus.PENDING
    assert "HTTP 503" in Event.objects.get(trade_in=trade_in, is_failure=True).note

    imei_service.clear()
    expect_check(imei_service, imei).respond_with_json(answer(imei), status=201)
    make_due()
    drain()

    assert refresh(trade_in).imei_status == ImeiCheckStatus.CLEAN


def test_a_timeout_leaves_the_check_pending_until_a_retry_gets_an_answer(
    imei_service, make_trade_in, drain
):
    imei = valid_imei()

    def slow(request):
        time.sleep(1.0)  # the client gives up after 0.5 s
        return Response(json.dumps(answer(imei)), status=201, content_type="application/json")

    expect_check(imei_service, imei).respond_with_handler(slow)
    trade_in = make_trade_in(State.SUBMITTED, imei=imei)

    assert trade_in.imei_status == ImeiCheckStatus.PENDING
    assert (
        "did not answer within 0.5 s" in Event.objects.get(trade_in=trade_in, is_failure=True).note
    )
    imei_service.clear()
    expect_check(imei_service, imei).respond_with_json(answer(imei), status=201)
    make_due()
    drain()
    assert refresh(trade_in).imei_status == ImeiCheckStatus.CLEAN


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (
            "<html><body>Scheduled maintenance</body></html>",
            "text/html",
            "text/html instead of JSON",
        ),
        ('{"status": "successful", "properties": {', "application/json", "instead of JSON"),
        ("[]", "application/json", "not an object"),
        ('{"result": "ok"}', "application/json", "unexpected body"),
    ],
)
def test_garbage_changes_nothing_is_logged_and_retried_until_given_up(
    imei_service, make_trade_in, settings, caplog, body, content_type, says
):
    settings.SIDE_EFFECT_MAX_ATTEMPTS = 2
    imei = valid_imei()
    expect_check(imei_service, imei).respond_with_data(body, status=200, content_type=content_type)

    with caplog.at_level(logging.WARNING, logger="workflows"):
        trade_in = make_trade_in(State.SUBMITTED, imei=imei)

    assert trade_in.imei_status == ImeiCheckStatus.PENDING  # nothing the answer justifies
    assert says in Event.objects.get(trade_in=trade_in, is_failure=True).note
    assert any("imei-check" in r.message and "IMEI service" in r.message for r in caplog.records)

    make_due()
    from workflows.tasks import run_due_side_effects

    run_due_side_effects()
    check = refresh(trade_in).latest_imei_check()
    assert trade_in.imei_status == check.status == ImeiCheckStatus.ERROR
    assert says in check.detail


def test_a_429_waits_as_long_as_the_service_asks(imei_service, make_trade_in):
    imei = valid_imei()
    expect_check(imei_service, imei).respond_with_json(
        {"message": "Too Many Attempts."}, status=429, headers={"Retry-After": "600"}
    )
    before = timezone.now()

    trade_in = make_trade_in(State.SUBMITTED, imei=imei)

    effect = SideEffect.objects.get(kind=SideEffectKind.CHECK_IMEI, trade_in=trade_in)
    assert effect.status == SideEffectStatus.PENDING
    assert effect.next_attempt_at >= before + timedelta(seconds=600)  # not the usual 30 s
    assert "retrying in 600 s" in Event.objects.get(trade_in=trade_in, is_failure=True).note


def test_a_check_still_processing_is_fetched_later_not_bought_again(
    imei_service, make_trade_in, drain
):
    imei = valid_imei()
    expect_check(imei_service, imei).respond_with_json(
        {**answer(imei, status="processing"), "id": "chk-77", "properties": []}, status=201
    )
    trade_in = make_trade_in(State.SUBMITTED, imei=imei)
    assert trade_in.imei_status == ImeiCheckStatus.PENDING

    imei_service.expect_request("/v1/checks/chk-77", method="GET").respond_with_json(answer(imei))
    make_due()
    drain()

    assert refresh(trade_in).imei_status == ImeiCheckStatus.CLEAN
    assert posts(imei_service) == 1


def test_results_are_cached_per_imei_and_a_staff_rerun_asks_again(
    imei_service, make_trade_in, staff, drain, settings
):
    imei = valid_imei()
    expect_check(imei_service, imei).respond_with_json(answer(imei), status=201)

    first = make_trade_in(State.SUBMITTED, imei=imei)
    second = make_trade_in(State.SUBMITTED, imei=imei)
    assert posts(imei_service) == 1
    # The cached answer is clean; the second open trade-in of one IMEI is a duplicate.
    assert second.latest_imei_check().provider_flags == []
    assert second.latest_imei_check().duplicate_of == first.reference
    assert "cached result" in Event.objects.get(trade_in=second, kind=EventKind.IMEI_CHECKED).note

    response = workflow(staff_client(staff), first, "rerun_check")
    assert "IMEI check requested again" in response.content.decode()
    drain()
    assert posts(imei_service) == 2

    settings.IMEI_CHECK_CACHE_SECONDS = 0  # expired: a new submission pays for a new check
    make_trade_in(State.SUBMITTED, imei=imei)
    assert posts(imei_service) == 3


def test_wording_it_does_not_recognise_needs_review_and_is_never_blacklisted(
    imei_service, make_trade_in
):
    # Before: any sentence in a blacklist field counted as "blacklisted".
    imei = valid_imei()
    expect_check(imei_service, imei).respond_with_json(
        answer(imei, usaBlockStatus="Pending carrier confirmation"), status=201
    )

    trade_in = make_trade_in(State.SUBMITTED, imei=imei)

    check = trade_in.latest_imei_check()
    assert check.status == ImeiCheckStatus.UNKNOWN and not check.blacklisted
    assert check.detail.startswith("Unknown — needs review")
    assert "usaBlockStatus: 'Pending carrier confirmation'" in check.detail


@pytest.mark.parametrize(
    ("sample", "status", "flags"),
    [
        ("basic_info_clean", ImeiCheckStatus.CLEAN, set()),
        ("t_mobile_stolen", ImeiCheckStatus.FLAGGED, {"blacklisted", "lost_stolen"}),
        ("sandbox_stolen_additional_data", ImeiCheckStatus.FLAGGED, {"blacklisted", "lost_stolen"}),
        ("lostmode_as_string", ImeiCheckStatus.CLEAN, set()),  # "false" and "Clean" as words
        ("unsuccessful", ImeiCheckStatus.UNKNOWN, set()),
    ],
)
def test_the_services_published_answers_read_as_they_say(
    imei_service, make_trade_in, sample, status, flags
):
    imei = valid_imei()
    body = {**imei_sample(sample), "deviceId": imei}
    if isinstance(body["properties"], dict):
        body["properties"] = {
            k: v
            for k, v in body["properties"].items()
            if k not in ("deviceName", "apple/modelName")
        }
    expect_check(imei_service, imei).respond_with_json(body, status=201)

    check = make_trade_in(State.SUBMITTED, imei=imei).latest_imei_check()

    assert check.status == status, check.detail
    assert {
        f for f in ("blacklisted", "lost_stolen", "finance_locked") if getattr(check, f)
    } == flags


def test_the_shops_blocklist_is_checked_with_the_live_service_too(imei_service, make_trade_in):
    # Before: with a live service configured the shop's own blocklist was never asked.
    from workflows.models import BlockedImei

    imei = valid_imei()
    BlockedImei.objects.create(
        imei=imei, reason=BlockedImei.Reason.LOST_STOLEN, note="Reported at the counter"
    )
    expect_check(imei_service, imei).respond_with_json(answer(imei), status=201)

    trade_in = make_trade_in(State.SUBMITTED, imei=imei)

    check = trade_in.latest_imei_check()
    assert (check.status, check.lost_stolen) == (ImeiCheckStatus.FLAGGED, True)
    assert "shop's blocklist" in check.detail and "Reported at the counter" in check.detail
    assert posts(imei_service) == 0  # no paid check for a device the shop already refuses


def test_a_one_brand_service_never_clears_another_brands_device(imei_service, make_trade_in):
    imei = valid_imei()
    apple_only = {**answer(imei), "service": {"id": 1, "title": "Apple Basic Info"}}
    expect_check(imei_service, imei).respond_with_json(apple_only, status=201)

    from tests.factories import ProductFactory

    samsung = DeviceModelFactory(
        make__name="Samsung", make__slug="samsung", name="Galaxy S22", slug="galaxy-s22"
    )
    product = ProductFactory(device_model=samsung)
    check = make_trade_in(State.SUBMITTED, imei=imei, product=product).latest_imei_check()

    assert check.status == ImeiCheckStatus.UNKNOWN
    assert "checks only Apple devices, not Samsung" in check.detail


def test_without_a_service_id_it_picks_the_blacklist_check_for_every_brand(
    imei_service, make_trade_in, settings, db
):
    from io import StringIO

    from django.core.management import call_command

    settings.IMEI_CHECK_SERVICE_ID = ""
    imei_service.expect_request("/v1/services").respond_with_json(
        [
            {"id": 1, "title": "Apple Basic Info", "price": "0.06"},
            {"id": 8, "title": "Samsung Info (S1)", "price": "0.08"},
            {"id": 6, "title": "Blacklist Pro Check (GSMA)", "price": "0.16"},
            {"id": 5, "title": "Blacklist Status (GSMA)", "price": "0.04"},
        ]
    )
    imei_service.expect_request("/v1/account").respond_with_json({"balance": "3.00"})
    imei = valid_imei()
    imei_service.expect_request(
        "/v1/checks", method="POST", json={"deviceId": imei, "serviceId": 5}
    ).respond_with_json(
        {**answer(imei), "service": {"id": 5, "title": "Blacklist Status (GSMA)"}}, status=201
    )

    assert make_trade_in(State.SUBMITTED, imei=imei).latest_imei_check().status == "clean"

    out = StringIO()
    call_command("check_integrations", stdout=out)
    assert "service 5 ('Blacklist Status (GSMA)', picked from GET /v1/services)" in out.getvalue()


def test_an_apple_only_service_id_fails_check_integrations(imei_service, settings, db):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.IMEI_CHECK_SERVICE_ID = "1"
    imei_service.expect_request("/v1/services").respond_with_json(
        [{"id": 1, "title": "Apple Basic Info", "price": "0.06"}]
    )
    imei_service.expect_request("/v1/account").respond_with_json({"balance": "3.00"})
    out = StringIO()
    with pytest.raises(CommandError, match="IMEI check"):
        call_command("check_integrations", stdout=out)
    assert "service 1 ('Apple Basic Info') checks only Apple devices" in out.getvalue()


def test_the_imei_fake_refuses_a_request_the_service_would_refuse(imei_service):
    import requests

    url = imei_service.url_for("/v1/checks")
    auth = {"Authorization": "Bearer imei-key"}
    too_long = requests.post(
        url, json={"deviceId": "3563034853294430", "serviceId": 12}, headers=auth, timeout=5
    )
    assert too_long.status_code == 422 and "is too long" in too_long.json()["message"]
    as_number = requests.post(
        url, json={"deviceId": 356303485329443, "serviceId": "12"}, headers=auth, timeout=5
    )
    assert as_number.status_code == 422
    unauthenticated = requests.post(
        url, json={"deviceId": "356303485329443", "serviceId": 12}, timeout=5
    )
    assert unauthenticated.status_code == 401
    imei_service.refusals_expected = True
