"""The Content-Security-Policy, in Chromium: every kind of page works under it, no violation.

A violation is caught twice: the page's own `securitypolicyviolation` events and Chromium's
console. The camera scanner runs its WebAssembly under the buyer policy; the Unfold dashboard
runs Alpine.js, htmx and the filters under the staff policy.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import login
from tests.browser.test_scan import IMEI, camera_browser, phone_on_form  # noqa: F401
from workflows.links import quote_token, status_token
from workflows.models import State

pytestmark = pytest.mark.django_db(transaction=True)

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def watch(page) -> list[str]:
    console: list[str] = []
    page.context.add_init_script(WATCH)
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return console


def violations(page, console: list[str]) -> list[str]:
    return [*page.evaluate("window.__csp || []"), *console]


def test_every_response_carries_the_policy(client, db):
    header = client.get("/trade-in/")["Content-Security-Policy"]
    assert (
        "script-src 'self' 'wasm-unsafe-eval'" in header
        and "unsafe-eval'" not in header.replace("wasm-unsafe-eval", "")
    )
    assert "object-src 'none'" in header and "frame-ancestors 'none'" in header
    staff = client.get("/dashboard/login/")["Content-Security-Policy"]
    assert "'unsafe-eval'" in staff  # Alpine.js, on the dashboard only


def test_the_camera_scanner_runs_its_wasm_under_the_policy(camera_browser, site, product):  # noqa: F811
    page = phone_on_form(camera_browser, site, product, camera=True)
    console = watch(page)
    page.reload()
    page.tap("#scan")
    page.wait_for_function(f"() => document.getElementById('id_imei').value === '{IMEI}'")
    assert violations(page, console) == []
    page.context.close()


def test_the_buyer_pages_run_under_the_policy(phone, make_trade_in, product):
    console = watch(phone)
    quoted = make_trade_in(State.QUOTED)
    dm = product.device_model
    for url in (
        "/",
        "/trade-in/",
        f"/trade-in/?make={dm.make.slug}",
        f"/trade-in/?make={dm.make.slug}&model={dm.slug}",
        f"/trade-in/status/{status_token(quoted)}/",
        f"/trade-in/offer/{quote_token(quoted.latest_quote())}/",
    ):
        phone.goto(url)
        phone.wait_for_load_state("networkidle")
        assert violations(phone, console) == [], url


def test_the_dashboard_runs_under_the_policy(desktop, make_trade_in, admin_user):
    console = watch(desktop)
    trade_in = make_trade_in(State.RECEIVED)
    login(desktop, "admin")
    pages = [
        "/dashboard/",
        "/dashboard/trade-ins/",
        f"/dashboard/trade-ins/{trade_in.pk}/change/",
        "/dashboard/intake/",
        f"/dashboard/intake/?imei={trade_in.imei}",
        "/dashboard/payouts/",
        f"/dashboard/payouts/{trade_in.payout.pk}/change/",
        "/dashboard/payouts/export/",
        "/dashboard/products/",
        "/dashboard/products/import/",
        "/dashboard/workflows/sideeffect/",
        "/dashboard/django_q/schedule/",
        "/dashboard/auth/user/",
    ]
    for url in pages:
        desktop.goto(url)
        desktop.wait_for_load_state("networkidle")
        assert violations(desktop, console) == [], url
    # Alpine at work: the changelist's filter panel opens, the user menu opens.
    desktop.goto("/dashboard/payouts/")
    desktop.locator("a:has-text('Filters'), button:has-text('Filters')").first.click()
    desktop.wait_for_timeout(300)
    assert violations(desktop, console) == []
