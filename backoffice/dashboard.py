"""The dashboard home and the sidebar badge: the spec's "notification in the dashboard"."""

from __future__ import annotations

from django.http import HttpRequest

from workflows.integrations.status import configured
from workflows.models import State, TradeIn


def new_submissions_badge(request: HttpRequest) -> str | None:
    count = TradeIn.objects.filter(state=State.SUBMITTED).count()
    return str(count) if count else None


def environment_callback(request: HttpRequest) -> list[str] | None:
    integrations = configured()
    demo = [i.system for i in integrations if i.is_demo]
    if demo:
        live = [i.system for i in integrations if not i.is_demo]
        return ["Demo providers: " + ", ".join(demo)
                + (" · live: " + ", ".join(live) if live else ""), "warning"]
    return None


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    new = (
        TradeIn.objects.filter(state=State.SUBMITTED)
        .select_related("product__device_model__make")
        .order_by("created_at")[:10]
    )
    context.update({"new_submissions": new})
    return context
