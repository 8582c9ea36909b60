"""The price list page with `make run`'s demo month, at 1440×900 (issue 22): offers, learned
suggestions with their basis, acceptance rates; a manager applies one from the page."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from backoffice.roles import sync_roles
from tests.browser.conftest import login, screenshot
from workflows.models import PriceChange

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_reads_the_price_list_with_the_demo_month_and_applies_one(desktop):
    sync_roles()  # an earlier transactional test flushed the groups the demo accounts join
    call_command("seed_demo")  # also the demo accounts (manager / tradein-demo)
    login(desktop, "manager")
    desktop.goto("/dashboard/price-list/")
    desktop.wait_for_selector("#price-rows")
    assert desktop.locator("#method").inner_text().count("median sale price") == 1
    assert desktop.locator("td:has-text('median of')").count() >= 3
    assert desktop.locator("td:has-text('market,')").count() >= 2
    screenshot(desktop, "price-list-demo-month")
    row = desktop.locator("#price-rows tbody tr:has(button:has-text('Apply'))").first
    row.locator("button:has-text('Apply')").click()
    desktop.wait_for_selector("text=Price list updated.")
    change = PriceChange.objects.get()
    assert change.actor.username == "manager" and change.new_price != change.old_price
    desktop.locator("#price-history").scroll_into_view_if_needed()
    screenshot(desktop, "price-list-after-apply")
    # The dashboard over the same month (its charts are the `sales` branch's reports).
    desktop.goto("/dashboard/")
    screenshot(desktop, "dashboard-demo-month")
