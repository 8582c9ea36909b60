"""The dashboard home and the sidebar badge: the spec's "notification in the dashboard"."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from backoffice.admin.ship_back import ship_back_card
from backoffice.compliance import late_report_card, retention_card
from backoffice.money_cards import money_cards
from workflows.integrations.status import configured
from workflows.models import State, TradeIn
from workflows.selectors import dashboard_stats


def environment_callback(request: HttpRequest) -> list[str] | None:
    integrations = configured()
    demo = [i.system for i in integrations if i.is_demo]
    if demo:
        live = [i.system for i in integrations if not i.is_demo]
        return [
            "Demo providers: " + ", ".join(demo) + (" · live: " + ", ".join(live) if live else ""),
            "warning",
        ]
    return None


def _duration(delta) -> str:
    if delta is None:
        return "–"
    minutes = delta.total_seconds() / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    if not request.user.has_perm("workflows.view_tradein"):
        return context
    stats = dashboard_stats()
    queue = reverse("admin:workflows_tradein_changelist")
    rate = stats.acceptance_rate_30d
    context.update(
        {
            "new_submissions": TradeIn.objects.filter(state=State.SUBMITTED)
            .select_related("product__device_model__make")
            .order_by("created_at")[:10],
            "cards": [
                ("New today", stats.new_today, queue),
                ("Awaiting quote", stats.awaiting_quote, f"{queue}?state__exact=submitted"),
                ("Awaiting the buyer", stats.awaiting_buyer, f"{queue}?state__exact=quoted"),
                (
                    "Accepted, awaiting arrival",
                    stats.awaiting_arrival,
                    f"{queue}?state__exact=accepted",
                ),
                ("Received this week", stats.received_this_week, f"{queue}?state__exact=received"),
                *(
                    [
                        (
                            "Pending payout liability",
                            f"{settings.CURRENCY_SYMBOL}{stats.payout_liability:,.2f}",
                            reverse("admin:workflows_payout_changelist") + "?status__exact=pending",
                        )
                    ]
                    if request.user.has_perm("workflows.view_payout")
                    else []
                ),
                ("Acceptance rate, 30 days", "–" if rate is None else f"{rate:.0%}", ""),
                ("Median time to quote", _duration(stats.median_time_to_quote), ""),
                ("90% quoted within", _duration(stats.p90_time_to_quote), ""),
                (
                    "Quoted automatically, 30 days",
                    stats.auto_quoted_30d,
                    reverse("admin:workflows_quotepolicy_changelist"),
                ),
                *filter(None, [late_report_card(), retention_card(), ship_back_card(request)]),
                *money_cards(request),
            ],
            "chart": json.dumps(_activity_chart(stats)),
            "chart_options": json.dumps(CHART_OPTIONS),
            "trend_chart": json.dumps(_trend_chart(stats)),
            "trend_options": json.dumps(TREND_OPTIONS),
            "chart_days": len(stats.days),
            "top_models": stats.top_models,
        }
    )
    return context


# Unfold's Chart.js component (unfold/components/chart/*.html) takes Chart.js options as JSON:
# a legend, a y axis with its numbers, tooltips that show every series of the day.
CHART_OPTIONS = {
    "maintainAspectRatio": False,
    "interaction": {"mode": "index", "intersect": False},
    "plugins": {"legend": {"display": True, "align": "start"}, "tooltip": {"enabled": True}},
    "scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}},
}
TREND_OPTIONS = {
    "maintainAspectRatio": False,
    "interaction": {"mode": "index", "intersect": False},
    "spanGaps": True,
    "plugins": {"legend": {"display": True, "align": "start"}, "tooltip": {"enabled": True}},
    "scales": {
        "y": {"beginAtZero": True, "position": "left", "title": {"display": True, "text": "hours"}},
        "y1": {
            "beginAtZero": True,
            "max": 100,
            "position": "right",
            "grid": {"drawOnChartArea": False},
            "title": {"display": True, "text": "% accepted"},
        },
    },
}


def _labels(stats) -> list[str]:
    return [d.strftime("%b %d") for d in stats.days]


def _activity_chart(stats) -> dict:
    series = [
        ("Submissions", stats.submissions_per_day, "var(--color-primary-400)"),
        ("Quotes", stats.quotes_per_day, "var(--color-primary-700)"),
        ("Acceptances", stats.acceptances_per_day, "#22c55e"),
        ("Received", stats.receipts_per_day, "#f59e0b"),
    ]
    datasets = [
        {"label": label, "data": data, "backgroundColor": colour, "maxBarThickness": 14}
        for label, data, colour in series
    ]
    datasets[0].update({"displayYAxis": True, "maxTicksXLimit": 10})
    return {"labels": _labels(stats), "datasets": datasets}


def _trend_chart(stats) -> dict:
    return {
        "labels": _labels(stats),
        "datasets": [
            {
                "label": "Median hours to first quote",
                "data": stats.median_hours_to_quote_per_day,
                "borderColor": "var(--color-primary-600)",
                "backgroundColor": "var(--color-primary-600)",
                "pointStyle": "circle",
                "displayYAxis": True,
                "maxTicksXLimit": 10,
                "yAxisID": "y",
            },
            {
                "label": "Acceptance rate (%)",
                "data": stats.acceptance_rate_per_day,
                "borderColor": "#22c55e",
                "backgroundColor": "#22c55e",
                "pointStyle": "circle",
                "yAxisID": "y1",
            },
        ],
    }
