"""The police reports and the ID audit trail: written by the actions, only read here."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from backoffice.admin.base import ReadOnlyAdmin
from backoffice.compliance import DailyExportForm
from workflows.models import IdNumberAccess, PoliceReport, PoliceReportStatus
from workflows.rules.permissions import Operation, allowed


@admin.register(PoliceReport)
class PoliceReportAdmin(ReadOnlyAdmin):
    """Each batch sent to the police; a failing one is retried by the outbox."""

    list_display = ["filename", "status_label", "rows", "created_at", "sent_at", "last_error"]
    list_filter = ["status"]
    readonly_fields = [
        "filename",
        "status",
        "destination",
        "rows",
        "sha256",
        "last_error",
        "created_at",
        "sent_at",
    ]
    # The daily CSV export form above the list (backoffice.compliance.police_daily_export).
    list_before_template = "backoffice/police_daily_export.html"

    @display(
        description=_("Status"),
        ordering="status",
        label={
            PoliceReportStatus.PENDING: "warning",
            PoliceReportStatus.SENT: "success",
            PoliceReportStatus.FAILED: "danger",
        },
    )
    def status_label(self, obj: PoliceReport) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {
            **(extra_context or {}),
            "daily_form": DailyExportForm(initial={"day": timezone.localdate()}),
            "can_export": allowed(request.user, Operation.EXPORT_POLICE_DAY),
        }
        return super().changelist_view(request, extra_context)


@admin.register(IdNumberAccess)
class IdNumberAccessAdmin(ReadOnlyAdmin):
    """Who saw a whole ID number, when and why (the reveal button and police exports)."""

    list_display = ["at", "who", "identity", "trade_in", "purpose"]
    list_select_related = ["actor", "identity__trade_in"]
    search_fields = ["identity__trade_in__reference", "actor__username", "purpose"]
    readonly_fields = ["at", "actor", "actor_label", "identity", "purpose"]

    @admin.display(description=_("Who"))
    def who(self, obj: IdNumberAccess) -> str:
        return obj.actor.get_username() if obj.actor_id else obj.actor_label

    @admin.display(description=_("Trade-in"))
    def trade_in(self, obj: IdNumberAccess) -> str:
        return str(obj.identity.trade_in)
