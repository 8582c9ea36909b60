"""Two managers applying the same suggestion at once (PostgreSQL): one change, one refusal."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import Group, User

from tests.helpers import RACE
from tests.test_pricing import sold
from tests.test_races import outcomes, race
from workflows import actions
from workflows.models import PriceChange

pytestmark = RACE


def test_two_managers_applying_one_suggestion_make_one_change(product, manager):
    other = User.objects.create_user("manager2", "m2@shop.example", "x", is_staff=True)
    other.groups.add(Group.objects.get(name="Manager"))
    for price in ("600.00", "640.00", "620.00"):
        sold(product, "A", price)
    seen = Decimal("500.00")  # both pages showed today's offer of 500

    def apply(actor):
        return lambda: actions.price_suggestion_apply(
            actor=actor, product=product, grade="A", seen_offer=seen
        )

    results = race(apply(manager), apply(other), apply(manager), apply(other))
    assert outcomes(results) == (1, 3)
    change = PriceChange.objects.get()
    assert (change.old_price, change.new_price) == (Decimal("500.00"), Decimal("455.00"))
