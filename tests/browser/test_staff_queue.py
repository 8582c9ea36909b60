"""A queue you can scan (issue 24): at 1440×900 at least 15 trade-ins are on screen, one line
each, and Queue / Archive are tabs above the list."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login, screenshot
from tests.browser.test_staff_keyboard import focused, tab_to
from workflows.models import State

pytestmark = pytest.mark.django_db(transaction=True)

ROWS_IN_VIEW = """() => {
  const bar = document.querySelector('#changelist-actions-wrapper');
  const bottom = bar && bar.getBoundingClientRect().height
    ? Math.min(innerHeight, bar.getBoundingClientRect().top) : innerHeight;
  return [...document.querySelectorAll('#result_list tbody tr')]
    .filter(r => r.getBoundingClientRect().bottom <= bottom + 1).length;
}"""


def test_the_queue_shows_fifteen_rows_with_queue_and_archive_tabs_above(
    desktop, make_trade_in, staff
):
    for i in range(20):
        make_trade_in(State.SUBMITTED if i % 2 else State.ACCEPTED)
    finished = make_trade_in(State.DECLINED)
    login(desktop, "staff")
    desktop.goto("/dashboard/trade-ins/")
    screenshot(desktop, "staff-queue-1440")
    assert desktop.evaluate(ROWS_IN_VIEW) >= 15
    condition = desktop.locator("#result_list tbody tr .bo-clip").first
    assert condition.get_attribute("title")  # the whole condition on hover
    clipped = "el => el.scrollWidth > el.clientWidth"
    assert condition.evaluate(clipped)
    tab_to(desktop, focused("#result_list tbody tr:first-child th a"))
    assert not condition.evaluate(clipped)  # and whole when its row has keyboard focus

    tabs = desktop.get_by_role("navigation", name="Trade-ins")
    queue, archive = (
        tabs.get_by_role("link", name="Queue", exact=True),
        tabs.get_by_role("link", name="Archive", exact=True),
    )
    assert queue.get_attribute("aria-current") == "page"
    assert archive.get_attribute("aria-current") is None
    above = desktop.evaluate(
        "() => document.querySelector('.bo-tabs').getBoundingClientRect().bottom"
        " <= document.querySelector('#result_list').getBoundingClientRect().top"
    )
    assert above
    assert finished.reference not in desktop.inner_text("#result_list")
    archive.click()
    desktop.wait_for_url("**view=archive")
    assert archive.get_attribute("aria-current") == "page"
    assert queue.get_attribute("aria-current") is None
    assert finished.reference in desktop.inner_text("#result_list")
    # Not also a choice in the Filters drawer, where Queue and Archive both looked selected.
    assert desktop.locator("#changelist-filter input[type=radio][name=view]").count() == 0
