"""One device, one live trade-in: an IMEI is in at most one open trade-in and one stocked unit.

A second submission of an IMEI that is open or in stock is a red flag only a manager can
override; the database refuses a second stocked unit; the intake bench never picks between
two trade-ins and receives by reference only with the IMEI scanned (or a manager's note).
"""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.conftest import assert_books_balance, refresh, submission
from tests.factories import ProductFactory, valid_imei
from tests.helpers import declaration_post, declared, intake_data
from tests.test_lifecycle_http import quote_link, staff_client, workflow
from workflows import actions
from workflows.actions import _lifecycle
from workflows.errors import TransitionRefused
from workflows.models import (
    BlockedImei,
    Event,
    ImeiCheckStatus,
    Quote,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)


@pytest.fixture
def submit(product, drain):
    """A buyer submits this IMEI; the IMEI check runs."""

    def run(imei: str, **overrides) -> TradeIn:
        trade_in = actions.trade_in_submit(
            submission=submission(overrides.pop("product", product), imei=imei, **overrides),
            submission_key=uuid.uuid4().hex,
        )
        drain()
        return refresh(trade_in)

    return run


def test_it_flags_a_second_submission_of_an_open_imei(submit, staff, manager, drain):
    imei = valid_imei()
    first = submit(imei)
    second = submit(imei, buyer_email="other@example.com")
    assert first.imei_status == ImeiCheckStatus.CLEAN
    assert second.imei_status == ImeiCheckStatus.FLAGGED
    assert second.latest_imei_check().duplicate_of == first.reference

    desk = staff_client(staff)
    page = desk.get(reverse("admin:workflows_tradein_change", args=[second.pk])).content.decode()
    assert f"duplicate IMEI ({first.reference})" in page
    assert "Only a manager can quote a red-flagged device" in page
    # Staff cannot quote it, with or without a reason.
    for data in ({}, {"override_reason": "Looks fine"}):
        response = workflow(desk, second, "quote", amount="200", valid_days="7", **data)
        assert f"duplicate IMEI ({first.reference})" in response.content.decode()
    assert refresh(second).state == State.SUBMITTED and not second.quotes.exists()

    # The first one is the live trade-in: staff quote it as usual.
    workflow(desk, first, "quote", amount="200", valid_days="7")
    assert refresh(first).state == State.QUOTED

    # A manager overrides with a written reason, through the same path as any red flag.
    office = staff_client(manager)
    workflow(
        office, second, "quote", amount="200", valid_days="7", override_reason="Same buyer, typo"
    )
    assert refresh(second).state == State.QUOTED
    override = Event.objects.get(trade_in=second, kind="red_flag_overridden")
    assert f"duplicate IMEI ({first.reference})" in override.note and override.actor == manager


def test_it_flags_a_submission_of_an_imei_in_stock(make_trade_in, submit):
    held = make_trade_in(State.CLOSED)  # paid, but the unit is still on the shelf
    again = submit(held.imei)
    assert again.imei_status == ImeiCheckStatus.FLAGGED
    assert f"duplicate IMEI ({held.reference})" in again.latest_imei_check().red_flags


@pytest.mark.parametrize("gone", [State.CANCELLED, State.REROUTED, State.DECLINED])
def test_a_device_that_left_stock_or_the_queue_frees_its_imei(make_trade_in, submit, gone):
    old = make_trade_in(gone)
    again = submit(old.imei)
    assert again.imei_status == ImeiCheckStatus.CLEAN
    assert again.latest_imei_check().duplicate_of == ""


