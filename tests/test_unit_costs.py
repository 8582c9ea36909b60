"""A unit's carried costs (Unit.payout_cost, label_cost, refurbishment_cost, total_cost) and its
arrival (Unit.received_at) are written by the actions that change them, and always equal the one
cost rule (workflows.actions._costs._carry_costs) and hand-written SQL over the rows: after each
cost-changing action (a payout created, revised, declined, voided, reinstated; a label bought
or voided, inbound or return; refurbishment entered on the unit page or at the intake bench;
the device received), after any sequence of them (hypothesis), and after migration 0030
forwards and backwards. The Stripe reversal is checked in
tests/integrations/test_stripe_payouts.py."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.helpers import declared, intake_data, refresh, staff_client, submission
from tests.test_reports import sql
from workflows import actions
from workflows.actions import answers
from workflows.actions._costs import _carry_costs
from workflows.actions.inspection import return_label_record
from workflows.errors import DomainError
from workflows.models import (
    Payout,
    RefurbishmentCost,
    ShippingLabel,
    State,
    TradeIn,
    Unit,
)
from workflows.rules.inspection import checklist_as_disclosed

# The rule by hand (workflows.actions._costs): a return label stays on its device; the labels
# to the shop are split over the order's units that are not void (cents, the remainder to the
# first positions; done in Python below), or stay on their device while no unit is left.
BY_HAND = """
WITH box AS (
    SELECT u.id AS unit_id, t.order_id AS box_id,
           COUNT(*) OVER (PARTITION BY t.order_id) AS n,
           ROW_NUMBER() OVER (PARTITION BY t.order_id ORDER BY t.position) AS rank
    FROM workflows_unit u JOIN workflows_tradein t ON t.id = u.trade_in_id
    WHERE u.status <> 'void'
), box_label AS (
    SELECT t.order_id AS box_id, SUM(l.cost) AS cost
    FROM workflows_shippinglabel l JOIN workflows_tradein t ON t.id = l.trade_in_id
    WHERE l.voided_at IS NULL AND l.direction = 'to_shop'
    GROUP BY t.order_id
)
SELECT u.id,
       COALESCE((SELECT amount FROM workflows_payout p WHERE p.trade_in_id = u.trade_in_id
                 AND p.status IN ('pending', 'failed', 'settled')), 0),
       COALESCE((SELECT SUM(cost) FROM workflows_shippinglabel l
                 WHERE l.trade_in_id = u.trade_in_id AND l.voided_at IS NULL
                 AND (l.direction = 'to_buyer' OR NOT EXISTS (
                     SELECT 1 FROM box b JOIN workflows_tradein t ON t.order_id = b.box_id
                     WHERE t.id = u.trade_in_id))), 0),
       COALESCE(bl.cost, 0), b.n, b.rank,
       COALESCE((SELECT SUM(amount) FROM workflows_refurbishmentcost r WHERE r.unit_id = u.id), 0)
