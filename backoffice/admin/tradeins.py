"""The trade-ins queue and the trade-in page with its workflow panel.

Over 400 lines: the queue, its filters and the one page staff work a trade-in from."""

from __future__ import annotations

import functools

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import action, display

from backoffice.actions_ui import call_action, call_action_with_form, form_errors
from backoffice.admin.base import NoDeleteAdmin, PanelAdmin, ReadOnlyInline, SavesThroughAnAction
from backoffice.compliance import compliance_context
from backoffice.display import choice_label
from backoffice.forms import (
    ChangeDecisionForm,
    LabelAddressForm,
    NoteForm,
    PayoutDetailsChangeForm,
    QuoteForm,
    ReasonForm,
    ResendForm,
    RevisedOfferForm,
)
from backoffice.paginator import EstimatedCountPaginator
from workflows import actions
from workflows.actions.counter import resendable_emails
from workflows.actions.details import PAYOUT_DETAILS
from workflows.errors import DomainError, NeedsConfirmation
from workflows.models import (
    ARCHIVED_STATES,
    BlockedImei,
    ChangeStatus,
    Direction,
    Event,
    Fulfilment,
    ImeiCheckStatus,
    Make,
    PayoutStatus,
    Quote,
    RevisedOffer,
    ShipBack,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    TradeIn,
)
from workflows.rules.inspection import compare
from workflows.rules.permissions import Operation
from workflows.rules.permissions import allowed as may
from workflows.rules.predicates import (
    agreed_revision,
    imei_check_rerun_allowed,
    payout_settleable,
    revision_refusal,
    wants_pickup,
)
from workflows.rules.redflags import red_flags

STATE_COLOURS = {
    State.SUBMITTED: "info",
    State.QUOTED: "warning",
    State.ACCEPTED: "primary",
    State.RECEIVED: "success",
    State.CLOSED: "success",
    State.DECLINED: "danger",
    State.EXPIRED: "danger",
    State.CANCELLED: "danger",
    State.REROUTED: "danger",
    State.REOFFERED: "warning",
    State.RETURNED: "danger",
    State.RECYCLED: "danger",
}
CHECK_COLOURS = {
    ImeiCheckStatus.PENDING: "info",
    ImeiCheckStatus.CLEAN: "success",
    ImeiCheckStatus.FLAGGED: "danger",
    ImeiCheckStatus.UNKNOWN: "warning",
    ImeiCheckStatus.ERROR: "warning",
}


class QuoteInline(ReadOnlyInline):
    model = Quote
    fields = [
        "created_at",
        "amount",
        "currency",
        "valid_until",
        "note",
        "sent_by",
        "auto_quoted",
        "responded_at",
    ]
    readonly_fields = fields
    verbose_name_plural = _("Quote history")


class EventInline(ReadOnlyInline):
    model = Event
    fields = ["created_at", "who", "kind", "from_state", "to_state", "note"]
    readonly_fields = fields
    verbose_name_plural = _("Timeline")
    ordering = ["created_at", "pk"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("Who"))
    def who(self, event: Event) -> str:
        return event.who


class RevisedOfferInline(ReadOnlyInline):
    model = RevisedOffer
    fields = [
        "created_at",
        "amount",
        "original_amount",
        "grade",
        "status",
        "answered_by",
        "respond_by",
        "sent_by",
    ]
    readonly_fields = fields
    verbose_name_plural = _("Revised offers")


class ArchiveFilter(admin.SimpleListFilter):
    """The queue shows work in progress; finished trade-ins (declined, expired, cancelled,
    returned, recycled, closed) are in the Archive, each with its decline reason."""

    title = _("view")
    parameter_name = "view"
    template = "backoffice/queue_view_kept.html"  # shown as tabs above the list

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [("archive", _("Archive")), ("all", _("Everything"))]

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == _("All"):  # no value: the queue itself
                choice["display"] = _("Queue")
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet[TradeIn]) -> QuerySet[TradeIn]:
        if self.value() == "archive":
            return queryset.filter(state__in=ARCHIVED_STATES)
        if self.value() == "all" or "state__exact" in request.GET:
            return queryset  # a state picked by hand is shown wherever it lives
        return queryset.filter(queue_rank=0)  # workflows.models.QUEUE_STATES