def test_it_refuses_to_accept_when_another_trade_in_holds_the_imei_in_stock(
    client, submit, manager, drain, product
):
    imei = valid_imei()
    first, second = submit(imei), submit(imei)
    actions.trade_in_quote(trade_in=first, actor=manager, amount="100")
    actions.trade_in_quote(
        trade_in=second, actor=manager, amount="100", override_reason="Checked the paperwork"
    )
    drain()
    second_link = quote_link(second)
    actions.trade_in_accept(quote=first.latest_quote(), declaration=declared())

    response = client.post(second_link + "accept/", declaration_post())
    assert response.status_code == 410
    assert "We already have this device" in response.content.decode()
    assert refresh(second).state == State.QUOTED
    assert Unit.objects.filter(imei=imei).count() == 1
    product.refresh_from_db()
    assert product.stock == 1
    assert_books_balance()

    # Once the first one's unit leaves stock, the IMEI is free again.
    actions.trade_in_cancel(trade_in=refresh(first), actor=manager, reason="Never arrived")
    actions.trade_in_accept(
        quote=Quote.objects.get(pk=second.latest_quote().pk), declaration=declared()
    )
    assert refresh(second).state == State.ACCEPTED
    assert_books_balance()


@pytest.mark.django_db
def test_the_database_refuses_two_stocked_units_with_one_imei(product):
    imei = valid_imei()
    Unit.objects.create(product=product, imei=imei, status=UnitStatus.VOID)
    Unit.objects.create(product=product, imei=imei, status=UnitStatus.RETURNS)
    Unit.objects.create(product=product, imei=imei, status=UnitStatus.GRADED)
    for status in (UnitStatus.RECEIVED, UnitStatus.GRADED):
        with pytest.raises(IntegrityError), transaction.atomic():
            Unit.objects.create(product=ProductFactory(), imei=imei, status=status)
    # Leaving stock frees it.
    Unit.objects.filter(imei=imei, status=UnitStatus.GRADED).update(status=UnitStatus.RETURNS)
    Unit.objects.create(product=product, imei=imei, status=UnitStatus.RECEIVED)


def test_accepting_a_duplicate_the_check_missed_is_refused_by_the_constraint(
    submit, manager, drain, monkeypatch
):
    """Even if the check in the action were skipped, the unit insert itself is refused and
    the whole acceptance rolls back."""
    imei = valid_imei()
    first = submit(imei)
    second = submit(valid_imei())
    actions.trade_in_quote(trade_in=first, actor=manager, amount="100")
    actions.trade_in_quote(trade_in=second, actor=manager, amount="100")
    actions.trade_in_accept(quote=first.latest_quote(), declaration=declared())
    TradeIn.objects.filter(pk=second.pk).update(imei=imei)  # e.g. a corrected typo
    with monkeypatch.context() as patched:  # the acceptance's own check, skipped
        patched.setattr(_lifecycle, "_refuse_if_in_stock", lambda trade_in: None)
        with pytest.raises(TransitionRefused, match="We already have this device"):
            actions.trade_in_accept(quote=refresh(second).latest_quote(), declaration=declared())
    assert refresh(second).state == State.QUOTED
    assert Unit.objects.filter(imei=imei).count() == 1
    assert_books_balance()


# --- the intake bench ----------------------------------------------------------------------------
def two_accepted_with_one_imei(make_trade_in) -> tuple[TradeIn, TradeIn]:
    """Two accepted trade-ins claiming one IMEI (data from before the constraint, or a
    corrected typo): the second's unit keeps its own IMEI, so the database allows it."""
    first = make_trade_in(State.ACCEPTED)
    second = make_trade_in(State.ACCEPTED)
    TradeIn.objects.filter(pk=second.pk).update(imei=first.imei)
    return first, refresh(second)


def test_intake_asks_which_trade_in_when_two_claim_the_scanned_imei(make_trade_in, staff):
    first, second = two_accepted_with_one_imei(make_trade_in)
    bench = staff_client(staff)
    page = bench.get(reverse("admin:intake_bench"), {"imei": first.imei}).content.decode()
    assert 'id="intake-match"' not in page
    assert "2 accepted trade-ins have IMEI" in page and "Which one is in the box?" in page
    assert first.reference in page and second.reference in page
    # Picking one by reference carries the scan over, so it can be received.
    page = bench.get(
        reverse("admin:intake_bench"), {"ref": second.reference, "scanned": first.imei}
    ).content.decode()
    assert 'id="intake-match"' in page and f'value="{first.imei}"' in page


