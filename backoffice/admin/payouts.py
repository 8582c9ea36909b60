"""The money pages: payouts (settle, export), store credits, payout-detail changes, return cases
and Stripe records. (Over 400 lines: one admin class per money record, kept together.)"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportActionModelAdmin
from import_export.formats.base_formats import CSV
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import display

from backoffice.actions_ui import call_action, call_action_with_form
from backoffice.admin.base import (
    FilteredExportAdmin,
    NoDeleteAdmin,
    PanelAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
)
from backoffice.code_throttle import THROTTLED, code_lookups_paused, count_wrong_code
from backoffice.forms import (
    CheckSettleForm,
    ReasonForm,
    RejectReturnForm,
    ResolveReturnForm,
    RevisedOfferForm,
)
from backoffice.resources import ExcelCSV, PayoutResource, SpreadsheetXLSX
from workflows import actions
from workflows.integrations import payments
from workflows.models import (
    ChangeStatus,
    Direction,
    Payout,
    PayoutDetailChange,
    PayoutMethod,
    PayoutStatus,
    Resolution,
    ReturnCase,
    ReturnStatus,
    State,
    StoreCredit,
    StoreCreditRedemption,
    StripeAccount,
    StripeEvent,
)
from workflows.models.payouts import looks_like_code
from workflows.rules.compliance import hold_refusal
from workflows.rules.inspection import compare
from workflows.rules.permissions import Operation, allowed
from workflows.rules.permissions import allowed as may
from workflows.rules.predicates import (
    agreed_revision,
    payout_settleable,
    payout_waiting_for_device,
    return_case_decidable,
    revision_refusal,
)
from workflows.selectors import store_credit_by_code
from workflows.selectors.orders import (
    order_payout,
    payout_waits,
    payouts_ready_to_pay,
    settled_together,
)
from workflows.selectors.tradein_panel import details_change_devices

PAYOUT_COLOURS = {
    PayoutStatus.PENDING: "warning",
    PayoutStatus.SETTLED: "success",
    PayoutStatus.DECLINED: "danger",
    PayoutStatus.VOID: "danger",
    PayoutStatus.FAILED: "danger",
}


class ToPayFilter(admin.SimpleListFilter):
    """Owed payouts a manager can pay now, and those still waiting (for their device, another
    device of their order, or the seller's ID): a basket is paid once, when all is decided."""

    title = _("to pay")
    parameter_name = "to_pay"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("ready", _("Ready to pay now")), ("waiting", _("Owed, still waiting"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() not in ("ready", "waiting"):
            return queryset
        return payouts_ready_to_pay(queryset, ready=self.value() == "ready")


@admin.register(Payout)
class PayoutAdmin(PanelAdmin, NoDeleteAdmin, FilteredExportAdmin, ExportActionModelAdmin):
    """Managers settle here, and export the selected or filtered payouts for accounting."""

    resource_classes = [PayoutResource]
    export_form_class = ExportForm
    # Indexes are the export form's choices: new formats go at the end.
    formats = [CSV, SpreadsheetXLSX, ExcelCSV]
    list_display = [
        "reference",
        "order",
        "buyer",
        "amount",
        "method",
        "status_label",
        "to_pay",
        "created_at",
        "settled_at",
        "settlement_reference",
    ]
    list_filter = [
        ToPayFilter,
        "status",
        "method",
        ("created_at", RangeDateFilter),
        ("settled_at", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = [
        "=trade_in__reference",
        "=trade_in__order__reference",
        "trade_in__order__buyer_email",
        "settlement_reference",
    ]
    search_help_text = _("Reference, order, buyer email or settlement reference")
    list_select_related = ["trade_in__order"]
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

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A record, not a form: money moves only through the panel's actions (settle, pay by
        # Stripe, issue store credit); no Save button re-saves the row outside them.
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        self._managers_only(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        self._managers_only(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def _managers_only(self, request: HttpRequest) -> None:
        """Staff who follow a payout link are told why, not shown a bare 403."""
        if not self.has_view_permission(request):
            raise PermissionDenied(
                _(
                    "Settling and exporting payouts is a manager's job. Ask a manager; the "
                    "trade-in's own page shows whether its payout is pending or paid."
                )
            )

    def has_export_permission(self, request: HttpRequest) -> bool:
        return allowed(request.user, Operation.EXPORT_PAYOUTS)

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        # CSV streams from the database (flat memory at any size); XLSX needs the whole sheet.
        if not isinstance(file_format, CSV):
            return super()._do_file_export(file_format, request, queryset, export_form)
        if not self.has_export_permission(request):
            raise PermissionDenied
        rows = PayoutResource().stream_csv(queryset, bom=isinstance(file_format, ExcelCSV))
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        filename = self.get_export_filename(request, queryset, file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @display(description=_("Trade-in"), ordering="trade_in__reference")
    def reference(self, obj: Payout) -> str:
        return obj.trade_in.reference

    @display(description=_("Order"), ordering="trade_in__order__reference")
    def order(self, obj: Payout) -> str:
        """Devices of one order are paid together, under one settlement reference."""
        return obj.trade_in.order.reference

    @display(description=_("Buyer"), ordering="trade_in__order__buyer_name")
    def buyer(self, obj: Payout) -> str:
        return obj.trade_in.buyer_name

    @display(description=_("Status"), ordering="status", label=PAYOUT_COLOURS)
    def status_label(self, obj: Payout) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    def get_changelist(self, request: HttpRequest, **kwargs):
        """The list's page reads what its owed payouts wait for in one query (exports of the
        same list do not: they have no such column)."""
        base = super().get_changelist(request, **kwargs)

        class PayoutChangeList(base):
            def get_results(self, request: HttpRequest) -> None:
                super().get_results(request)
                waits = payout_waits(self.result_list)
                for payout in self.result_list:
                    payout.wait = waits.get(payout.pk)

        return PayoutChangeList

    @display(description=_("To pay"))
    def to_pay(self, obj: Payout) -> str:
        """Ready, or what the payout waits for (its device, another device of its order, the
        seller's ID): a basket is paid once, when all is decided."""
        wait = getattr(obj, "wait", None)
        if wait is None:  # not owed
            return "—"
        return _("Waits: %s") % wait if wait else _("Ready to pay")

    panel_url = "settle"

    def panel_context(self, request: HttpRequest, payout: Payout) -> dict:
        may_settle = may(request.user, Operation.SETTLE_PAYOUT)
        paying = order_payout(payout)  # an order of several devices is paid once, for all
        return {
            "payout": payout,
            "order_payout": paying if paying.several and paying.lines else None,
            "order_wait": paying.wait if payout_settleable(payout) else "",
            # A settled line says what the one payment paid with it, not only its own amount.
            "settled_with": paid if len(paid := settled_together(payout)) > 1 else [],
            "settled_total": sum((line.amount for line in paid), Decimal("0")),
            "settleable": may_settle and payout_settleable(payout) and not paying.wait,
            "waiting_for_device": may_settle and payout_waiting_for_device(payout),
            # Staff see why there is no button, instead of an empty card.
            "manager_only": not may_settle
            and payout.status in (PayoutStatus.PENDING, PayoutStatus.FAILED),
            "check_form": CheckSettleForm() if payout.method == PayoutMethod.CHECK else None,
            # An order's transfer is asked and answered for its first owed line.
            **self.stripe_context(paying.lead if paying.several and paying.lead else payout),
        }

    def stripe_context(self, payout: Payout) -> dict:
        if payout.method != PayoutMethod.STRIPE:
            return {}
        return {
            "stripe_payout": payout,
            # The account the buyer confirmed for this payout, not one found by email.
            "stripe_account": payout.payee_account,
            "stripe_demo": payments.get_provider().is_demo,
        }

    def panel_post(self, request: HttpRequest, payout: Payout, step: str) -> None:
        common = {"payout": payout, "actor": request.user}
        if payout.method == PayoutMethod.CHECK:
            call_action_with_form(
                request,
                CheckSettleForm(request.POST),
                actions.payout_settle_check,
                success=_("Check payout recorded."),
                **common,
            )
        elif payout.method == PayoutMethod.STORE_CREDIT:
            call_action(
                request,
                actions.payout_issue_store_credit,
                success=_("Store credit issued and emailed."),
                **common,
            )
        else:
            call_action(
                request,
                actions.payout_send_stripe,
                success=_("Stripe payout requested; its progress shows on the timeline."),
                **common,
            )


class RedemptionInline(ReadOnlyInline):
    model = StoreCreditRedemption
    fields = ["created_at", "amount", "balance_after", "redeemed_by", "note"]
    readonly_fields = fields
    verbose_name_plural = _("Redemptions")


@admin.register(StoreCredit)
class StoreCreditAdmin(PanelAdmin, NoDeleteAdmin):
    """Codes work like cash: the back office shows the last 4 only, and finds a credit by its
    whole code (typed at the till) through the keyed hash."""

    list_display = [
        "masked_code",
        "amount",
        "balance",
        "currency",
        "email",
        "voided_at",
        "created_at",
    ]
    search_fields = ["email"]
    search_help_text = _("The whole store-credit code, or the buyer's email")
    readonly_fields = [
        "masked_code",
        "payout",
        "amount",
        "balance",
        "currency",
        "email",
        "created_at",
        "voided_at",
        "void_reason",
        "voided_by",
    ]
    fields = readonly_fields
    inlines = [RedemptionInline]
    change_form_outer_before_template = "backoffice/store_credit_panel.html"
    panel_url = "void"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @display(description=_("Code"))
    def masked_code(self, obj: StoreCredit) -> str:
        return obj.masked_code

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        if looks_like_code(search_term):
            # A code works like cash: wrong ones are counted, and past the limit none is
            # checked (backoffice.code_throttle), as at the counter.
            if code_lookups_paused(request):
                messages.error(request, THROTTLED)
                return queryset.none(), False
            found = store_credit_by_code(search_term)
            if found is not None:
                return queryset.filter(pk=found.pk), False
            count_wrong_code(request)
        return super().get_search_results(request, queryset, search_term)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # balances move only by redeeming at the counter

    def panel_context(self, request: HttpRequest, credit: StoreCredit) -> dict:
        return {
            "credit": credit,
            "can_void": not credit.is_void and may(request.user, Operation.VOID_STORE_CREDIT),
            "can_redeem": may(request.user, Operation.REDEEM_STORE_CREDIT),
            "void_form": ReasonForm(),
        }

    def panel_post(self, request: HttpRequest, credit: StoreCredit, step: str) -> None:
        call_action_with_form(
            request,
            ReasonForm(request.POST),
            actions.store_credit_void,
            success=_("Store credit voided."),
            credit=credit,
            actor=request.user,
        )


@admin.register(ReturnCase)
class ReturnCaseAdmin(PanelAdmin, ReadOnlyAdmin):
    """Opened by rerouting a trade-in; a record, not a form: the panel's actions change it
    (no Save button)."""

    list_display = ["trade_in", "unit", "status_label", "resolution", "created_at"]
    empty_hint = _(
        "A return case opens when staff reroute a received trade-in (its page: Reroute and "
        "decline payout)."
    )
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
        trade_in = case.trade_in
        can_act = may(request.user, Operation.CLOSE_RETURN) and return_case_decidable(case)
        # The resolutions the police hold refuses now: not offered, and the page says why.
        held = {
            resolution: hold_refusal(case.unit, transition)
            for resolution, transition in (
                (Resolution.RETURNED, "return_to_buyer"),
                (Resolution.RECYCLED, "recycle"),
            )
        }
        held = {resolution: why for resolution, why in held.items() if why and can_act}
        revision_refused = revision_refusal(trade_in, request.user)
        return {
            "case": case,
            "trade_in": trade_in,
            "can_resolve": can_act,
            "can_revise": can_act
            and may(request.user, Operation.SEND_REVISED_OFFER)
            and not revision_refused,
            "revision_refusal": revision_refused if can_act else "",
            "waiting_for_buyer": trade_in.state == State.REOFFERED,
            "resolve_form": ResolveReturnForm(refused=frozenset(held), auto_id="id_resolve_%s")
            if len(held) < 2
            else None,
            "hold_refusal": next(iter(held.values()), ""),
            "reject_form": RejectReturnForm(auto_id="id_reject_%s"),
            "revised_offer_form": RevisedOfferForm(
                initial={"grade": "D"}, agreed=agreed_revision(trade_in), auto_id="id_revise_%s"
            ),
            "rows": compare(trade_in, case.unit.as_found),
            "photos": trade_in.photos.all(),
            "return_label": trade_in.labels.filter(direction=Direction.TO_BUYER).first(),
        }

    def panel_post(self, request: HttpRequest, case: ReturnCase, step: str) -> None:
        common = {"case": case, "actor": request.user}
        if step == "resolve":
            call_action_with_form(
                request,
                ResolveReturnForm(request.POST),
                actions.return_case_resolve,
                success=_("Return case resolved."),
                **common,
            )
        elif step == "reject":
            call_action_with_form(
                request,
                RejectReturnForm(request.POST),
                actions.return_case_reject,
                success=_("Return case rejected: the device is back in stock, payout owed."),
                arguments=lambda data: {"note": data["reason"], "grade": data["grade"]},
                **common,
            )
        elif step == "revise":
            call_action_with_form(
                request,
                RevisedOfferForm(
                    request.POST, request.FILES, agreed=agreed_revision(case.trade_in)
                ),
                actions.revised_offer_send,
                success=_("Revised offer emailed to the buyer; their answer closes the case."),
                trade_in=case.trade_in,
                actor=request.user,
            )


class ManagersOnly(ReadOnlyAdmin):
    """Read-only records of money matters, for whoever may settle payouts."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return allowed(request.user, Operation.SETTLE_PAYOUT)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return allowed(request.user, Operation.SETTLE_PAYOUT)


@admin.register(StripeAccount)
class StripeAccountAdmin(ManagersOnly):
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
class StripeEventAdmin(ManagersOnly):
    list_display = ["event_id", "type", "account", "outcome", "received_at"]
    list_filter = ["type"]
    search_fields = ["=event_id", "=account"]


@admin.register(PayoutDetailChange)
class PayoutDetailChangeAdmin(ReadOnlyAdmin):
    """Every request to change an accepted trade-in's payout details, and its decision.
    Written only by the actions (the trade-in page's panel asks and decides)."""

    empty_hint = _(
        "A request appears here when someone asks, on an accepted trade-in's page, to change "
        "who is paid, how or where."
    )

    list_display = [
        "trade_in",
        "describe",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status"]
    search_fields = ["=trade_in__reference"]
    list_select_related = ["trade_in", "requested_by", "decided_by"]
    readonly_fields = ["applies_to"]

    @admin.display(description=_("Applies to"))
    def applies_to(self, obj: PayoutDetailChange) -> str:
        """While it waits: the devices of its order it reaches (their payouts follow it), as
        the trade-in page shows them. Once approved, each one's timeline says what changed."""
        if obj.status != ChangeStatus.PENDING:
            return "—"
        return ", ".join(str(device) for device in details_change_devices(obj.trade_in)) or str(
            obj.trade_in
        )
