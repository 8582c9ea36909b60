"""Orders of several devices under concurrency, on PostgreSQL (see tests/test_races.py):
two answers to one order's page at once, two staff quoting its last devices at once, two
staff asking to change the buyer's payout details on two of its devices at once, and the units
of a box re-carried by actions on its devices at once."""

from __future__ import annotations

import uuid
from decimal import Decimal

from tests.factories import ProductFactory
from tests.helpers import RACE, assert_books_balance, declared, refresh, submission
from tests.test_races import outcomes, race
from workflows import actions
from workflows.links import order_offer_from_token, order_offer_token
from workflows.models import (
    Email,
    Payout,
    PayoutDetailChange,
    SideEffect,
    SideEffectKind,
    State,
    Unit,
)

pytestmark = RACE


def _order(product, n=3):
    subs = [submission(product)] + [submission(ProductFactory()) for _ in range(n - 1)]
    order = actions.order_submit(submissions=subs, submission_key=uuid.uuid4().hex)
    return order, list(order.devices.order_by("position"))


def _offer_emails():
    return SideEffect.objects.filter(
        kind=SideEffectKind.SEND_EMAIL, payload__template=Email.ORDER_OFFER
    )


def test_two_staff_quoting_the_last_two_devices_at_once_send_one_order_email(product, staff, drain):
    for _ in range(3):
        order, (a, b, c) = _order(product)
        drain()
        actions.trade_in_quote(trade_in=a, actor=staff, amount="100")
        results = race(
            lambda b=b: actions.trade_in_quote(trade_in=b, actor=staff, amount="120"),
            lambda c=c: actions.trade_in_quote(trade_in=c, actor=staff, amount="80"),
        )
        assert outcomes(results) == (2, 0)
        assert _offer_emails().filter(payload__order_id=order.pk).count() == 1


def test_two_answers_to_one_orders_page_at_once_make_one(product, staff, drain):
    order, (a, b, c) = _order(product)
    drain()
    for device in (a, b, c):
        actions.trade_in_quote(trade_in=device, actor=staff, amount="100")
    effect = _offer_emails().get()
    order, quotes = order_offer_from_token(order_offer_token(order, effect.payload["quote_ids"]))
    answer = lambda: actions.order_answer(  # noqa: E731
        order=order,
        quotes=quotes,
        accept=[a, b],
        decline={c: "The offer is too low"},
        declaration=declared(),
    )
    assert outcomes(race(answer, answer, answer)) == (1, 2)
    assert Payout.objects.filter(trade_in__order=order).count() == 2
    assert SideEffect.objects.filter(kind=SideEffectKind.CREATE_LABEL).count() == 1
    assert [refresh(d).state for d in (a, b, c)] == [State.ACCEPTED, State.ACCEPTED, State.DECLINED]
    assert_books_balance()


def test_two_staff_asking_to_change_the_payout_details_on_two_devices_at_once_make_one(
    product, staff, manager, drain
):
    """One change waits per order: both lock the order's devices in pk order, so the second
    one waits, then sees the first one's request and is refused."""
    for _ in range(3):
        order, (a, b, c) = _order(product)
        drain()
        for device in (a, b, c):
            actions.trade_in_quote(trade_in=device, actor=staff, amount="100")
        effect = _offer_emails().filter(payload__order_id=order.pk).get()
        order, quotes = order_offer_from_token(
            order_offer_token(order, effect.payload["quote_ids"])
        )
        actions.order_answer(
            order=order, quotes=quotes, accept=[a, b, c], decline={}, declaration=declared()
        )
        results = race(
            lambda c=c: actions.payout_details_change_request(
                trade_in=c, actor=staff, changes={"city": "Boston"}, reason="Moved"
            ),
            lambda a=a: actions.payout_details_change_request(
                trade_in=a, actor=manager, changes={"city": "Denver"}, reason="Moved"
            ),
        )
        assert outcomes(results) == (1, 1)
        [refused] = [r for r in results if isinstance(r, Exception)]
        assert "is already waiting for a manager" in refused.message
        assert PayoutDetailChange.objects.filter(trade_in__order=order).count() == 1


def test_two_devices_cancelled_and_a_refurbishment_at_once_leave_every_unit_by_the_rule(
    product, staff, drain, settings
):
    """Each action re-carries units whose share depends on the others' rows: none may write
    a share that misses a change committed meanwhile, and none may deadlock."""
    from tests.test_unit_costs import by_hand, carried

    settings.SAMPLE_LABEL_COST = Decimal("7.51")
    for _ in range(3):
        order, (a, b, c) = _order(product)
        drain()
        for device in (a, b, c):
            actions.trade_in_quote(trade_in=device, actor=staff, amount="100")
        quotes = [refresh(device).latest_quote() for device in (a, b, c)]
        actions.order_answer(
            order=order, quotes=quotes, accept=[a, b, c], decline={}, declaration=declared()
        )
        drain()  # the box's label
        unit = Unit.objects.get(trade_in=a)
        results = race(
            lambda b=b: actions.trade_in_cancel(trade_in=b, actor=staff, reason="Not in the box"),
            lambda c=c: actions.trade_in_cancel(trade_in=c, actor=staff, reason="Not in the box"),
            lambda unit=unit: actions.unit_add_refurbishment_cost(
                unit=unit, actor=staff, amount="12.00"
            ),
        )
        assert outcomes(results) == (3, 0)
        assert carried() == by_hand()
        assert Unit.objects.get(trade_in=a).label_cost == Decimal("7.51")
        assert Unit.objects.get(trade_in=a).total_cost == Decimal("119.51")
