"""Staff pages for everyone (issue 24), in Chromium: every staff page passes axe-core's
WCAG 2.0–2.2 A/AA rules (any violation fails, whatever its impact) with no duplicate id."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.checks import scrolls_sideways, staff_page_problems
from tests.browser.conftest import login
from workflows import actions
from workflows.models import Payout, ReturnCase, State

pytestmark = pytest.mark.django_db(transaction=True)

TRADE_IN_STATES = [
    State.SUBMITTED,
    State.QUOTED,
    State.ACCEPTED,
    State.RECEIVED,
    State.REOFFERED,
    State.REROUTED,
    State.CLOSED,
    State.DECLINED,
    State.EXPIRED,
    State.CANCELLED,
    State.RETURNED,
    State.RECYCLED,
]


def problems_on(page, urls: list[str]) -> dict[str, list[str]]:
    found = {}
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        if problems := staff_page_problems(page):
            found[url] = problems
    return found


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{url}\n    " + "\n    ".join(p) for url, p in found.items())


def test_every_trade_in_page_and_the_intake_bench(desktop, make_trade_in, admin_user):
    by_state = {state: make_trade_in(state) for state in TRADE_IN_STATES}
    login(desktop, "admin")
    urls = [
        "/dashboard/",
        "/dashboard/trade-ins/",
        "/dashboard/trade-ins/?view=archive",
        *(f"/dashboard/trade-ins/{t.pk}/change/" for t in by_state.values()),
        "/dashboard/intake/",
        f"/dashboard/intake/?imei={by_state[State.ACCEPTED].imei}",  # the match
        f"/dashboard/intake/?imei={by_state[State.SUBMITTED].imei}",  # refused: not accepted
        "/dashboard/intake/?imei=123",  # refused: not an IMEI
    ]
    found = problems_on(desktop, urls)
    assert not found, report(found)


def test_every_money_compliance_and_catalogue_page(desktop, make_trade_in, admin_user, manager):
    make_trade_in(State.CLOSED)
    make_trade_in(State.REROUTED)
    make_trade_in(State.RETURNED)
    credit_trade_in = make_trade_in(State.RECEIVED, payout_method="store_credit")
    credit = actions.payout_issue_store_credit(payout=credit_trade_in.payout, actor=manager)
    login(desktop, "admin")
    payout = Payout.objects.first()
    case = ReturnCase.objects.first()
    urls = [
        "/dashboard/payouts/",
        f"/dashboard/payouts/{payout.pk}/change/",
        "/dashboard/payouts/export/",
        "/dashboard/workflows/payoutdetailchange/",
        "/dashboard/returns/",
        f"/dashboard/returns/{case.pk}/change/",
        "/dashboard/workflows/shipback/",
        "/dashboard/workflows/quotepolicy/",
        reverse("admin:reports"),
        reverse("admin:price_list"),
        reverse("admin:two_step_account"),
        "/dashboard/store-credit/counter/",
        f"/dashboard/store-credit/counter/?code={credit.code_for_buyer()}",  # looked up
        "/dashboard/workflows/policereport/",
        "/dashboard/workflows/idnumberaccess/",
        "/dashboard/products/",
        "/dashboard/units/",
        "/dashboard/workflows/devicemodel/",
        "/dashboard/workflows/conditiondeduction/",
        "/dashboard/workflows/blockedimei/",
        "/dashboard/workflows/sideeffect/",
        "/dashboard/auth/user/",
        "/dashboard/auth/group/",
    ]
    found = problems_on(desktop, urls)
    assert not found, report(found)


def test_at_200_percent_no_staff_page_scrolls_sideways(chromium, site, make_trade_in, admin_user):
    """1440×900 at 200% zoom is 720×450 CSS pixels: every page reflows (1.4.10) and still
    passes axe."""
    context = chromium.new_context(
        viewport={"width": 720, "height": 450}, device_scale_factor=2, base_url=site
    )
    page = context.new_page()
    states = (State.SUBMITTED, State.QUOTED, State.RECEIVED, State.REOFFERED, State.CLOSED)
    by_state = {state: make_trade_in(state) for state in states}
    make_trade_in(State.REROUTED)
    login(page, "admin")
    urls = [
        "/dashboard/",
        "/dashboard/trade-ins/",
        *(f"/dashboard/trade-ins/{t.pk}/change/" for t in by_state.values()),
        "/dashboard/intake/",
        f"/dashboard/intake/?imei={by_state[State.SUBMITTED].imei}",
        "/dashboard/payouts/",
        f"/dashboard/payouts/{Payout.objects.first().pk}/change/",
        "/dashboard/returns/",
        f"/dashboard/returns/{ReturnCase.objects.first().pk}/change/",
        "/dashboard/store-credit/counter/",
        "/dashboard/workflows/shipback/",
    ]
    found = {}
    for url in urls:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        problems = staff_page_problems(page)
        if scrolls_sideways(page):
            problems.append("scrolls sideways at 200%")
        if problems:
            found[url] = problems
    context.close()
    assert not found, report(found)
