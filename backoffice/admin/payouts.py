from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    StreamingHttpResponse,
)
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportActionModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import display

from backoffice.admin.base import NoDeleteAdmin, PanelAdmin, call_action, form_errors
from backoffice.forms import CheckSettleForm, ReasonForm, ResolveReturnForm
from backoffice.resources import PayoutResource
from workflows import actions
from workflows.integrations import payments
from workflows.models import (
    Payout,
    PayoutMethod,
    PayoutStatus,
    ReturnCase,
    ReturnStatus,
    State,
    StoreCredit,
    StripeAccount,
    StripeEvent,
)

PAYOUT_COLOURS = {
    PayoutStatus.PENDING: "warning",
    PayoutStatus.SETTLED: "success",
    PayoutStatus.DECLINED: "danger",
    PayoutStatus.VOID: "danger",
    PayoutStatus.FAILED: "danger",
}


@admin.register(Payout)
class PayoutAdmin(PanelAdmin, NoDeleteAdmin, ExportActionModelAdmin):
    """Managers settle here, and export the selected or filtered payouts for accounting."""

    resource_classes = [PayoutResource]
    export_form_class = ExportForm
    formats = [CSV, XLSX]
    list_display = [
        "reference",
        "buyer",
        "amount",
        "currency",
        "method",
        "status_label",
        "created_at",
        "settled_at",
        "settlement_reference",
    ]
    list_filter = [
        "status",
        "method",
        ("created_at", RangeDateFilter),
        ("settled_at", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = ["=trade_in__reference", "trade_in__buyer_email", "settlement_reference"]
    search_help_text = _("Reference, buyer email or settlement reference")
    list_select_related = ["trade_in"]
    show_full_result_count = False
    readonly_fields = [
        "trade_in",
        "amount",
        "currency",
        "method",
        "status",
        "settlement_reference",
        "failure_reason",
        "created_at",
        "settled_at",
        "settled_by",
        "stripe_account",
        "transfer_requested_at",
        "attempt",
        "provider_status",
    ]
    fields = readonly_fields
    change_form_outer_before_template = "backoffice/payout_settle.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # payouts are created when a buyer accepts

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("workflows.export_payout")

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        # CSV streams from the database (flat memory at any size); XLSX needs the whole sheet.
        if not isinstance(file_format, CSV):
            return super()._do_file_export(file_format, request, queryset, export_form)
        if not self.has_export_permission(request):
            raise PermissionDenied
        response = StreamingHttpResponse(
            PayoutResource().stream_csv(queryset), content_type="text/csv; charset=utf-8"
        )
        filename = self.get_export_filename(request, queryset, file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @display(description=_("Trade-in"), ordering="trade_in__reference")
    def reference(self, obj: Payout) -> str:
        return obj.trade_in.reference

    @display(description=_("Buyer"), ordering="trade_in__buyer_name")
    def buyer(self, obj: Payout) -> str:
        return obj.trade_in.buyer_name

    @display(description=_("Status"), ordering="status", label=PAYOUT_COLOURS)
    def status_label(self, obj: Payout) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    panel_url = "settle"

    def panel_context(self, request: HttpRequest, payout: Payout) -> dict:
        settleable = request.user.has_perm("workflows.settle_payout") and payout.status in (
            PayoutStatus.PENDING,
            PayoutStatus.FAILED,
        )
        return {
            "payout": payout,
            "settleable": settleable and payout.trade_in.state == State.RECEIVED,
            "waiting_for_device": settleable and payout.trade_in.state == State.ACCEPTED,
            # Staff see why there is no button, instead of an empty card.
            "manager_only": not request.user.has_perm("workflows.settle_payout")
            and payout.status in (PayoutStatus.PENDING, PayoutStatus.FAILED),
            "check_form": CheckSettleForm() if payout.method == PayoutMethod.CHECK else None,
            **self.stripe_context(payout),
        }

    def stripe_context(self, payout: Payout) -> dict:
        if payout.method != PayoutMethod.STRIPE:
            return {}
        provider = payments.get_provider()
        return {
            "stripe_account": StripeAccount.objects.filter(
                provider=provider.name, email__iexact=payout.trade_in.buyer_email
            ).first(),
            "stripe_demo": provider.is_demo,
        }

    def panel_post(self, request: HttpRequest, payout: Payout, step: str) -> None:
        if payout.method == PayoutMethod.CHECK:
            form = CheckSettleForm(request.POST)
            if form.is_valid():
                call_action(
                    request,
                    actions.payout_settle_check,
                    payout=payout,
                    actor=request.user,
                    success=_("Check payout recorded."),
                    **form.cleaned_data,
                )
            else:
                form_errors(request, form)
        elif payout.method == PayoutMethod.STORE_CREDIT:
            call_action(
                request,
                actions.payout_issue_store_credit,
                payout=payout,
                actor=request.user,
                success=_("Store credit issued and emailed."),
            )
        else:
            call_action(
                request,
                actions.payout_send_stripe,
                payout=payout,
                actor=request.user,
                success=_("Stripe payout requested; its progress shows on the timeline."),
            )


@admin.register(StoreCredit)
class StoreCreditAdmin(NoDeleteAdmin):
    list_display = ["code", "amount", "balance", "currency", "email", "created_at"]
    search_fields = ["=code", "email"]
    readonly_fields = ["code", "payout", "amount", "balance", "currency", "email", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ReturnCase)
class ReturnCaseAdmin(PanelAdmin):
    list_display = ["trade_in", "unit", "status_label", "resolution", "created_at"]
    list_filter = ["status", "resolution"]
    search_fields = ["=trade_in__reference", "=unit__imei"]
    list_select_related = ["trade_in", "unit__product__device_model__make"]
    readonly_fields = [
        "trade_in",
        "unit",
        "status",
        "reason",
        "resolution",
        "resolution_note",
        "opened_by",
        "created_at",
        "closed_at",
    ]
    fields = readonly_fields
    change_form_outer_before_template = "backoffice/return_resolve.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # opened by rerouting a trade-in

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @display(
        description=_("Status"),
        ordering="status",
        label={
            ReturnStatus.OPEN: "warning",
            ReturnStatus.RESOLVED: "success",
            ReturnStatus.REJECTED: "danger",
        },
    )
    def status_label(self, obj: ReturnCase) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    panel_url = "close"

    def panel_context(self, request: HttpRequest, case: ReturnCase) -> dict:
        return {
            "case": case,
            "can_resolve": case.status == ReturnStatus.OPEN
            and request.user.has_perm("workflows.change_returncase"),
            "resolve_form": ResolveReturnForm(),
            "reject_form": ReasonForm(),
        }

    def panel_post(self, request: HttpRequest, case: ReturnCase, step: str) -> None:
        if not request.user.has_perm("workflows.change_returncase"):
            self.message_user(request, _("You cannot close return cases."), level="error")
            return
        if step == "resolve":
            form = ResolveReturnForm(request.POST)
            if form.is_valid():
                call_action(
                    request,
                    actions.return_case_resolve,
                    case=case,
                    actor=request.user,
                    success=_("Return case resolved."),
                    **form.cleaned_data,
                )
            else:
                form_errors(request, form)
        elif step == "reject":
            form = ReasonForm(request.POST)
            if form.is_valid():
                call_action(
                    request,
                    actions.return_case_reject,
                    case=case,
                    actor=request.user,
                    note=form.cleaned_data["reason"],
                    success=_("Return case rejected."),
                )
            else:
                form_errors(request, form)


class ManagersOnly:
    """Read-only records of money matters, for whoever may settle payouts."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("workflows.settle_payout")

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("workflows.settle_payout")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(StripeAccount)
class StripeAccountAdmin(ManagersOnly, ModelAdmin):
    list_display = [
        "account_id",
        "email",
        "provider",
        "payouts_enabled",
        "details_submitted",
        "onboarded_at",
        "created_at",
    ]
    list_filter = ["provider", "payouts_enabled"]
    search_fields = ["=account_id", "email"]


@admin.register(StripeEvent)
class StripeEventAdmin(ManagersOnly, ModelAdmin):
    list_display = ["event_id", "type", "account", "outcome", "received_at"]
    list_filter = ["type"]
    search_fields = ["=event_id", "=account"]