FROM workflows_unit u
LEFT JOIN box b ON b.unit_id = u.id
LEFT JOIN box_label bl ON bl.box_id = b.box_id
ORDER BY u.id
"""


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def split(total, n: int | None, rank: int | None) -> Decimal:
    """This unit's part of its box's labels: whole cents, the remainder to the first ranks."""
    if not n:
        return Decimal("0.00")
    each, left = divmod(int(cents(total) * 100), n)
    return Decimal(each + (1 if rank <= left else 0)) / 100


def carried() -> list[tuple]:
    return [
        (u.pk, u.payout_cost, u.label_cost, u.refurbishment_cost, u.total_cost, u.received_at)
        for u in Unit.objects.order_by("pk")
    ]


def by_hand(*, before_orders: bool = False) -> list[tuple]:
    """Before orders (migration 0035) each device was its own box."""
    query = BY_HAND.replace("t.order_id", "t.id").replace("t.position", "t.id")
    received = dict(
        Unit.objects.filter(trade_in__isnull=False).values_list("pk", "trade_in__received_at")
    )
    rows = []
    for pk, p, own, box, n, rank, r in sql(query if before_orders else BY_HAND):
        lab = cents(own) + split(box, n, rank)
        rows.append((pk, cents(p), lab, cents(r), cents(p) + lab + cents(r), received.get(pk)))
    return rows


def check() -> None:
    """The columns equal SQL over the rows, the units' label costs add up to the labels
    bought (none lost, none counted twice), and the rule run again changes nothing."""
    before = carried()
    assert before == by_hand()
    bought = ShippingLabel.objects.filter(voided_at__isnull=True, trade_in__unit__isnull=False)
    assert sum(row[2] for row in before) == sum(label.cost or 0 for label in bought)
    _carry_costs(Unit.objects.all())
    assert carried() == before


def costs(trade_in: TradeIn) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    unit = Unit.objects.get(trade_in=trade_in)
    return unit.payout_cost, unit.label_cost, unit.refurbishment_cost, unit.total_cost


def buy_label(trade_in: TradeIn, cost: str, *, back: bool = False) -> ShippingLabel:
    record = return_label_record if back else answers.shipping_label_record
    return record(
        trade_in=trade_in,
        provider_name="sample",
        is_sample=True,
        label_id=f"label-{ShippingLabel.objects.count()}",
        tracking_number="1Z",
        carrier="sample",
        pdf=b"%PDF",
        cost=Decimal(cost),
        cost_currency="USD",
    )


D = Decimal


# --- each action --------------------------------------------------------------------------------
def test_it_carries_the_payout_from_acceptance_and_the_label_bought_for_it(make_trade_in):
    trade_in = make_trade_in(State.ACCEPTED)  # sample label: SAMPLE_LABEL_COST 7.50
    assert costs(trade_in) == (D("300.00"), D("7.50"), D("0.00"), D("307.50"))
    assert refresh(trade_in.unit).received_at is None  # still on its way
    check()


def test_a_voided_label_removes_its_cost_and_a_return_label_adds_one(make_trade_in):
    trade_in = make_trade_in(State.ACCEPTED)
    answers.shipping_label_voided(label=trade_in.labels.get())
    assert costs(trade_in)[1:] == (D("0.00"), D("0.00"), D("300.00"))
    buy_label(trade_in, "9.15", back=True)
    assert costs(trade_in)[1] == D("9.15")
    check()


def test_intake_writes_the_arrival_and_the_benchs_parts_and_labour(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    actions.trade_in_intake(
        trade_in=trade_in,
        actor=staff,
        scanned_imei=trade_in.imei,
        checklist=checklist_as_disclosed(trade_in),
        outcome="grade",
        grade="B",
        parts_cost="38.00",
        labour_cost="12.50",
    )
    trade_in = refresh(trade_in)
    assert refresh(trade_in.unit).received_at == trade_in.received_at is not None
    assert costs(trade_in) == (D("300.00"), D("7.50"), D("50.50"), D("358.00"))
    assert [(r.amount, r.note) for r in RefurbishmentCost.objects.filter(unit=trade_in.unit)] == [
        (D("38.00"), "Parts"),
        (D("12.50"), "Labour"),
    ]
    check()


def test_a_refused_bench_cost_receives_nothing(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    with pytest.raises(DomainError, match="more than 0"):
        actions.trade_in_intake(
            trade_in=trade_in,
            actor=staff,
            scanned_imei=trade_in.imei,
            checklist=checklist_as_disclosed(trade_in),
            outcome="grade",
            grade="B",
            labour_cost="-5",
        )
    assert refresh(trade_in).state == State.ACCEPTED
    assert not RefurbishmentCost.objects.exists()
    check()


def test_the_intake_bench_takes_parts_and_labour(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    client = staff_client(staff)
    page = client.get(reverse("admin:intake_bench"), {"imei": trade_in.imei}).content.decode()
    assert 'id="intake-refurbishment"' in page and 'name="parts_cost"' in page
    response = client.post(
        reverse("admin:intake_bench"),
        {**intake_data(trade_in), "parts_cost": "22.00", "labour_cost": ""},
    )
    assert response.status_code == 302
    assert costs(trade_in)[2:] == (D("22.00"), D("329.50"))
    check()


def test_refurbishment_on_the_unit_page_adds_up(make_trade_in, staff):
    trade_in = make_trade_in(State.RECEIVED)
    actions.unit_add_refurbishment_cost(unit=trade_in.unit, actor=staff, amount="8.80")
    actions.unit_add_refurbishment_cost(unit=trade_in.unit, actor=staff, amount="1.20")
    assert costs(trade_in)[2:] == (D("10.00"), D("317.50"))
    check()


def test_a_revised_offer_accepted_lowers_the_payout_cost(make_trade_in):
    trade_in = make_trade_in(State.REOFFERED)  # 300.00 revised to 200.00
    assert costs(trade_in)[0] == D("300.00")  # not until the buyer accepts
    actions.revised_offer_accept(offer=trade_in.revised_offers.get(), declaration=declared())
    assert costs(trade_in) == (D("200.00"), D("7.50"), D("0.00"), D("207.50"))
    check()


def test_a_device_sent_back_costs_no_payout_but_its_labels(make_trade_in, drain):
    trade_in = make_trade_in(State.RETURNED)  # revised offer declined: payout declined
    drain()  # the return label, bought at the sample provider's demo cost
    assert costs(trade_in) == (D("0.00"), D("15.00"), D("0.00"), D("15.00"))
    check()


def test_reroute_declines_and_rejecting_the_return_owes_it_again(make_trade_in, staff):
    trade_in = make_trade_in(State.REROUTED)
    assert costs(trade_in)[0] == D("0.00")
    case = trade_in.unit.return_cases.get()
    actions.return_case_reject(case=case, actor=staff, note="As disclosed after all", grade="B")
    assert costs(trade_in)[0] == D("300.00")
    check()


def test_a_cancelled_trade_in_costs_no_payout(make_trade_in):
    trade_in = make_trade_in(State.CANCELLED)
    assert costs(trade_in)[0] == D("0.00")
    check()


def test_a_saved_unit_never_writes_old_costs_back(make_trade_in, staff):
    trade_in = make_trade_in(State.RECEIVED)
    stale = Unit.objects.get(trade_in=trade_in)
    actions.unit_add_refurbishment_cost(unit=stale, actor=staff, amount="5.00")
    stale.intake_notes = "saved from a copy loaded before the cost"
    stale.save()
    assert costs(trade_in)[2] == D("5.00")
    check()


# --- a box of several devices -------------------------------------------------------------------
@pytest.fixture
def box(db, product, staff, drain, settings):
    """An order of `n` devices sent in one box: the buyer accepts those at the positions in
    `accept` and declines the others; the box's one label costs `label` (the sample provider's
    price)."""

    def build(n: int = 3, accept: tuple[int, ...] = (1, 2), label: str = "7.51") -> list:
        settings.SAMPLE_LABEL_COST = Decimal(label)
        order = actions.order_submit(
            submissions=[submission(product) for _ in range(n)], submission_key=uuid.uuid4().hex
        )
        drain()
        devices = list(order.devices.order_by("position"))
        for device in devices:
            actions.trade_in_quote(trade_in=refresh(device), actor=staff, amount="100.00")
        drain()
        devices = [refresh(device) for device in devices]
        actions.order_answer(
            order=order,
            quotes=[device.latest_quote() for device in devices],
            accept=[d for d in devices if d.position in accept],
            decline={d: "Keeping it" for d in devices if d.position not in accept},
            declaration=declared(),
        )
        drain()  # the box's label, bought for its first accepted device
        return [refresh(device) for device in devices]

    return build


def label_costs(devices: list[TradeIn]) -> list[Decimal | None]:
    """Each device's unit's label cost; None for a device without a unit (declined)."""
    carried = dict(Unit.objects.values_list("trade_in_id", "label_cost"))
    return [carried.get(device.pk) for device in devices]


def test_a_box_label_is_split_in_cents_over_its_units_and_a_cancel_moves_it(box, staff, drain):
    a, b, c = box(3, accept=(1, 2), label="7.51")
    label = ShippingLabel.objects.get()
    assert label.trade_in_id == a.pk and label.cost == D("7.51")
    assert label_costs([a, b, c]) == [D("3.76"), D("3.75"), None]  # c declined: no unit
    assert costs(b) == (D("100.00"), D("3.75"), D("0.00"), D("103.75"))
    check()
    # b never arrives: a travels alone on the label.
    actions.trade_in_cancel(trade_in=refresh(b), actor=staff, reason="Not in the box")
    drain()
    assert refresh(label).voided_at is None
    assert label_costs([a, b]) == [D("7.51"), D("0.00")]
    assert costs(a) == (D("100.00"), D("7.51"), D("0.00"), D("107.51"))
    check()


def test_the_lead_cancelled_its_label_goes_to_the_others_and_all_cancelled_it_is_voided(
    box, staff, drain
):
    a, b, c = box(3, accept=(1, 2, 3), label="7.51")
    assert label_costs([a, b, c]) == [D("2.51"), D("2.50"), D("2.50")]
    check()
    # The label stays on a's row (the box's label), but a never came: b and c carry it.
    actions.trade_in_cancel(trade_in=refresh(a), actor=staff, reason="Not in the box")
    drain()
    assert label_costs([a, b, c]) == [D("0.00"), D("3.76"), D("3.75")]
    check()
    actions.trade_in_cancel(trade_in=refresh(b), actor=staff, reason="Not in the box")
    actions.trade_in_cancel(trade_in=refresh(c), actor=staff, reason="Box never came")
    # Until the carrier voids it, the label bought stays a cost: on its own device's unit.
    assert label_costs([a, b, c]) == [D("7.51"), D("0.00"), D("0.00")]
    check()
    drain()  # the label voided
    assert ShippingLabel.objects.get().voided_at is not None
    assert label_costs([a, b, c]) == [D("0.00"), D("0.00"), D("0.00")]
    check()


def test_a_return_label_stays_on_its_device_and_arrival_changes_no_share(box, staff):
    a, b, c = box(3, accept=(1, 2, 3), label="0.02")
    assert label_costs([a, b, c]) == [D("0.01"), D("0.01"), D("0.00")]
    for device in (a, b, c):
        actions.trade_in_intake(
            trade_in=refresh(device),
            actor=staff,
            scanned_imei=device.imei,
            checklist=checklist_as_disclosed(device),
            outcome="grade",
            grade="B",
        )
    actions.trade_in_reroute(trade_in=refresh(c), actor=staff, reason="Dented")
    buy_label(refresh(c), "9.15", back=True)
    # c came in the box (then went to Returns): it keeps its share and its return label.
    assert label_costs([a, b, c]) == [D("0.01"), D("0.01"), D("9.15")]
    check()


def test_voiding_the_box_label_clears_every_share(box):
    a, b, _c = box(3, accept=(1, 2), label="7.51")
    answers.shipping_label_voided(label=ShippingLabel.objects.get())
    assert label_costs([a, b]) == [D("0.00"), D("0.00")]
    check()


# --- any sequence of them -----------------------------------------------------------------------
STEPS = [
    "label",
    "void_label",
    "return_label",
    "refurbish",
    "intake_grade",
    "intake_revise",
    "accept_revised",
    "decline_revised",
    "reroute",
    "reject_return",
    "cancel",
    "settle",
    "sell",
]


def run(step: str, trade_in: TradeIn, amount: str, staff, manager) -> None:
    trade_in = refresh(trade_in)
    unit = Unit.objects.get(trade_in=trade_in)
    intake = {
        "trade_in": trade_in,
        "actor": staff,
        "scanned_imei": trade_in.imei,
        "checklist": checklist_as_disclosed(trade_in),
    }
    if step == "label":
        buy_label(trade_in, amount)
    elif step == "void_label":
        label = trade_in.labels.filter(voided_at__isnull=True).first()
        if label:
            answers.shipping_label_voided(label=label)
    elif step == "return_label":
        buy_label(trade_in, amount, back=True)
    elif step == "refurbish":
        actions.unit_add_refurbishment_cost(unit=unit, actor=staff, amount=amount)
    elif step == "intake_grade":
        actions.trade_in_intake(**intake, outcome="grade", grade="B", parts_cost=amount)
    elif step == "intake_revise":
        intake["checklist"] = {**intake["checklist"], "screen": "cracked"}
        actions.trade_in_intake(
            **intake, outcome="revise", grade="C", amount=amount, notes="Cracked"
        )
    elif step in ("accept_revised", "decline_revised"):
        offer = trade_in.revised_offers.order_by("-pk").first()
        if offer and step == "accept_revised":
            actions.revised_offer_accept(offer=offer, declaration=declared())
        elif offer:
            actions.revised_offer_decline(offer=offer)
    elif step == "reroute":
        actions.trade_in_reroute(trade_in=trade_in, actor=staff, reason="Dented")
    elif step == "reject_return":
        case = unit.return_cases.filter(status="open").first()
        if case:
            actions.return_case_reject(case=case, actor=staff, note="Fine after all", grade="B")
    elif step == "cancel":
        actions.trade_in_cancel(trade_in=trade_in, actor=staff, reason="Never came")
    elif step == "settle":
        actions.payout_settle_check(
            payout=Payout.objects.get(trade_in=trade_in),
            actor=manager,
            check_number="1",
            check_date=date.today(),
        )
    elif step == "sell":
        actions.unit_change_status(
            unit=unit, actor=staff, operation="sell", price="450", channel="storefront"
        )


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(STEPS),
            st.decimals(min_value=1, max_value=250, places=2, allow_nan=False),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_after_any_sequence_of_actions_the_columns_are_the_rule(
    make_trade_in, staff, manager, steps
):
    trade_in = make_trade_in(State.ACCEPTED)
    for step, amount in steps:
        try:
            run(step, trade_in, str(amount), staff, manager)
        except DomainError:
            pass  # not allowed in this state: nothing changed
        check()


BOX_STEPS = ["label", "void_label", "return_label", "intake_grade", "reroute", "cancel", "sell"]


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    accept=st.sets(st.integers(min_value=1, max_value=4), min_size=1),
    label=st.decimals(min_value=Decimal("0.01"), max_value=30, places=2, allow_nan=False),
    steps=st.lists(
        st.tuples(
            st.sampled_from(BOX_STEPS),
            st.integers(min_value=0, max_value=3),
            st.decimals(min_value=1, max_value=250, places=2, allow_nan=False),
        ),
        max_size=8,
    ),
)
def test_after_any_sequence_in_a_box_the_columns_are_the_rule(
    box, staff, manager, accept, label, steps
):
    devices = box(4, accept=tuple(accept), label=str(label))
    check()
    boxed = [device for device in devices if device.position in accept]
    for step, which, amount in steps:
        try:
            run(step, boxed[which % len(boxed)], str(amount), staff, manager)
        except DomainError:
            pass  # not allowed in this state: nothing changed
        check()


# --- migration 0030, forwards and backwards -----------------------------------------------------
BEFORE = ("workflows", "0032_counter_abandon_schedule")
AFTER = ("workflows", "0033_econ_unit_costs_declared")


def migrate(target: tuple[str, str] | None) -> None:
    executor = MigrationExecutor(connection)
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_migration_0030_fills_the_fields_by_the_rule_and_goes_back(make_trade_in, staff):
    make_trade_in(State.CLOSED)
    make_trade_in(State.REOFFERED)
    make_trade_in(State.REROUTED)
    make_trade_in(State.ACCEPTED)
    received = make_trade_in(State.RECEIVED)
    actions.unit_add_refurbishment_cost(unit=received.unit, actor=staff, amount="17.35")
    made = carried()
    assert made == by_hand()
    assert {row[3] for row in made} == {D("0.00"), D("17.35")}
    try:
        migrate(BEFORE)
        if connection.vendor == "postgresql":
            # 0026's and 0028's undeclared columns again, filled by their triggers.
            assert (
                sql(
                    "SELECT id, payout_cost, label_cost, refurbishment_cost, trade_in_received_at"
                    " FROM workflows_unit ORDER BY id"
                )
                == [row[:4] + row[5:] for row in by_hand(before_orders=True)]
                == [row[:4] + row[5:] for row in made]
            )
        else:
            columns = [
                c.name
                for c in connection.introspection.get_table_description(
                    connection.cursor(), "workflows_unit"
                )
            ]
            assert "payout_cost" not in columns and "received_at" not in columns
        migrate(AFTER)
        assert carried() == made
    finally:
        migrate(None)
    assert carried() == made


# --- migration 0037: the labels of the boxes already sent, shared -------------------------------
@pytest.mark.django_db(transaction=True)
def test_migration_0037_shares_the_labels_of_existing_boxes_and_goes_back(box, make_trade_in):
    a, b, _c = box(3, accept=(1, 2), label="7.51")
    alone = make_trade_in(State.ACCEPTED)  # an order of one: its label, whole, either way
    shared = carried()
    assert label_costs([a, b, alone]) == [D("3.76"), D("3.75"), D("7.51")]
    try:
        migrate(("workflows", "0036_unit_received_idx"))
        assert label_costs([a, b, alone]) == [D("7.51"), D("0.00"), D("7.51")]  # as it was
        assert costs(a)[3] == D("107.51") and costs(b)[3] == D("100.00")
        migrate(("workflows", "0037_labelsplit_box_label_costs"))
        assert carried() == shared
    finally:
        migrate(None)
    assert carried() == shared == by_hand()
