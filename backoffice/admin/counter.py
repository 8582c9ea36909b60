"""The counter's records, read-only: the cash drawers day by day with their payouts. They are
written only by workflows.actions.counter_buyback (the Counter page opens and closes them)."""

from __future__ import annotations

from django.contrib import admin

from backoffice.admin.base import ReadOnlyAdmin, ReadOnlyInline
from workflows.models import CashDrawer, CashMovement


class CashMovementInline(ReadOnlyInline):
    model = CashMovement
    fields = ["paid_at", "amount", "payout", "paid_by"]
    readonly_fields = fields


@admin.register(CashDrawer)
class CashDrawerAdmin(ReadOnlyAdmin):
    list_display = [
        "day",
        "opening_float",
        "counted",
        "expected",
        "difference",
        "closing_note",
        "opened_by",
        "closed_by",
    ]
    list_select_related = ["opened_by", "closed_by"]
    date_hierarchy = "day"
    inlines = [CashMovementInline]
    readonly_fields = [
        "day",
        "opening_float",
        "currency",
        "opened_by",
        "opened_at",
        "counted",
        "expected",
        "difference",
        "closing_note",
        "closed_by",
        "closed_at",
    ]
