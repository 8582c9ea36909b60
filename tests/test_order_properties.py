"""Money and stock stay exact in every mix of outcomes inside one order (issue 20).

Hypothesis builds a basket of one to four devices, staff quote each, the buyer answers them all
at once on the order's page, and each device meets its own fate through the real actions: its
offer declined, never arriving (cancelled alone), graded at the offer, a revised offer accepted
or refused (sent back), or rerouted to Returns and recycled.
Whatever the mix, what the shop owes is the sum of the devices it kept at their final amounts,
every product's stock is the count of its units on the shelf, and the order's one payout (one
check, one settlement reference) pays exactly that sum.

Each example runs in a savepoint that is rolled back, so examples cannot see each other.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import declared, submission
from workflows import actions
from workflows.models import (
    STOCKED_STATUSES,
    Payout,
    PayoutStatus,
    Product,
    State,
    TradeIn,
    Unit,
)
from workflows.rules.inspection import checklist_as_disclosed
from workflows.selectors.orders import order_payout

OUTCOMES = [
    "declined",
    "never_arrives",
    "graded",
    "revised_accepted",
    "revised_refused",
    "rerouted",
]
OFFER = Decimal("300.00")

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@contextmanager
def rolled_back():
    # Marked like the transaction TestCase wraps each test in, so the actions' durable=True
    # check sees the test's transaction, not a caller nesting them.
    block = transaction.atomic()
    block._from_testcase = True
    with block:
        yield
        transaction.set_rollback(True)


def give_fate(device: TradeIn, fate: str, revised: Decimal, *, staff, drain) -> Decimal:
    """Runs an accepted device to its end through the actions; returns what the shop owes."""
    if fate == "declined":
        return Decimal("0")
    device.refresh_from_db()
    if fate == "never_arrives":
        actions.trade_in_cancel(trade_in=device, actor=staff, reason="Not in the box")
        return Decimal("0")
    checklist = checklist_as_disclosed(device)
    if fate in ("revised_accepted", "revised_refused"):
        actions.trade_in_intake(
            trade_in=device,
            actor=staff,
            scanned_imei=device.imei,
            checklist={**checklist, "screen": "cracked"},
            outcome="revise",
            grade="C",
            amount=revised,
            notes="Cracked glass",
        )
        drain()
        offer = device.revised_offers.get()
        if fate == "revised_accepted":
            actions.revised_offer_accept(offer=offer, declaration=declared())
            return revised
        actions.revised_offer_decline(offer=offer)
        return Decimal("0")
    actions.trade_in_intake(
        trade_in=device,
        actor=staff,
        scanned_imei=device.imei,
        checklist=checklist,
        outcome="grade",
        grade="B",
    )
    if fate == "rerouted":
        case = actions.trade_in_reroute(trade_in=device, actor=staff, reason="Water damage inside")
        # Decided: recycled (a case still open would hold the order's payout back).
        actions.return_case_resolve(case=case, actor=staff, resolution="recycled")
        return Decimal("0")
    return OFFER


def answer(order, devices: list[TradeIn], fates: list[str]) -> None:
    """The buyer answers every offer at once, as the order's page does (a single device: its
    own offer page)."""
    quotes = [device.latest_quote() for device in devices]
    if len(devices) == 1:
        if fates[0] == "declined":
            actions.trade_in_decline(
                trade_in=devices[0], quote=quotes[0], actor=actions.BUYER, reason="Keeping it"
            )
        else:
            actions.trade_in_accept(quote=quotes[0], declaration=declared())
        return
    accept = [d for d, fate in zip(devices, fates, strict=True) if fate != "declined"]
    actions.order_answer(
        order=order,
        quotes=quotes,
        accept=accept,
        decline={d: "Keeping it" for d in devices if d not in accept},
        declaration=declared() if accept else None,
    )


@pytest.mark.django_db
@EXAMPLES
@given(
    fates=st.lists(
        st.tuples(
            st.sampled_from(OUTCOMES),
            st.decimals(min_value=1, max_value=299, places=2),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_what_is_owed_and_what_is_stocked_add_up_in_every_mix(
    fates, product, staff, manager, drain
):
    with rolled_back():
        order = actions.order_submit(
            submissions=[submission(product) for _ in fates], submission_key=uuid.uuid4().hex
        )
        drain()
        devices = list(order.devices.order_by("position"))
        for device in devices:
            actions.trade_in_quote(trade_in=device, actor=staff, amount=OFFER)
        drain()
        answer(order, devices, [fate for fate, _ in fates])
        drain()
        owed = sum(
            (
                give_fate(device, fate, revised, staff=staff, drain=drain)
                for device, (fate, revised) in zip(devices, fates, strict=True)
            ),
            Decimal("0"),
        )
        drain()

        live = Payout.objects.filter(
            trade_in__order=order, status__in=[PayoutStatus.PENDING, PayoutStatus.SETTLED]
        )
        assert (live.aggregate(total=Sum("amount"))["total"] or Decimal("0")) == owed
        kept = [f for f, _ in fates if f in ("graded", "revised_accepted")]
        assert live.count() == len(kept)
        for item in Product.objects.all():
            shelf = Unit.objects.filter(product=item, status__in=STOCKED_STATUSES).count()
            assert item.stock == shelf
        assert Unit.objects.filter(
            trade_in__order=order, status__in=STOCKED_STATUSES
        ).count() == len(kept)
        ends = {State.DECLINED, State.CANCELLED, State.RECEIVED, State.RETURNED, State.RECYCLED}
        assert {d.state for d in order.devices.all()} <= ends

        # Every device is decided: one payout pays what is owed, in one settlement.
        if not kept:
            return
        paying = order_payout(live.filter(status=PayoutStatus.PENDING).first())
        assert paying.wait == "" and paying.total == owed
        actions.payout_settle_check(
            payout=paying.lines[-1], actor=manager, check_number="9", check_date=date.today()
        )
        paid = Payout.objects.filter(trade_in__order=order, status=PayoutStatus.SETTLED)
        assert paid.aggregate(total=Sum("amount"))["total"] == owed
        assert paid.values("settlement_reference").distinct().count() == 1
        assert paid.count() == len(kept)
        assert order.devices.filter(state=State.CLOSED).count() == len(kept)
