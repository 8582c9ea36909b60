"""The intake bench: scan, match, grade; anything else is a clear message and no change."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import valid_imei
from tests.helpers import intake_data, refresh, staff_client
from workflows.models import Event, EventKind, State


@pytest.fixture
def bench(staff):
    return staff_client(staff)


def scan(bench, imei: str) -> str:
    response = bench.get(reverse("admin:intake_bench"), {"imei": imei})
    assert response.status_code == 200
    return response.content.decode()


def test_the_scan_field_has_focus_and_enter_submits(bench, db):
    page = scan(bench, "")
    assert 'name="imei"' in page and "autofocus" in page
    assert 'inputmode="numeric"' in page


def test_a_match_asks_for_a_grade_beside_the_disclosure(bench, make_trade_in):
    trade_in = make_trade_in(State.ACCEPTED)
    page = scan(bench, f" {trade_in.imei[:5]} {trade_in.imei[5:]} ")  # scanners add spaces
    assert trade_in.reference in page
    assert "Light scratches" in page  # what the buyer disclosed
    assert "Powers on" in page and "like new, no visible wear" in page
    assert 'name="check_activation_lock"' in page  # the checklist, every item


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (State.SUBMITTED, "is submitted, not accepted"),
        (State.QUOTED, "is quoted, not accepted"),
        (State.RECEIVED, "was already received"),
        (State.CANCELLED, "is cancelled, not accepted"),
    ],
)
def test_a_device_in_the_wrong_state_changes_nothing(bench, make_trade_in, state, message):
    trade_in = make_trade_in(state)
    events = Event.objects.count()
    page = scan(bench, trade_in.imei)
    assert message in page and "Search by reference" in page
    assert 'id="intake-match"' not in page
    by_reference = bench.get(reverse("admin:intake_bench"), {"ref": trade_in.reference})
    assert message in by_reference.content.decode()
    assert refresh(trade_in).state == state
    assert Event.objects.count() == events


def test_an_unknown_or_malformed_imei_changes_nothing(bench, db):
    assert "No trade-in has IMEI" in scan(bench, valid_imei())
    assert "exactly 15 digits" in scan(bench, "123")


def test_receiving_twice_is_refused(bench, make_trade_in):
    trade_in = make_trade_in(State.ACCEPTED)
    data = intake_data(trade_in, grade="A")
    bench.post(reverse("admin:intake_bench"), data)
    again = bench.post(reverse("admin:intake_bench"), data, follow=True).content.decode()
    assert "is received, not waiting to be received: nothing was changed" in again
    assert Event.objects.filter(trade_in=trade_in, kind=EventKind.RECEIVED).count() == 1


def test_a_reference_search_finds_the_trade_in(bench, make_trade_in):
    trade_in = make_trade_in(State.ACCEPTED)
    page = bench.get(reverse("admin:intake_bench"), {"ref": trade_in.reference.lower()})
    assert 'id="intake-match"' in page.content.decode()


def test_damaged_needs_a_description(bench, make_trade_in):
    trade_in = make_trade_in(State.ACCEPTED)
    page = bench.post(
        reverse("admin:intake_bench"),
        intake_data(trade_in, outcome="reroute", grade="C"),
        follow=True,
    )
    assert "Describe the damage" in page.content.decode()
    assert refresh(trade_in).state == State.ACCEPTED


def test_a_garbled_receive_post_is_a_message_not_a_crash(bench, db):
    # Found by the fuzzer: a non-numeric trade-in id raised ValueError (HTTP 500).
    response = bench.post(
        reverse("admin:intake_bench"), {"trade_in": ":", "grade": "A"}, follow=True
    )
    assert response.status_code == 200


@pytest.mark.parametrize("ref", ["\x00", "TI-000001\x00", "'; --", "x" * 500])
def test_a_garbled_reference_search_is_a_message(bench, make_trade_in, ref):
    # Found by the fuzzer on PostgreSQL: a NUL byte reached the query (HTTP 500).
    response = bench.get(reverse("admin:intake_bench"), {"ref": ref})
    page = response.content.decode()
    if "\x00" in ref:  # refused for every URL (backoffice.middleware), with a message
        assert response.status_code == 400 and "NUL character" in page
        return
    assert "looks like TI-000123" in page or "at most 20 characters" in page


def test_a_reference_with_spaces_or_no_dash_is_found(bench, make_trade_in):
    trade_in = make_trade_in(State.ACCEPTED)
    bare = trade_in.reference.replace("-", "").lower()
    page = bench.get(reverse("admin:intake_bench"), {"ref": f" {bare} "}).content.decode()
    assert 'id="intake-match"' in page
