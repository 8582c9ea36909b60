"""Two counters buying one IMEI at once (issue 21), on PostgreSQL with real threads, each on its
own connection: exactly one buys it; the other is stopped (duplicate IMEI) or refused at the
customer's signature by the one-stocked-unit constraint. Nothing is stocked twice."""

from __future__ import annotations

from tests.counter_helpers import CLEAN, signature_png, signed, start
from tests.factories import ProductFactory, valid_imei
from tests.helpers import RACE, assert_books_balance, refresh
from tests.test_races import outcomes, race
from workflows.actions import counter_buyback as counter
from workflows.models import CounterBuyback, PayoutStatus, State, Unit
from workflows.rules.counter import Step, counter_step

pytestmark = RACE


def test_two_counters_buying_one_imei_at_once_buy_it_once(manager, product):
    """A manager at each counter (who may override a red flag), two products so no product
    lock serializes them: the whole sitting, start to signature, at the same instant."""
    for _ in range(3):
        imei = valid_imei()
        products = [product, ProductFactory()]

        def sitting(i: int, products=products, imei=imei):
            buyback = start(manager, products[i], imei=imei)
            if counter_step(buyback) == Step.STOPPED:
                counter.counter_buyback_override(
                    buyback=buyback, actor=manager, reason="Same customer, second counter"
                )
            counter.counter_buyback_inspect(
                buyback=buyback, actor=manager, checklist=CLEAN, grade="A"
            )
            counter.counter_buyback_offer(
                buyback=buyback, actor=manager, amount="200.00", payout_method="store_credit"
            )
            return counter.counter_buyback_accept(
                buyback=buyback, actor=manager, declaration=signed(), signature_png=signature_png()
            )

        results = race(lambda: sitting(0), lambda: sitting(1))
        assert outcomes(results) == (1, 1)
        assert Unit.objects.filter(imei=imei).count() == 1
        states = sorted(
            b.trade_in.state for b in CounterBuyback.objects.filter(trade_in__imei=imei)
        )
        assert states == [State.QUOTED, State.RECEIVED]
    assert_books_balance()


def test_two_clerks_paying_one_buyback_pay_it_once(staff, product):
    counter.cash_drawer_open(actor=staff, opening_float="1000")
    buyback = start(staff, product)
    counter.counter_buyback_inspect(buyback=buyback, actor=staff, checklist=CLEAN, grade="A")
    counter.counter_buyback_offer(
        buyback=buyback, actor=staff, amount="150.00", payout_method="cash"
    )
    counter.counter_buyback_accept(
        buyback=refresh(buyback), actor=staff, declaration=signed(), signature_png=signature_png()
    )
    results = race(*[lambda: counter.counter_buyback_pay(buyback=buyback, actor=staff)] * 4)
    assert outcomes(results) == (4, 0)  # each gets the one payout back
    payout = refresh(buyback.trade_in).payout
    assert payout.status == PayoutStatus.SETTLED
    assert payout.cash_movement.amount == payout.amount
