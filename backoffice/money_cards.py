"""The dashboard cards and the sidebar badge about money that waits on somebody: payout-detail
changes a manager must decide, and Stripe bank reports kept until Stripe answers."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from workflows.models import (
    ChangeStatus,
    PayoutDetailChange,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
)
from workflows.rules.permissions import Operation, allowed


def detail_changes_badge(request: HttpRequest) -> str | None:
    """Sidebar: payout-detail changes waiting for a manager (managers only)."""
    if not allowed(request.user, Operation.DECIDE_DETAILS_CHANGE):
        return None
    if not hasattr(request, "detail_changes_waiting"):
        request.detail_changes_waiting = PayoutDetailChange.objects.filter(
            status=ChangeStatus.PENDING
        ).count()
    return str(request.detail_changes_waiting) if request.detail_changes_waiting else None


def money_cards(request: HttpRequest) -> list[tuple[str, object, str]]:
    cards: list[tuple[str, object, str]] = []
    if allowed(request.user, Operation.DECIDE_DETAILS_CHANGE):
        pending = PayoutDetailChange.objects.filter(status=ChangeStatus.PENDING)
        first = pending.select_related("trade_in").order_by("requested_at").first()
        label = _("Payout detail changes to approve")
        if first is not None:
            label += f" · {first.trade_in}: {first.describe()}"
        cards.append(
            (
                label,
                pending.count(),
                reverse("admin:workflows_payoutdetailchange_changelist") + "?status__exact=pending",
            )
        )
    if request.user.has_perm("workflows.view_sideeffect"):
        waiting = SideEffect.objects.filter(kind=SideEffectKind.MATCH_BANK_PAYOUT).exclude(
            status=SideEffectStatus.DONE
        )
        if waiting.exists():
            cards.append(
                (
                    _("Stripe bank reports waiting on Stripe"),
                    waiting.count(),
                    reverse("admin:workflows_sideeffect_changelist")
                    + f"?kind__exact={SideEffectKind.MATCH_BANK_PAYOUT}",
                )
            )
    return cards
