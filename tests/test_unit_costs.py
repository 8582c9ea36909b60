"""The costs a unit's row carries on PostgreSQL (migrations 0026_speed_unit_costs and
0028_speed_unit_received, read by the margin and ageing reports at 1M units) equal what
workflows.selectors.reports.with_money and hand-written SQL say over the rows, and so does the copy
of its
trade-in's receipt, after each kind of write: a unit added or moved, a trade-in received or its
receipt corrected, a payout created, revised, voided, reversed or moved, a label bought,
re-priced, voided or deleted, a refurbishment entry added, changed, moved or deleted."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tests.helpers import refresh, valid_imei
from tests.test_reports import shop as shop  # noqa: F401  (the fixture)
from tests.test_reports import sql
from workflows import actions
from workflows.actions import answers
from workflows.models import (
    Payout,
    RefurbishmentCost,
    ShippingLabel,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)
from workflows.selectors.reports import with_money

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the carried costs are PostgreSQL's"
)


def carried() -> list[tuple]:
    return [
        (pk, Decimal(p), Decimal(lab), Decimal(r), received)
        for pk, p, lab, r, received in sql(
            "SELECT id, payout_cost, label_cost, refurbishment_cost, trade_in_received_at"
            " FROM workflows_unit ORDER BY id"
        )
    ]


def by_hand() -> list[tuple]:
    return [
        (pk, Decimal(p), Decimal(lab), Decimal(r), received)
        for pk, p, lab, r, received in sql(
            """
            SELECT u.id,
                   COALESCE((SELECT amount FROM workflows_payout p WHERE p.trade_in_id =
                             u.trade_in_id AND p.status IN ('pending', 'failed', 'settled')), 0),
                   COALESCE((SELECT SUM(cost) FROM workflows_shippinglabel l WHERE
                             l.trade_in_id = u.trade_in_id AND l.voided_at IS NULL), 0),
                   COALESCE((SELECT SUM(amount) FROM workflows_refurbishmentcost r WHERE
                             r.unit_id = u.id), 0),
                   (SELECT received_at FROM workflows_tradein t WHERE t.id = u.trade_in_id)
            FROM workflows_unit u ORDER BY u.id
            """
        )
    ]


def check() -> None:
    rows = carried()
    assert rows == by_hand()
    assert [row[:4] for row in rows] == [
        (u.pk, u.payout_cost, u.label_cost, u.refurbishment_cost)
        for u in with_money(Unit.objects.order_by("pk"))
    ]


@pytest.mark.django_db
def test_the_costs_a_unit_carries_equal_sql_after_each_kind_of_write(shop, make_trade_in, staff):  # noqa: F811
    check()  # the shop's actions: accept, receive, settle, labels, refurbishment, sales
    assert any(row[1] != 0 for row in carried())
    assert any(row[3] != 0 for row in carried())
    assert any(row[4] is not None for row in carried())
    closed = shop["closed"]
    unit = refresh(closed[0]).unit

    # A label bought (the action), re-priced, voided (the action), deleted.
    label = answers.shipping_label_record(
        trade_in=closed[0],
        provider_name="sample",
        is_sample=True,
        label_id="return-1",
        tracking_number="1Z",
        carrier="sample",
        pdf=b"%PDF",
        cost=Decimal("9.15"),
        cost_currency="USD",
    )
    check()
    ShippingLabel.objects.filter(pk=label.pk).update(cost=Decimal("11.40"))
    check()
    answers.shipping_label_voided(label=label)
    check()
    ShippingLabel.objects.filter(pk=label.pk).update(voided_at=None)
    check()
    ShippingLabel.objects.filter(pk=label.pk).delete()
    check()

    # A payout revised, voided, reversed, moved to another trade-in, created.
    payout = Payout.objects.get(trade_in=closed[1])
    Payout.objects.filter(pk=payout.pk).update(amount=payout.amount + Decimal("17.35"))
    check()
    Payout.objects.filter(pk=payout.pk).update(status="reversed")
    check()
    Payout.objects.filter(trade_in=shop["shelf"]).update(status="void")
    check()
    Payout.objects.filter(trade_in=shop["fresh"]).update(status="failed")
    check()
    fresh = make_trade_in(State.ACCEPTED)  # a new payout (and unit)
    check()

    # Refurbishment added (the action), changed, moved, deleted.
    actions.unit_add_refurbishment_cost(unit=unit, actor=staff, amount="8.80", note="Glass")
    check()
    entry = RefurbishmentCost.objects.filter(unit=unit).latest("pk")
    RefurbishmentCost.objects.filter(pk=entry.pk).update(amount=Decimal("3.30"))
    check()
    other = refresh(closed[1]).unit
    RefurbishmentCost.objects.filter(pk=entry.pk).update(unit=other)
    check()
    RefurbishmentCost.objects.filter(pk=entry.pk).delete()
    check()

    # A unit added without a trade-in, one moved to another trade-in, a unit's own update
    # (a sale, a status change) leaving its costs as they are.
    Unit.objects.create(
        product=unit.product,
        imei=valid_imei(),
        status=UnitStatus.GRADED,
        grade="B",
        created_at=timezone.now(),
    )
    check()
    moved = refresh(fresh).unit
    Unit.objects.filter(pk=moved.pk).update(trade_in=None)
    check()
    Unit.objects.filter(pk=moved.pk).update(trade_in=fresh)
    check()
    Unit.objects.filter(pk=unit.pk).update(sale_price=Decimal("999.00"), grade="C")
    check()

    # A trade-in's receipt moved (as a correction would), cleared, set again.
    TradeIn.objects.filter(pk=closed[2].pk).update(received_at=timezone.now() - timedelta(days=50))
    check()
    TradeIn.objects.filter(pk=fresh.pk).update(received_at=None)
    check()
    TradeIn.objects.filter(pk=fresh.pk).update(received_at=timezone.now())
    check()
