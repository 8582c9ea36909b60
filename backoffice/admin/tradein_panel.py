"""The workflow panel above a trade-in's page: what it shows (panel_context, from the reads in
workflows.selectors.tradein_panel) and its buttons (STEPS: each step's form, action and
message). The actions check who may and when; the panel only offers what they would allow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backoffice.actions_ui import call_action, call_action_with_form, form_errors
from backoffice.compliance import compliance_context
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
from workflows import actions
from workflows.errors import DomainError, NeedsConfirmation
from workflows.models import BlockedImei, TradeIn
from workflows.rules.payout_details import PAYOUT_DETAILS
from workflows.rules.permissions import Operation
from workflows.rules.permissions import allowed as may
from workflows.rules.predicates import agreed_revision, imei_check_rerun_allowed, revision_refusal
from workflows.rules.redflags import red_flags
from workflows.selectors import resendable_emails
from workflows.selectors import tradein_panel as panel


def allowed_transitions(request: HttpRequest, trade_in: TradeIn) -> set[str]:
    return {t.name for t in trade_in.get_available_user_state_transitions(request.user)}


def _pending_key(trade_in: TradeIn) -> str:
    # An offer refused or waiting for "yes, send it", kept for the page that comes next.
    return f"quote-pending-{trade_in.pk}"


# --- what the panel shows ------------------------------------------------------------------------
def panel_context(request: HttpRequest, trade_in: TradeIn) -> dict:
    user = request.user
    allowed = allowed_transitions(request, trade_in)
    flags = red_flags(trade_in)  # the quote action refuses on the same list
    can_override = may(user, Operation.OVERRIDE_RED_FLAG)
    payout = panel.payout_card(trade_in, user)
    return {
        **compliance_context(request, trade_in),
        "trade_in": trade_in,
        "check": trade_in.latest_imei_check(),
        "red_flags": flags,
        "needs_override": bool(flags),
        "can_override": can_override,
        "allowed": allowed,
        "quote_form": _quote_form(request, trade_in, allowed, bool(flags), can_override),
        "suggested_offer": trade_in.suggested_offer,
        # One form per use, each with its own ids: a label finds its own field.
        "decline_form": ReasonForm(auto_id="id_decline_%s"),
        "cancel_form": ReasonForm(auto_id="id_cancel_%s"),
        "reroute_form": ReasonForm(auto_id="id_reroute_%s"),
        "note_form": NoteForm(auto_id="id_timeline_%s") if may(user, Operation.ADD_NOTE) else None,
        "emails": [
            (email, email.payload.get("template", "email").replace("_", " ").capitalize())
            for email in resendable_emails(trade_in)
        ]
        if may(user, Operation.RESEND_EMAIL)
        else [],
        **_revision_context(user, trade_in, allowed),
        **_inspection_context(trade_in),
        "can_rerun_check": may(user, Operation.RERUN_IMEI_CHECK)
        and imei_check_rerun_allowed(trade_in),
        **_shipping_context(trade_in, user),
        "intake_url": reverse("admin:intake_bench") + f"?imei={trade_in.imei}",
        "settle_url": reverse("admin:workflows_payout_change", args=[payout.settleable.pk])
        if payout.settleable
        else "",
        # Those who cannot settle see where the payout stands, and whose job settling is.
        "payout_status": payout.status_shown,
        "payout_waits_for_manager": payout.waits_for_manager,
        **_details_change_context(trade_in, user),
        "blocklist_url": reverse("admin:workflows_blockedimei_add") + f"?imei={trade_in.imei}"
        if may(user, Operation.BLOCKLIST_ADD)
        and not BlockedImei.objects.filter(imei=trade_in.imei).exists()
        else "",
    }


def _quote_form(
    request: HttpRequest,
    trade_in: TradeIn,
    allowed: set[str],
    needs_override: bool,
    can_override: bool,
) -> QuoteForm | None:
    # An offer that waits for "yes, send it" (or was refused) comes back as typed.
    pending = request.session.pop(_pending_key(trade_in), None)
    if "quote" not in allowed or (needs_override and not can_override):
        return None
    form = QuoteForm(
        pending.get("raw") if pending else None,
        initial=pending["data"]
        if pending and "data" in pending
        else {"amount": trade_in.offer_amount or trade_in.suggested_offer},
        confirm_reason=pending["confirm"] if pending else "",
        auto_id="id_quote_%s",
    )
    if not needs_override:
        del form.fields["override_reason"]
    if form.is_bound:
        form.full_clean()  # its errors, shown beside the fields
    return form


def _revision_context(user, trade_in: TradeIn, allowed: set[str]) -> dict:
    """The revised-offer form, or why it is not offered (an accepted revision is a manager's
    to change: revision_refusal, which the action asks too)."""
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


def _inspection_context(trade_in: TradeIn) -> dict:
    """The as-found checklist beside the disclosure, the photos, the latest revised offer."""
    found = panel.inspection(trade_in)
    if found is None:
        return {}
    return {
        "as_found_rows": found.rows,
        "photos": found.photos,
        "revised_offer": found.revised_offer,
    }


def _shipping_context(trade_in: TradeIn, user) -> dict:
    """The label, its tracking, and why the carrier refused it if it did."""
    shipping = panel.shipping(trade_in, user)
    return {
        "label": shipping.label,
        "ship_back": shipping.ship_back,
        "label_waiting": shipping.waiting,
        "label_problem": shipping.problem,
        "address_form": LabelAddressForm(
            initial={name: getattr(trade_in, name) for name in LabelAddressForm.base_fields}
        )
        if shipping.can_fix
        else None,
    }


def _details_change_context(trade_in: TradeIn, user) -> dict:
    """Payout details after acceptance: the request form, and what waits for a manager."""
    change = panel.details_change(trade_in, user)
    return {
        "pending_change": change.pending,
        "change_applies_to": change.applies_to,
        "can_decide_change": change.can_decide,
        "decision_form": ChangeDecisionForm(initial={"change": change.pending.pk})
        if change.pending
        else None,
        "details_form": PayoutDetailsChangeForm(
            initial={name: getattr(trade_in, name) for name in PAYOUT_DETAILS}
        )
        if change.can_request
        else None,
    }


# --- the panel's buttons -------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One button: a valid form (if it has one) calls one action about the trade-in, and the
    person is told `success`. `transition` names the state-machine transition the person must
    be offered for the button to work at all."""

    action: Callable[..., object]
    success: str
    form: Callable[[HttpRequest, TradeIn], forms.Form] | None = None
    arguments: Callable[[dict], dict] = dict  # form field names -> the action's keywords
    transition: str = ""

    def post(self, request: HttpRequest, trade_in: TradeIn) -> None:
        common = {"trade_in": trade_in, "actor": request.user}
        if self.form is None:
            call_action(request, self.action, success=self.success, **common)
            return
        call_action_with_form(
            request,
            self.form(request, trade_in),
            self.action,
            success=self.success,
            arguments=self.arguments,
            **common,
        )


