"""A unit's whole life in stock, the queue's Archive, and store credit spent at the counter."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from tests.conftest import assert_books_balance, refresh
from tests.helpers import declared
from tests.test_lifecycle_http import staff_client, workflow
from tests.test_races import outcomes, race
from workflows import actions
from workflows.actions.units import UNIT_EVENT
from workflows.errors import DomainError, InvalidInput, TransitionRefused
from workflows.models import (
    STOCKED_STATUSES,
    Event,
    Product,
    State,
    StoreCredit,
    StoreCreditRedemption,
    Unit,
    UnitStatus,
)
from workflows.selectors.units import OPERATIONS

# operation -> (from statuses, to status): Unit's machine after grading
LIFE = {
    "list": ([UnitStatus.GRADED], UnitStatus.LISTED),
    "unlist": ([UnitStatus.LISTED], UnitStatus.GRADED),
    "sell": ([UnitStatus.GRADED, UnitStatus.LISTED], UnitStatus.SOLD),
    "recycle": ([UnitStatus.GRADED, UnitStatus.LISTED, UnitStatus.RETURNS], UnitStatus.RECYCLED),
    "parts": ([UnitStatus.GRADED, UnitStatus.LISTED, UnitStatus.RETURNS], UnitStatus.PARTS),
}
# How to get a unit into each status, through the real actions.
REACH = {
    UnitStatus.RECEIVED: (State.ACCEPTED, None),
    UnitStatus.GRADED: (State.RECEIVED, None),
    UnitStatus.LISTED: (State.RECEIVED, "list"),
    UnitStatus.SOLD: (State.RECEIVED, "sell"),
    UnitStatus.RETURNS: (State.REROUTED, None),
    UnitStatus.RETURNED: (State.RETURNED, None),
    UnitStatus.RECYCLED: (State.RECYCLED, None),
    UnitStatus.PARTS: (State.RECEIVED, "parts"),
    UnitStatus.VOID: (State.CANCELLED, None),
}


def sale(operation: str) -> dict:
    """What selling needs besides the operation: its price and channel."""
    return {"price": "420.00", "channel": "storefront"} if operation == "sell" else {}


def unit_in(status: str, make_trade_in, staff) -> Unit:
    state, operation = REACH[status]
    unit = make_trade_in(state).unit
    if operation:
        actions.unit_change_status(unit=unit, actor=staff, operation=operation, **sale(operation))
    unit = refresh(unit)
    assert unit.status == status
    return unit


def assert_stock_is_the_stocked_units() -> None:
    for product in Product.objects.all():
        stocked = product.units.filter(status__in=STOCKED_STATUSES).count()
        assert product.stock == stocked, product


CASES = [(op, status) for op in LIFE for status in UnitStatus.values]


@pytest.mark.parametrize(("operation", "status"), CASES, ids=[f"{o}-from-{s}" for o, s in CASES])
def test_it_allows_exactly_the_units_life(operation, status, make_trade_in, staff):
    unit = unit_in(status, make_trade_in, staff)
    sources, target = LIFE[operation]
    events = Event.objects.count()
    stock = refresh(unit.product).stock
    if status in sources:
        actions.unit_change_status(unit=unit, actor=staff, operation=operation, **sale(operation))
        unit = refresh(unit)
        assert unit.status == target
        event = Event.objects.filter(trade_in=unit.trade_in).latest("pk")
        assert event.kind == UNIT_EVENT[OPERATIONS[operation][0]]
        assert (event.from_state, event.to_state, event.actor) == (status, target, staff)
        delta = int(target in STOCKED_STATUSES) - int(status in STOCKED_STATUSES)
        assert refresh(unit.product).stock == stock + delta
    else:
        with pytest.raises(TransitionRefused):
            actions.unit_change_status(
                unit=unit, actor=staff, operation=operation, **sale(operation)
            )
        assert refresh(unit).status == status
        assert Event.objects.count() == events
    assert_stock_is_the_stocked_units()
    assert_books_balance()


def test_a_parts_grade_unit_cannot_be_listed_or_sold(make_trade_in, staff):
    trade_in = make_trade_in(
        State.REOFFERED,
    )
    offer = trade_in.revised_offers.get()
    type(offer).objects.filter(pk=offer.pk).update(grade="D")
    actions.revised_offer_accept(offer=offer, declaration=declared())
    unit = refresh(trade_in).unit
    assert (unit.status, unit.grade) == (UnitStatus.GRADED, "D")
    for operation in ("list", "sell"):
        with pytest.raises(TransitionRefused):
            actions.unit_change_status(
                unit=unit, actor=staff, operation=operation, **sale(operation)
            )
    actions.unit_change_status(unit=unit, actor=staff, operation="parts")
    assert refresh(unit).status == UnitStatus.PARTS
    assert_books_balance()


def test_a_sold_unit_frees_its_imei(make_trade_in, staff):
    sold = unit_in(UnitStatus.SOLD, make_trade_in, staff)
    again = make_trade_in(State.ACCEPTED, imei=sold.imei)
    assert list(Unit.objects.filter(imei=sold.imei, status__in=STOCKED_STATUSES)) == [again.unit]


def test_the_unit_page_offers_exactly_the_allowed_moves(make_trade_in, staff):
    unit = unit_in(UnitStatus.GRADED, make_trade_in, staff)
    client = staff_client(staff)
    page = client.get(reverse("admin:workflows_unit_change", args=[unit.pk])).content.decode()
    for name in ("list", "sell", "recycle", "parts"):
        assert reverse("admin:workflows_unit_life", args=[unit.pk, name]) in page
    assert reverse("admin:workflows_unit_life", args=[unit.pk, "unlist"]) not in page
    client.post(reverse("admin:workflows_unit_life", args=[unit.pk, "list"]))
    assert refresh(unit).status == UnitStatus.LISTED
    refused = client.post(
        reverse("admin:workflows_unit_life", args=[unit.pk, "list"]), follow=True
    ).content.decode()
    assert "cannot be list for sale" in refused or "cannot be" in refused
    assert refresh(unit).status == UnitStatus.LISTED


def test_units_move_in_bulk_from_the_list(make_trade_in, staff):
    graded = [unit_in(UnitStatus.GRADED, make_trade_in, staff) for _ in range(3)]
    returns = unit_in(UnitStatus.RETURNS, make_trade_in, staff)
    client = staff_client(staff)
    response = client.post(
        reverse("admin:workflows_unit_changelist"),
        {"action": "list_selected", "_selected_action": [u.pk for u in [*graded, returns]]},
        follow=True,
    ).content.decode()
    assert "3 unit(s) listed for sale" in response and "1 refused" in response
    assert {refresh(u).status for u in graded} == {UnitStatus.LISTED}
    assert refresh(returns).status == UnitStatus.RETURNS
    assert_stock_is_the_stocked_units()
    assert_books_balance()


def test_a_user_without_the_unit_permission_cannot_move_units(make_trade_in, staff):
    from django.contrib.auth.models import User

    unit = unit_in(UnitStatus.GRADED, make_trade_in, staff)
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    with pytest.raises(TransitionRefused):
        actions.unit_change_status(unit=unit, actor=viewer, operation="sell", **sale("sell"))
    assert refresh(unit).status == UnitStatus.GRADED


# --- the queue's Archive --------------------------------------------------------------------
def test_finished_trade_ins_leave_the_queue_for_the_archive(make_trade_in, staff):
    open_ones = [make_trade_in(s) for s in (State.SUBMITTED, State.REOFFERED, State.REROUTED)]
    finished = [
        make_trade_in(s)
        for s in (State.DECLINED, State.EXPIRED, State.CANCELLED, State.RETURNED, State.CLOSED)
    ]
    client = staff_client(staff)
    queue = client.get("/dashboard/trade-ins/").content.decode()
    archive = client.get("/dashboard/trade-ins/", {"view": "archive"}).content.decode()
    for t in open_ones:
        assert t.reference in queue and t.reference not in archive, t.state
    for t in finished:
        assert t.reference not in queue and t.reference in archive, t.state
    assert (
        "Not buying these"
        in client.get(
            reverse("admin:workflows_tradein_change", args=[finished[0].pk])
        ).content.decode()
    )  # archived with the decline reason
    # A state picked by hand shows wherever it lives.
    declined = client.get("/dashboard/trade-ins/", {"state__exact": "declined"}).content.decode()
    assert finished[0].reference in declined


def test_a_counter_quote_from_the_archive(make_trade_in, staff):
    declined = make_trade_in(State.DECLINED)
    client = staff_client(staff)
    page = workflow(client, declined, "quote", amount="260.00", valid_days="7", note="")
    assert "Quote sent to the buyer." in page.content.decode()
    assert refresh(declined).state == State.QUOTED
    assert declined.reference in client.get("/dashboard/trade-ins/").content.decode()


# --- store credit at the counter -------------------------------------------------------------
@pytest.fixture
def credit(make_trade_in, manager, drain) -> StoreCredit:
    trade_in = make_trade_in(State.RECEIVED, payout_method="store_credit")
    credit = actions.payout_issue_store_credit(payout=trade_in.payout, actor=manager)
    drain()
    return credit


def redeem(client, code: str, amount: str = "", note: str = "") -> str:
    return client.post(
        reverse("admin:store_credit_counter"),
        {"code": code, "amount": amount, "note": note},
        follow=True,
    ).content.decode()


def test_staff_redeem_part_then_the_rest(credit, staff):
    client = staff_client(staff)
    page = client.get(
        reverse("admin:store_credit_counter"), {"code": credit.code_for_buyer().lower()}
    )
    assert "300.00" in page.content.decode()
    assert "$100.00 of" in redeem(client, credit.code_for_buyer(), "100.00", "till 4 #881")
    assert refresh(credit).balance == Decimal("200.00")
    page = redeem(client, credit.code_for_buyer(), "200.00")  # the whole balance, typed
    assert "$200.00 of" in page and "$0.00 left" in page
    assert refresh(credit).balance == 0
    assert list(credit.redemptions.values_list("amount", "balance_after")) == [
        (Decimal("100.00"), Decimal("200.00")),
        (Decimal("200.00"), Decimal("0.00")),
    ]
    assert Event.objects.filter(kind="store_credit_redeemed").count() == 2
    # The clerk typed the whole code; the counter and the timeline name it by its last 4 only.
    code = credit.code_for_buyer()
    assert code not in page and credit.masked_code in page
    assert not Event.objects.filter(note__contains=code).exists()
    assert "already spent" in redeem(client, credit.code_for_buyer(), "1")
    assert_books_balance()


@pytest.mark.parametrize(
    ("code", "amount", "message"),
    [
        ("SC-NOPE", "10", "No store credit has the code SC-NOPE"),
        ("", "10", "This field is required"),
        (None, "300.01", "has only $300.00 left"),
        (None, "0", "Ensure this value is greater than or equal to 0.01"),
        (None, "-3", "Ensure this value is greater than or equal to 0.01"),
        (None, "ten", "Enter a number"),
    ],
)
def test_a_bad_redemption_changes_nothing(credit, staff, code, amount, message):
    page = redeem(staff_client(staff), credit.code_for_buyer() if code is None else code, amount)
    assert message in page
    assert refresh(credit).balance == Decimal("300.00")
    assert not StoreCreditRedemption.objects.exists()


def test_the_action_refuses_what_the_form_would_too(credit, staff):
    for amount, error in (("0", InvalidInput), ("300.01", InvalidInput), ("x", InvalidInput)):
        with pytest.raises(error):
            actions.store_credit_redeem(code=credit.code_for_buyer(), actor=staff, amount=amount)
    assert refresh(credit).balance == Decimal("300.00")


def test_a_voided_credit_cannot_be_redeemed(credit, staff, manager):
    with pytest.raises(TransitionRefused):
        actions.store_credit_void(credit=credit, actor=staff, reason="staff cannot")
    office = staff_client(manager)
    office.post(
        reverse("admin:workflows_storecredit_void", args=[credit.pk]), {"reason": "Issued twice"}
    )
    assert refresh(credit).is_void
    assert "was voided" in redeem(staff_client(staff), credit.code_for_buyer(), "5")
    assert refresh(credit).balance == Decimal("300.00")
    assert Event.objects.filter(kind="store_credit_voided").count() == 1


def test_the_database_refuses_a_negative_balance(credit):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StoreCredit.objects.filter(pk=credit.pk).update(balance=Decimal("-1"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="races need PostgreSQL row locks; set DATABASE_URL to run them",
)
def test_two_counters_redeeming_at_once_never_overdraw(credit, staff):
    # 300 of credit, two counters each taking 200 at the same instant: one gets it.
    spend = lambda: actions.store_credit_redeem(  # noqa: E731
        code=credit.code_for_buyer(), actor=staff, amount="200"
    )
    assert outcomes(race(spend, spend)) == (1, 1)
    assert refresh(credit).balance == Decimal("100.00")
    # Six counters taking 60 each from what is left: one.
    code = credit.code_for_buyer()
    take = lambda: actions.store_credit_redeem(code=code, actor=staff, amount="60")  # noqa: E731
    assert outcomes(race(*[take] * 6)) == (1, 5)
    assert refresh(credit).balance == Decimal("40.00")
    assert_books_balance()


def test_errors_are_domain_errors(credit, staff):
    with pytest.raises(DomainError):
        actions.store_credit_redeem(code="SC-UNKNOWN", actor=staff, amount="1")


# --- one way to move a unit (issue 19) ----------------------------------------------------------
def test_a_units_status_cannot_be_assigned_directly(make_trade_in):
    unit = refresh(make_trade_in(State.RECEIVED)).unit
    with pytest.raises(AttributeError, match="Direct status modification is not allowed"):
        unit.status = UnitStatus.SOLD
    unit.refresh_from_db()  # the protected field still reloads (FSMModelMixin)
    assert unit.status == UnitStatus.GRADED


def test_cancel_and_reroute_move_the_unit_through_its_transitions(make_trade_in, staff):
    cancelled = refresh(make_trade_in(State.CANCELLED)).unit
    rerouted = refresh(make_trade_in(State.REROUTED)).unit
    assert (cancelled.status, rerouted.status) == (UnitStatus.VOID, UnitStatus.RETURNS)
    assert cancelled.status_changed_at and rerouted.status_changed_at
    assert_stock_is_the_stocked_units()
    assert_books_balance()


def test_a_sold_unit_is_not_sent_to_returns_by_a_reroute(make_trade_in, staff):
    sold = unit_in(UnitStatus.SOLD, make_trade_in, staff)
    with pytest.raises(TransitionRefused, match="cannot be sent to Returns"):
        actions.trade_in_reroute(trade_in=sold.trade_in, actor=staff, reason="Bent frame")
    assert refresh(sold).status == UnitStatus.SOLD
    assert_stock_is_the_stocked_units()