class RedFlagFilter(admin.SimpleListFilter):
    title = _("IMEI check")
    parameter_name = "imei"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return ImeiCheckStatus.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[TradeIn]) -> QuerySet[TradeIn]:
        if self.value():
            return queryset.filter(imei_status=self.value())
        return queryset


class MakeFilter(admin.SimpleListFilter):
    """Lists the makes from the small catalog table, not by scanning every trade-in."""

    title = _("make")
    parameter_name = "make"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return Make.objects.values_list("slug", "name")

    def queryset(self, request: HttpRequest, queryset: QuerySet[TradeIn]) -> QuerySet[TradeIn]:
        if self.value():
            return queryset.filter(product__device_model__make__slug=self.value())
        return queryset


@functools.cache
def _short_fulfilment(language: str | None) -> dict[str, str]:
    # Translated once per language, not once per row of the queue.
    return {Fulfilment.PICKUP: str(_("Drop-off")), Fulfilment.SHIP: str(_("Label"))}


@admin.register(TradeIn)
class TradeInAdmin(SavesThroughAnAction, PanelAdmin, NoDeleteAdmin):
    list_display = [
        "reference",
        "age",
        "buyer",
        "device",
        "condition",
        "accessories",
        "imei_badge",
        "state_label",
        "suggested_offer",
        "offer_amount",
        "ships",
    ]
    list_display_links = ["reference"]
    list_filter = [
        ArchiveFilter,
        "state",
        RedFlagFilter,
        MakeFilter,
        "fulfilment",
        ("created_at", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = ["=reference", "=imei", "buyer_email", "buyer_name"]
    search_help_text = _("Reference, IMEI, email or name")
    list_per_page = 50
    show_full_result_count = False
    # The queue is open all day: rows rendered in one pass (backoffice/templatetags/fast_list.py)
    # and a cheap count at scale.
    change_list_template = "backoffice/tradein_changelist.html"
    list_before_template = "backoffice/queue_tabs.html"  # Queue / Archive / Everything
    paginator = EstimatedCountPaginator
    inlines = [QuoteInline, RevisedOfferInline, EventInline]
    actions = ["quote_at_suggested"]
    actions_on_top = True
    change_form_outer_before_template = "backoffice/tradein_workflow.html"
    change_form_template = "backoffice/tradein_change_form.html"
    readonly_fields = [
        "reference",
        "state",
        "product",
        "screen",
        "body",
        "battery",
        "accessories",
        "imei",
        "imei_status",
        "suggested_offer",
        "offer_amount",
        "payout_method",
        "decline_reason",
        "red_flag_override_reason",
        "red_flag_override_by",
        "created_at",
        "accepted_at",
        "received_at",
    ]
    fieldsets = [
        (
            _("Device"),
            {
                "fields": [
                    ("reference", "state"),
                    "product",
                    ("imei", "imei_status"),
                    ("suggested_offer", "offer_amount"),
                    "payout_method",
                ]
            },
        ),
        (
            _("Buyer"),
            {
                "fields": [
                    "buyer_name",
                    ("buyer_email", "buyer_phone"),
                    "fulfilment",
                    "address_line1",
                    "address_line2",
                    ("city", "region", "postcode"),
                    "country",
                ]
            },
        ),
        (
            _("Outcome"),
            {
                "fields": [
                    "decline_reason",
                    ("red_flag_override_reason", "red_flag_override_by"),
                    ("created_at", "accepted_at", "received_at"),
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TradeIn]:
        return super().get_queryset(request).select_related("product__device_model__make")

    def get_readonly_fields(self, request: HttpRequest, obj: TradeIn | None = None) -> list[str]:
        # After acceptance the payout details change only by a request a manager approves
        # (the panel's form); the plain form keeps the rest (phone, fulfilment) editable.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.accepted_at is not None:
            fields += [f for f in PAYOUT_DETAILS if f not in fields]
        return fields

    ordering = ["queue_rank", "created_at", "id"]  # open work first, oldest first

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # trade-ins come from buyers

    # --- columns ---------------------------------------------------------------------------------
    @display(description=_("Age"), ordering="created_at")
    def age(self, obj: TradeIn) -> str:
        return timesince(obj.created_at, timezone.now()).split(",")[0]

    @display(description=_("Buyer"), ordering="buyer_name")
    def buyer(self, obj: TradeIn) -> str:
        return obj.buyer_name

    @display(description=_("Sends by"), ordering="fulfilment")
    def ships(self, obj: TradeIn) -> str:
        return _short_fulfilment(get_language())[obj.fulfilment]

    @display(description=_("Device"), ordering="product__device_model__name")
    def device(self, obj: TradeIn) -> str:
        return str(obj.product)

    @display(description=_("Condition"))
    def condition(self, obj: TradeIn) -> str:
        # One line in the queue, clipped; the whole text on hover (title) and when the row
        # has focus (backoffice.css), and always to a screen reader.
        text = escape(" · ".join(choice_label(obj, name) for name in ("screen", "body", "battery")))
        return mark_safe(f'<span class="bo-clip" title="{text}">{text}</span>')  # noqa: S308

    @display(description=_("IMEI check"), ordering="imei_status", label=CHECK_COLOURS)
    def imei_badge(self, obj: TradeIn) -> tuple[str, str]:
        flagged = obj.imei_status == ImeiCheckStatus.FLAGGED
        text = "RED FLAG" if flagged else choice_label(obj, "imei_status")
        if obj.model_mismatch:
            text += " · " + _("model mismatch")
        return obj.imei_status, text

    @display(description=_("State"), ordering="state", label=STATE_COLOURS)
    def state_label(self, obj: TradeIn) -> tuple[str, str]:
        return obj.state, choice_label(obj, "state")

    # --- the label at the counter ---------------------------------------------------------------
    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.label_view)
        return [
            path("<path:object_id>/label.pdf", view, name="workflows_tradein_label"),
            *super().get_urls(),
        ]

    def label_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The shipping label's PDF, to open and print at the counter."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        trade_in = self.get_object(request, object_id)  # None for an id that is not one
        if trade_in is None:
            raise Http404(_("No such trade-in."))
        label = trade_in.labels.filter(voided_at__isnull=True, direction=Direction.TO_SHOP).first()
        if label is None:
            raise Http404(_("No shipping label for this trade-in."))
        response = HttpResponse(bytes(label.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="label-{trade_in.reference}.pdf"'
        return response

    # --- bulk work from the queue -----------------------------------------------------------------
    @action(description=_("Quote at the suggested offer"), permissions=["quote"])
    def quote_at_suggested(self, request: HttpRequest, queryset: QuerySet[TradeIn]) -> None:
        """Each selected submission goes through the quote action on its own: one refused row
        (a red flag, no price, already quoted) says why and does not stop the others."""
        sent = 0
        for trade_in in queryset.order_by("created_at"):
            if trade_in.suggested_offer is None:
                messages.error(
                    request, _("%(ref)s: no suggested offer to quote.") % {"ref": trade_in}
                )
                continue
            try:
                actions.trade_in_quote(
                    trade_in=trade_in, actor=request.user, amount=trade_in.suggested_offer
                )
            except DomainError as exc:
                messages.error(request, f"{trade_in}: {exc.message}")
            else:
                sent += 1
        if sent:
            messages.success(
                request,
                ngettext(
                    "%(n)d quote sent at the suggested offer.",
                    "%(n)d quotes sent at the suggested offer.",
                    sent,
                )
                % {"n": sent},
            )

    def has_quote_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("workflows.quote_tradein")

    # --- the workflow panel above the form -------------------------------------------------------
    panel_url = "workflow"

    def panel_context(self, request: HttpRequest, trade_in: TradeIn) -> dict:
        user = request.user
        allowed = {t.name for t in trade_in.get_available_user_state_transitions(user)}
        check = trade_in.latest_imei_check()
        flags = red_flags(trade_in)  # the quote action refuses on the same list
        needs_override = bool(flags)
        can_override = may(user, Operation.OVERRIDE_RED_FLAG)
        quote_form = None
        # An offer that waits for "yes, send it" (or was refused) comes back as typed.
        pending = request.session.pop(self._pending_key(trade_in), None)
        if "quote" in allowed and not (needs_override and not can_override):
            quote_form = QuoteForm(
                pending.get("raw") if pending else None,
                initial=pending["data"]
                if pending and "data" in pending
                else {"amount": trade_in.offer_amount or trade_in.suggested_offer},
                confirm_reason=pending["confirm"] if pending else "",
                auto_id="id_quote_%s",
            )
            if not needs_override:
                del quote_form.fields["override_reason"]
            if quote_form.is_bound:
                quote_form.full_clean()  # its errors, shown beside the fields
        payout = getattr(trade_in, "payout", None)
        return {
            **compliance_context(request, trade_in),
            "trade_in": trade_in,
            "check": check,
            "red_flags": flags,
            "needs_override": needs_override,
            "can_override": can_override,
            "allowed": allowed,
            "quote_form": quote_form,
            "suggested_offer": trade_in.suggested_offer,
            # One form per use, each with its own ids: a label finds its own field.
            "decline_form": ReasonForm(auto_id="id_decline_%s"),
            "cancel_form": ReasonForm(auto_id="id_cancel_%s"),
            "reroute_form": ReasonForm(auto_id="id_reroute_%s"),
            "note_form": NoteForm(auto_id="id_timeline_%s")
            if may(user, Operation.ADD_NOTE)
            else None,
            "emails": [
                (email, email.payload.get("template", "email").replace("_", " ").capitalize())
                for email in resendable_emails(trade_in)
            ]
            if may(user, Operation.RESEND_EMAIL)
            else [],
            **self.revision_context(user, trade_in, allowed),
            **self.inspection_context(trade_in),
            "can_rerun_check": may(user, Operation.RERUN_IMEI_CHECK)
            and imei_check_rerun_allowed(trade_in),
            **self.shipping_context(request, trade_in),
            "intake_url": reverse("admin:intake_bench") + f"?imei={trade_in.imei}",
            "settle_url": reverse("admin:workflows_payout_change", args=[payout.pk])
            if payout is not None
            and may(user, Operation.SETTLE_PAYOUT)
            and payout_settleable(payout)
            else "",
            # Those who cannot settle see where the payout stands, and whose job settling is.
            "payout_status": payout
            if payout is not None and not may(user, Operation.SETTLE_PAYOUT)
            else None,
            "payout_waits_for_manager": payout is not None and payout_settleable(payout),
            **self.detail_change_context(request, trade_in),
            "blocklist_url": reverse("admin:workflows_blockedimei_add") + f"?imei={trade_in.imei}"
            if user.has_perm("workflows.add_blockedimei")
            and not BlockedImei.objects.filter(imei=trade_in.imei).exists()
            else "",
        }

    def revision_context(self, user, trade_in: TradeIn, allowed: set[str]) -> dict:
        """The revised-offer form, or why it is not offered (an accepted revision is a
        manager's to change: revision_refusal, which the action asks too)."""
        if "send_revised_offer" not in allowed:
            return {"revised_offer_form": None}
        refusal = revision_refusal(trade_in, user)
        return {
            "revision_refusal": refusal,
            "revised_offer_form": None
            if refusal
            else RevisedOfferForm(
                initial={"grade": "C"}, agreed=agreed_revision(trade_in), auto_id="id_revise_%s"
            ),
        }

    def detail_change_context(self, request: HttpRequest, trade_in: TradeIn) -> dict:
        """Payout details after acceptance: the request form, and what waits for a manager."""
        user = request.user
        pending = trade_in.detail_changes.filter(status=ChangeStatus.PENDING).first()
        payout = getattr(trade_in, "payout", None)
        can_request = (
            trade_in.accepted_at is not None
            and pending is None
            and may(user, Operation.REQUEST_DETAILS_CHANGE)
            and payout is not None
            and payout.status in (PayoutStatus.PENDING, PayoutStatus.FAILED)
        )
        return {
            "pending_change": pending,
            "can_decide_change": pending is not None
            and may(user, Operation.DECIDE_DETAILS_CHANGE)
            and pending.requested_by_id != user.pk,
            "decision_form": ChangeDecisionForm(initial={"change": pending.pk})
            if pending
            else None,
            "details_form": PayoutDetailsChangeForm(
                initial={name: getattr(trade_in, name) for name in PAYOUT_DETAILS}
            )
            if can_request
            else None,
        }

    def inspection_context(self, trade_in: TradeIn) -> dict:
        """The as-found checklist beside the disclosure, the photos, the latest revised offer."""
        unit = getattr(trade_in, "unit", None)
        if unit is None or not unit.as_found:
            return {}
        return {
            "as_found_rows": compare(trade_in, unit.as_found),
            "photos": trade_in.photos.all(),
            "revised_offer": trade_in.revised_offers.first(),
        }

    def save_model(self, request: HttpRequest, obj: TradeIn, form, change: bool) -> None:
        """Edits go through the action, so the timeline records who changed what."""
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not changes:
            # Say plainly that nothing happened: no "saved" for a click that changed nothing.
            self.message_user(request, _("Nothing to save: the buyer details are unchanged."))
            return
        call_action(
            request,
            actions.trade_in_update_details,
            trade_in=obj,
            actor=request.user,
            changes=changes,
            success=_("Buyer details saved."),
        )

    def message_user(self, request: HttpRequest, message, *args, **kwargs) -> None:
        # save_model has already said what the action did; not Django's generic "changed".
        if "was changed successfully" not in str(message):
            super().message_user(request, message, *args, **kwargs)

    def shipping_context(self, request: HttpRequest, trade_in: TradeIn) -> dict:
        """The label, its tracking, and why the carrier refused it if it did."""
        # The buyer's label to us; the label that sends a device back has its own card.
        label = trade_in.labels.filter(voided_at__isnull=True, direction=Direction.TO_SHOP).first()
        ship_back = ShipBack.objects.filter(trade_in=trade_in).select_related("label").first()
        waiting = trade_in.state == State.ACCEPTED and label is None and not wants_pickup(trade_in)
        problem = (
            SideEffect.objects.filter(
                trade_in=trade_in, kind=SideEffectKind.CREATE_LABEL, status=SideEffectStatus.FAILED
            )
            .order_by("-created_at")
            .first()
            if waiting
            else None
        )
        can_fix = problem is not None and may(request.user, Operation.RETRY_LABEL)
        return {
            "label": label,
            "ship_back": ship_back,
            "label_waiting": waiting,
            "label_problem": problem,
            "address_form": LabelAddressForm(
                initial={name: getattr(trade_in, name) for name in LabelAddressForm.base_fields}
            )
            if can_fix
            else None,
        }

    def panel_post(self, request: HttpRequest, trade_in: TradeIn, step: str) -> None:
        """The workflow panel's buttons: one form, one action, one message. The actions
        check who may and when; a transition the state machine does not offer is refused."""
        allowed = {t.name for t in trade_in.get_available_user_state_transitions(request.user)}
        common = {"trade_in": trade_in, "actor": request.user}
        if step == "rerun_check":
            call_action(
                request,
                actions.imei_check_rerun,
                success=_("IMEI check requested again."),
                **common,
            )
        elif step == "retry_label":
            call_action_with_form(
                request,
                LabelAddressForm(request.POST),
                actions.shipping_label_retry,
                success=_("Address saved; the label is requested again."),
                arguments=lambda data: {"address": data},
                **common,
            )
        elif step == "request_details_change":
            call_action_with_form(
                request,
                PayoutDetailsChangeForm(request.POST),
                actions.payout_details_change_request,
                success=_("Change requested: a manager must approve it."),
                arguments=lambda data: {
                    "changes": {k: v for k, v in data.items() if k != "reason"},
                    "reason": data["reason"],
                },
                **common,
            )
        elif step in ("approve_change", "reject_change"):
            self.decide_change(request, trade_in, step)
        elif step == "quote" and "quote" in allowed:
            self._post_quote(request, trade_in)
        elif step == "note":
            call_action_with_form(
                request,
                NoteForm(request.POST),
                actions.trade_in_add_note,
                success=_("Note added to the timeline."),
                **common,
            )
        elif step == "resend":
            call_action_with_form(
                request,
                ResendForm(request.POST),
                actions.email_resend,
                success=_("The email is on its way again."),
                arguments=lambda data: {"side_effect_id": data["email"]},
                **common,
            )
        elif step == "revise" and "send_revised_offer" in allowed:
            call_action_with_form(
                request,
                RevisedOfferForm(request.POST, request.FILES, agreed=agreed_revision(trade_in)),
                actions.revised_offer_send,
                success=_("Revised offer emailed to the buyer."),
                **common,
            )
        elif step in REASONED_STEPS and step in allowed:
            call_action_with_form(
                request,
                ReasonForm(request.POST),
                REASONED_STEPS[step],
                success=_("Done: %(step)s.") % {"step": step},
                **common,
            )
        else:
            self.message_user(request, _("You cannot do that to this trade-in now."), level="error")

    def decide_change(self, request: HttpRequest, trade_in: TradeIn, step: str) -> None:
        form = ChangeDecisionForm(request.POST)
        change = (
            trade_in.detail_changes.filter(pk=form.cleaned_data["change"]).first()
            if form.is_valid()
            else None
        )
        if change is None:
            self.message_user(request, _("That change request does not exist."), level="error")
            return
        approve = step == "approve_change"
        call_action(
            request,
            actions.payout_details_change_approve
            if approve
            else actions.payout_details_change_reject,
            change=change,
            actor=request.user,
            note=form.cleaned_data["note"],
            success=_("Payout details changed; the buyer is told at their old address.")
            if approve
            else _("Change rejected."),
        )

    @staticmethod
    def _pending_key(trade_in: TradeIn) -> str:
        return f"quote-pending-{trade_in.pk}"

    def _post_quote(self, request: HttpRequest, trade_in: TradeIn) -> None:
        form = QuoteForm(request.POST)
        if not form.is_valid():
            form_errors(request, form)
            # Shown again as typed, each refused field marked and its message linked to it.
            request.session[self._pending_key(trade_in)] = {
                "raw": {name: request.POST.get(name, "") for name in form.fields},
                "confirm": "",
            }
            return
        data = form.cleaned_data
        try:
            actions.trade_in_quote(
                trade_in=trade_in,
                actor=request.user,
                amount=data["amount"],
                valid_days=data["valid_days"],
                note=data["note"],
                override_reason=data.get("override_reason") or "",
                confirmed_amount=form.confirmed_for(),
            )
        except DomainError as exc:
            # Nothing was sent; the offer stays in the form as typed, and an offer far above
            # the price list comes back with a "yes, send it" box to tick.
            level = messages.WARNING if isinstance(exc, NeedsConfirmation) else messages.ERROR
            messages.add_message(request, level, exc.message)
            request.session[self._pending_key(trade_in)] = {
                "data": {
                    "amount": str(data["amount"]),
                    "valid_days": data["valid_days"],
                    "note": data["note"],
                    "override_reason": data.get("override_reason") or "",
                    "confirmed_amount": str(data["amount"]),
                },
                "confirm": exc.reason if isinstance(exc, NeedsConfirmation) else "",
            }
            return
        messages.success(request, _("Quote sent to the buyer."))


# The panel's buttons that take a written reason, and the action each one calls.
REASONED_STEPS = {
    "decline": actions.trade_in_decline,
    "cancel": actions.trade_in_cancel,
    "reroute": actions.trade_in_reroute,
}
