"""`manage.py check_integrations` and the dashboard say which providers are live or demo."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.helpers import staff_client
from tests.integrations.conftest import Inbox
from tests.integrations.test_shipengine import carriers_answer


def run() -> str:
    out = StringIO()
    call_command("check_integrations", stdout=out)
    return out.getvalue()


def test_without_any_account_every_provider_is_an_offline_demo(db):
    out = run()
    for system in ("IMEI check", "Shipping labels", "Stripe payouts", "Email"):
        assert f"OK    {system}" in out
    assert out.count("offline demo provider") == 4 and "FAIL" not in out


def test_half_a_configuration_is_reported_not_silently_ignored(db, settings):
    settings.IMEI_CHECK_URL = "https://api.imeicheck.net"
    out = StringIO()
    with pytest.raises(CommandError, match="IMEI check"):
        call_command("check_integrations", stdout=out)
    assert "set both IMEI_CHECK_URL and IMEI_CHECK_API_KEY" in out.getvalue()


def test_it_tries_each_configured_credential(
    imei_service, shipengine, stripe_server, smtp, db, settings
):
    # Each probe is one request; a busy machine must not fail it by the fixtures' short waits.
    settings.IMEI_CHECK_TIMEOUT = settings.SHIPENGINE_TIMEOUT = settings.STRIPE_TIMEOUT = 5
    imei_service.expect_request(
        "/v1/account", headers={"Authorization": "Bearer imei-key"}
    ).respond_with_json({"id": 7, "balance": "12.50"})
    imei_service.expect_request("/v1/services").respond_with_json(
        [{"id": 12, "title": "Mock service with only successful results", "price": "0.00"}]
    )
    shipengine.expect_request(
        "/v1/carriers", headers={"API-Key": "TEST_shipengine_key"}
    ).respond_with_json(carriers_answer({"carrier_id": "se-123"}))
    smtp.start(Inbox())

    out = run()

    assert "OK    IMEI check       imei-service" in out and "balance 12.50" in out
    assert "OK    Shipping labels  shipengine" in out
    assert "labels from carrier se-123 (Stamps.com, usps_priority_mail" in out
    assert "OK    Stripe payouts   stripe" in out and "test mode" in out
    assert "OK    Email            smtp 127.0.0.1" in out
    assert " demo " not in out


def test_bad_credentials_fail_loudly_with_the_services_reason(
    imei_service, shipengine, stripe_server, settings, db
):
    imei_service.expect_request("/v1/account").respond_with_json(
        {"message": "Unauthenticated."}, status=401
    )
    shipengine.expect_request("/v1/carriers").respond_with_json(
        carriers_answer({"carrier_id": "se-999"})
    )
    settings.STRIPE_SECRET_KEY = "sk_test_revoked"
    stripe_server.refusals_expected = True  # the revoked key: Stripe's 401 is the point

    out = StringIO()
    with pytest.raises(CommandError, match="IMEI check, Shipping labels, Stripe payouts"):
        call_command("check_integrations", stdout=out)

    text = out.getvalue()
    assert "FAIL  IMEI check" in text and "Unauthenticated." in text
    assert "SHIPENGINE_CARRIER_ID se-123 is not one of this key's 1 carrier accounts" in text
    assert "FAIL  Stripe payouts" in text and "Invalid API Key provided" in text


def test_the_dashboard_says_which_providers_are_live(shipengine, staff):
    page = staff_client(staff).get("/dashboard/").content.decode()
    assert "Outside systems" in page
    assert page.count("offline demo") == 3  # IMEI, Stripe, email; ShipEngine is live
    assert "Demo providers: IMEI check, Stripe payouts, Email · live: Shipping labels" in page


def test_a_missing_connect_webhook_secret_fails_the_check(stripe_server, settings, db):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = ""
    out = StringIO()
    with pytest.raises(CommandError, match="Stripe payouts"):
        call_command("check_integrations", stdout=out)
    assert "STRIPE_CONNECT_WEBHOOK_SECRET is not set" in out.getvalue()