@dataclass(frozen=True)
class DecisionStep(Step):
    """Approve or reject the pending payout-details change the form names (asked on this
    device or, in an order of several, on another of its devices)."""

    def post(self, request: HttpRequest, trade_in: TradeIn) -> None:
        form = ChangeDecisionForm(request.POST)
        # One change waits per order: it is decided from the page of any of its devices.
        change = (
            panel.order_detail_change(trade_in, form.cleaned_data["change"])
            if form.is_valid()
            else None
        )
        if change is None:
            messages.error(request, _("That change request does not exist."))
            return
        call_action(
            request,
            self.action,
            change=change,
            actor=request.user,
            note=form.cleaned_data["note"],
            success=self.success,
        )


@dataclass(frozen=True)
class QuoteStep(Step):
    """Send the quote. A refused offer stays in the form as typed, and an offer far above the
    price list comes back with a "yes, send it" box to tick; nothing was sent."""

    def post(self, request: HttpRequest, trade_in: TradeIn) -> None:
        form = QuoteForm(request.POST)
        if not form.is_valid():
            form_errors(request, form)
            # Shown again as typed, each refused field marked and its message linked to it.
            request.session[_pending_key(trade_in)] = {
                "raw": {name: request.POST.get(name, "") for name in form.fields},
                "confirm": "",
            }
            return
        data = form.cleaned_data
        try:
            self.action(
                trade_in=trade_in,
                actor=request.user,
                amount=data["amount"],
                valid_days=data["valid_days"],
                note=data["note"],
                override_reason=data.get("override_reason") or "",
                confirmed_amount=form.confirmed_for(),
            )
        except DomainError as exc:
            level = messages.WARNING if isinstance(exc, NeedsConfirmation) else messages.ERROR
            messages.add_message(request, level, exc.message)
            request.session[_pending_key(trade_in)] = {
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
        messages.success(request, self.success)


def _posted(form_class: type[forms.Form]) -> Callable[[HttpRequest, TradeIn], forms.Form]:
    return lambda request, trade_in: form_class(request.POST)


def _revised_offer_form(request: HttpRequest, trade_in: TradeIn) -> forms.Form:
    return RevisedOfferForm(request.POST, request.FILES, agreed=agreed_revision(trade_in))


@dataclass(frozen=True)
class ReasonStep(Step):
    """A transition that takes a written reason (decline, cancel, reroute)."""

    form: Callable[[HttpRequest, TradeIn], forms.Form] | None = _posted(ReasonForm)


def _done(step: str) -> str:
    # Translated when shown, in the person's language, like the other messages.
    return lazy(lambda: gettext("Done: %(step)s.") % {"step": step}, str)()


STEPS: dict[str, Step] = {
    "rerun_check": Step(actions.imei_check_rerun, _("IMEI check requested again.")),
    "retry_label": Step(
        actions.shipping_label_retry,
        _("Address saved; the label is requested again."),
        form=_posted(LabelAddressForm),
        arguments=lambda data: {"address": data},
    ),
    "request_details_change": Step(
        actions.payout_details_change_request,
        _("Change requested: a manager must approve it."),
        form=_posted(PayoutDetailsChangeForm),
        arguments=lambda data: {
            "changes": {k: v for k, v in data.items() if k != "reason"},
            "reason": data["reason"],
        },
    ),
    "approve_change": DecisionStep(
        actions.payout_details_change_approve,
        _("Payout details changed; the buyer is told at their old address."),
    ),
    "reject_change": DecisionStep(actions.payout_details_change_reject, _("Change rejected.")),
    "quote": QuoteStep(actions.trade_in_quote, _("Quote sent to the buyer."), transition="quote"),
    "note": Step(
        actions.trade_in_add_note, _("Note added to the timeline."), form=_posted(NoteForm)
    ),
    "resend": Step(
        actions.email_resend,
        _("The email is on its way again."),
        form=_posted(ResendForm),
        arguments=lambda data: {"side_effect_id": data["email"]},
    ),
    "revise": Step(
        actions.revised_offer_send,
        _("Revised offer emailed to the buyer."),
        form=_revised_offer_form,
        transition="send_revised_offer",
    ),
    "decline": ReasonStep(actions.trade_in_decline, _done("decline"), transition="decline"),
    "cancel": ReasonStep(actions.trade_in_cancel, _done("cancel"), transition="cancel"),
    "reroute": ReasonStep(actions.trade_in_reroute, _done("reroute"), transition="reroute"),
}


def post_step(request: HttpRequest, trade_in: TradeIn, name: str) -> None:
    """One of the panel's buttons; a step the panel does not have, or a transition the state
    machine does not offer this person now, is refused with a message."""
    step = STEPS.get(name)
    if step is None or (
        step.transition and step.transition not in allowed_transitions(request, trade_in)
    ):
        messages.error(request, _("You cannot do that to this trade-in now."))
        return
    step.post(request, trade_in)
