"""The sidebar's badges: new submissions and devices still to ship back.

Counted once a request, both in one query (workflows.selectors.sidebar_counts): every
dashboard page draws them, the sidebar's cache key reads them (templatetags/sidebar.py) and
the dashboard's ship-back card shows the second.
"""

from __future__ import annotations

from django.http import HttpRequest

from workflows.selectors import SidebarCounts, sidebar_counts


def counts(request: HttpRequest) -> SidebarCounts:
    if not hasattr(request, "sidebar_counts"):
        request.sidebar_counts = sidebar_counts()
    return request.sidebar_counts


def new_submissions_badge(request: HttpRequest) -> str | None:
    return str(counts(request).new_submissions or "") or None


def ship_back_badge(request: HttpRequest) -> str | None:
    return str(counts(request).open_ship_backs or "") or None
