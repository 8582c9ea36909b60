"""The managers' reports page: each report's chart (Unfold's Chart.js component), its table and
its CSV. The figures come from workflows.selectors.reports; this module only draws them."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from backoffice.resources import neutralise
from workflows.selectors import reports
from workflows.selectors.reports import Report

PERMISSION = "workflows.view_reports"
COLOURS = ["var(--color-primary-600)", "#22c55e", "#f59e0b", "var(--color-primary-300)", "#0ea5e9"]
OPTIONS = {
    "maintainAspectRatio": False,
    "animation": False,
    "interaction": {"mode": "index", "intersect": False},
    "plugins": {"legend": {"display": True, "align": "start"}, "tooltip": {"enabled": True}},
    "scales": {"x": {"grid": {"display": False}}, "y": {"beginAtZero": True}},
}


def _label(value: object) -> str:
    return value.strftime("%b %d") if isinstance(value, date) else str(value)


def _number(value: object) -> float | int | None:
    if isinstance(value, Decimal):
        return float(value)
    return value if isinstance(value, int | float) else None


def _chart(report: Report, columns: list[int], *, label: int = 0) -> dict:
    """Chart.js data: one dataset per chosen column, one bar group per row."""
    datasets = []
    for i, column in enumerate(columns):
        datasets.append(
            {
                "label": report.columns[column],
                "data": [_number(row[column]) for row in report.rows],
                "backgroundColor": COLOURS[i % len(COLOURS)],
                "borderColor": COLOURS[i % len(COLOURS)],
                "maxBarThickness": 36,
                "borderRadius": 4,
            }
        )
    return {"labels": [_label(row[label]) for row in report.rows], "datasets": datasets}


def _options(*, stacked: bool = False, horizontal: bool = False, money: bool = False) -> dict:
    options = json.loads(json.dumps(OPTIONS))
    if stacked:
        options["scales"]["x"]["stacked"] = options["scales"]["y"]["stacked"] = True
    if not money:
        options["scales"]["y"]["ticks"] = {"precision": 0}
    if horizontal:
        options["indexAxis"] = "y"
        options["scales"] = {"x": {"beginAtZero": True}, "y": {"grid": {"display": False}}}
    return options


# Per report: the columns its chart plots, and how.
CHARTS = {
    "money": ([2, 4], {"money": True}),
    "margin": ([7], {"horizontal": True, "money": True}),
    "ageing": ([1, 2], {}),
    "funnel": ([1, 2, 3, 4, 5], {}),
    "auto-quote": ([2, 3], {"stacked": True}),
    "on-hold": ([1], {}),
}
# The margin chart draws the models that sold most; its table lists them all.
MARGIN_CHART_ROWS = 12


def _weeks(request: HttpRequest) -> int:
    try:
        weeks = int(request.GET.get("weeks", reports.DEFAULT_WEEKS))
    except ValueError:
        return reports.DEFAULT_WEEKS
    return weeks if weeks in reports.PERIODS else reports.DEFAULT_WEEKS


def _hold_chart(held: Report) -> Report:
    """Held units by the week their hold ends ("not reported yet" first)."""
    counts: dict[object, int] = {}
    for row in held.rows:
        until = row[-1]
        if isinstance(until, date):
            key: object = until - timedelta(days=until.weekday())
        else:
            key = "not reported yet"
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (isinstance(kv[0], date), str(kv[0])))
    return Report(
        "on-hold", held.title, ["Hold ends week of", "Units"], [list(kv) for kv in ordered]
    )


def build(slug: str, weeks: int, *, limit: int | None = 200) -> Report:
    if slug == "on-hold":
        return reports.units_on_hold(limit=limit)
    if slug not in reports.REPORTS:
        raise Http404
    return reports.REPORTS[slug](reports.period(weeks))


def reports_page(request: HttpRequest) -> TemplateResponse:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    weeks = _weeks(request)
    sections = []
    for slug in [*reports.REPORTS, "on-hold"]:
        report = build(slug, weeks, limit=None if slug == "on-hold" else 200)
        plotted = report
        if slug == "margin":
            top = sorted(report.rows, key=lambda r: r[3], reverse=True)[:MARGIN_CHART_ROWS]
            plotted = Report(
                slug, report.title, report.columns, [[f"{r[0]} · {r[1]}", *r[1:]] for r in top]
            )
        if slug == "on-hold":
            plotted = _hold_chart(report)
            report.rows = report.rows[:200]
        columns, how = CHARTS[slug]
        chart = _chart(plotted, columns)
        if slug == "margin":  # a loss reads red
            chart["datasets"][0]["backgroundColor"] = [
                "#ef4444" if (value or 0) < 0 else COLOURS[0]
                for value in chart["datasets"][0]["data"]
            ]
        sections.append(
            {
                "report": report,
                "chart": json.dumps(chart) if plotted.rows else "",
                "options": json.dumps(_options(**how)),
                "csv": reverse("admin:report_csv", args=[slug]) + f"?weeks={weeks}",
                "periodic": slug != "on-hold",
                "money_columns": _money_columns(report),
            }
        )
    first = reports.period(weeks).first_day
    return TemplateResponse(
        request,
        "backoffice/reports.html",
        {
            **admin.site.each_context(request),
            "title": "Reports",
            "sections": sections,
            "weeks": weeks,
            "periods": reports.PERIODS,
            "since": first,
            "currency": settings.CURRENCY,
        },
    )


def _money_columns(report: Report) -> list[int]:
    return [
        i for i in range(len(report.columns)) if any(isinstance(r[i], Decimal) for r in report.rows)
    ]


def report_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The same rows as the page's table (the held units: all of them), as CSV."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    report = build(slug, _weeks(request), limit=None)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="report-{slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(report.columns)
    for row in report.rows:
        writer.writerow(
            [value.isoformat() if isinstance(value, date) else neutralise(value) for value in row]
        )
    return response


def urls(site: admin.AdminSite) -> list:
    return [
        path("reports/", site.admin_view(reports_page), name="reports"),
        path("reports/<slug:slug>.csv", site.admin_view(report_csv), name="report_csv"),
    ]
