from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_q.models import Failure, OrmQ, Schedule, Success
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from backoffice.admin.base import ReadOnlyAdmin
from workflows import actions
from workflows.errors import DomainError
from workflows.models import ImeiCheck, ShippingLabel, SideEffect, SideEffectStatus
from workflows.rules.permissions import Operation, allowed


@admin.register(SideEffect)
class SideEffectAdmin(ModelAdmin):
    """The outbox: what was promised after each action, and whether it happened."""

    list_display = [
        "key",
        "kind",
        "trade_in",
        "status_label",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["key", "trade_in__reference"]
    list_select_related = ["trade_in"]
    readonly_fields = [
        "key",
        "kind",
        "trade_in",
        "payload",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "done_at",
    ]
    actions = ["retry_now"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # written by the outbox; "Retry now" is the one thing staff do here

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return allowed(request.user, Operation.RETRY_SIDE_EFFECT)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @display(
        description=_("Status"),
        ordering="status",
        label={
            SideEffectStatus.PENDING: "warning",
            SideEffectStatus.DONE: "success",
            SideEffectStatus.FAILED: "danger",
        },
    )
    def status_label(self, obj: SideEffect) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @action(description=_("Retry now"), permissions=["retry"])
    def retry_now(
        self, request: HttpRequest, queryset: QuerySet[SideEffect]
    ) -> HttpResponse | None:
        try:
            ids = actions.side_effect_retry(effects=queryset, actor=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, level="error")
            return None
        self.message_user(request, _("%d side effects queued again.") % len(ids))
        return None


@admin.register(ShippingLabel)
class ShippingLabelAdmin(ReadOnlyAdmin):
    """Bought, voided and tracked by the outbox and the actions; shown here, never edited."""

    list_display = [
        "label_id",
        "trade_in",
        "provider",
        "tracking_number",
        "tracking_status",
        "is_sample",
        "voided_at",
        "created_at",
    ]
    list_filter = ["provider", "is_sample"]
    search_fields = ["=label_id", "=tracking_number", "=trade_in__reference"]
    list_select_related = ["trade_in"]
    exclude = ["pdf"]
    readonly_fields = [
        "trade_in",
        "provider",
        "label_id",
        "tracking_number",
        "carrier",
        "is_sample",
        "voided_at",
        "created_at",
        "tracking_status",
        "tracking_detail",
        "tracking_updated_at",
        "tracking_error",
    ]


@admin.register(ImeiCheck)
class ImeiCheckAdmin(ModelAdmin):
    list_display = [
        "imei",
        "trade_in",
        "status",
        "model_mismatch",
        "provider",
        "carrier",
        "checked_at",
    ]
    list_filter = ["status", "provider"]
    search_fields = ["=imei", "=trade_in__reference"]
    list_select_related = ["trade_in"]
    readonly_fields = [f.name for f in ImeiCheck._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# --- django-q2's schedules and task results: read-only for everyone ------------------------------
# A schedule's `func` is a dotted path the worker imports and calls: whoever can edit it runs
# any Python function (subprocess.getoutput included) as the server's user. Schedules are made
# by migrations (workflows/migrations), so nobody, superusers included, adds, edits or deletes
# one here, and a failed task is never resubmitted from the admin (our own retries live in the
# outbox above). Viewing stays with the Admin role.
class TaskRecordAdmin(ReadOnlyAdmin):
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


for _model in (Schedule, Success, Failure, OrmQ):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(Schedule)
class ScheduleAdmin(TaskRecordAdmin):
    list_display = ["name", "func", "schedule_type", "minutes", "repeats", "next_run"]
    search_fields = ["name", "func"]


@admin.register(Success)
class SuccessAdmin(TaskRecordAdmin):
    list_display = ["name", "func", "started", "stopped"]
    search_fields = ["name", "func"]
    exclude = ["args", "kwargs", "result"]  # task arguments can carry personal data

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(success=True)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f for f in super().get_readonly_fields(request, obj) if f not in self.exclude]


@admin.register(Failure)
class FailureAdmin(SuccessAdmin):
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super(SuccessAdmin, self).get_queryset(request).filter(success=False)


@admin.register(OrmQ)
class QueuedTaskAdmin(TaskRecordAdmin):
    list_display = ["id", "key", "lock"]
    exclude = ["payload"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return ["key", "lock"]