def test_receiving_by_reference_needs_the_scanned_imei_or_a_managers_note(
    make_trade_in, staff, manager
):
    trade_in = make_trade_in(State.ACCEPTED)
    bench = staff_client(staff)
    page = bench.get(reverse("admin:intake_bench"), {"ref": trade_in.reference}).content.decode()
    assert 'id="intake-match"' in page and 'name="scanned_imei"' in page
    url = reverse("admin:intake_bench")
    unscanned = {**intake_data(trade_in, grade="A"), "scanned_imei": ""}

    # Nothing scanned, another device's IMEI, or a staff member's note: refused, no change.
    for data in (
        {},
        {"scanned_imei": valid_imei()},
        {"imei_note": "Label unreadable"},
        {"scanned_imei": "12345"},
    ):
        page = bench.post(url, {**unscanned, **data}, follow=True)
        text = page.content.decode()
        assert "IMEI" in text and "received, grade" not in text, data
        assert refresh(trade_in).state == State.ACCEPTED
    assert not Event.objects.filter(trade_in=trade_in, kind="received").exists()

    # A manager receives it with a note, which goes on the timeline.
    office = staff_client(manager)
    page = office.post(
        url,
        {**unscanned, "imei_note": "IMEI sticker torn; serial matches"},
        follow=True,
    )
    assert "received, grade A" in page.content.decode()
    assert refresh(trade_in).state == State.RECEIVED
    note = Event.objects.get(trade_in=trade_in, kind="imei_not_matched")
    assert note.actor == manager and "serial matches" in note.note


def test_receiving_with_the_matching_scan_needs_no_manager(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    spaced = f"{trade_in.imei[:5]} {trade_in.imei[5:]}"
    page = staff_client(staff).post(
        reverse("admin:intake_bench"),
        {**intake_data(trade_in, grade="B"), "scanned_imei": spaced},
        follow=True,
    )
    assert "received, grade B" in page.content.decode()
    assert refresh(trade_in).state == State.RECEIVED


def test_a_blocklisted_duplicate_lists_both_reasons(submit, staff):
    imei = valid_imei()
    submit(imei)
    BlockedImei.objects.create(imei=imei, reason=BlockedImei.Reason.LOST_STOLEN)
    second = submit(imei)
    flags = second.latest_imei_check().red_flags
    assert "lost/stolen" in flags and any(f.startswith("duplicate IMEI") for f in flags)


def test_an_imei_answer_works_out_its_red_flags_once(product, manager, drain):
    """The check's copy in the queue, the duplicate stored on the check and the auto-quote
    policy all read one list (issue 19): the duplicate-IMEI question is asked once."""
    from decimal import Decimal

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    actions.quote_policy_update(
        actor=manager, changes={"auto_quote": True, "auto_quote_cap": Decimal("1000")}
    )
    imei = valid_imei()
    actions.trade_in_submit(submission=submission(product, imei=imei), submission_key="a")
    drain()
    second = actions.trade_in_submit(
        submission=submission(product, imei=imei, buyer_email="b@example.com"),
        submission_key="b",
    )
    with CaptureQueriesContext(connection) as queries:
        drain()
    duplicate_questions = [q for q in queries if '"workflows_tradein"."imei" =' in q["sql"]]
    assert len(duplicate_questions) == 1
    second = refresh(second)
    assert second.imei_status == ImeiCheckStatus.FLAGGED and second.state == State.SUBMITTED
    skipped = Event.objects.get(trade_in=second, kind="auto_quote_skipped")
    assert "duplicate IMEI" in skipped.note
