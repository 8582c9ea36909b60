"""Issue 22 in Chromium (1440×900): a manager reads the reports with a few weeks of data, each
chart drawn beside its table, under the site's Content-Security-Policy; the unit page shows a
unit's costs, sale and margin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.checks import serious_axe_violations
from tests.browser.conftest import login, screenshot
from tests.test_reports import shop  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_reads_the_reports_with_their_charts(desktop, shop):  # noqa: F811
    csp: list[str] = []
    desktop.on(
        "console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None
    )
    login(desktop, "manager")
    desktop.locator("nav a, aside a", has_text="Reports").first.click()
    desktop.wait_for_url("**/reports/**")
    for slug in ("money", "margin", "ageing", "funnel", "auto-quote"):
        section = desktop.locator(f"#report-{slug}")
        box = section.locator("canvas.chart").bounding_box()
        assert box and box["width"] > 300 and box["height"] > 200, slug
        assert section.locator("tbody tr").count() >= 1, slug
        assert section.locator("a", has_text="Download CSV").count() == 1
    # Chart.js drew something on each canvas (a blank canvas is all transparent pixels).
    drawn = desktop.evaluate(
        """() => [...document.querySelectorAll('canvas.chart')].map(c =>
             c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0))"""
    )
    assert drawn == [True] * 5
    assert csp == []
    assert serious_axe_violations(desktop) == []
    screenshot(desktop, "reports")


def test_the_unit_page_shows_costs_sale_and_margin(desktop, shop):  # noqa: F811
    unit = shop["closed"][0].unit
    login(desktop, "manager")
    desktop.goto(reverse("admin:workflows_unit_change", args=[unit.pk]))
    card = desktop.locator("#unit-money")
    text = card.inner_text()
    assert "420.00" in text and "47.25" in text and "Margin" in text
    screenshot(desktop, "unit-money")
