"""Payout details under two keys (workflows.actions.details): which details they are, when a
change may be asked for, and when a manager may apply it. The actions refuse with these
answers; the trade-in page asks the same functions to decide which forms to show."""

from __future__ import annotations

from django.utils.translation import gettext as _

from workflows.models import (
    Payout,
    PayoutDetailChange,
    PayoutStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    TradeIn,
)

# What decides who gets the money and where it goes (a check is mailed to the address).
PAYOUT_DETAILS = (
    "buyer_name",
    "buyer_email",
    "payout_method",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postcode",
    "country",
)
# A payout whose money has not left: its details can still change.
DETAILS_CHANGEABLE = (PayoutStatus.PENDING, PayoutStatus.FAILED)


def payout_details_need_a_request(trade_in: TradeIn) -> bool:
    """After the buyer accepted, who is paid, how and where changes only by a request that
    another manager approves; before, staff correct the details directly
    (workflows.actions.corrections)."""
    return trade_in.accepted_at is not None


def payout_refusal(payout: Payout | None) -> str:
    """Why this payout's details can no longer change (its money left, or it was declined or
    voided), or ''."""
    if payout is not None and payout.status not in DETAILS_CHANGEABLE:
        return _("The payout is %s: its details can no longer change.") % (
            payout.get_status_display().lower()
        )
    return ""


def details_change_request_refusal(trade_in: TradeIn, payout: Payout | None) -> str:
    """Why a change of this trade-in's payout details cannot be asked for now, or ''. Before
    acceptance the details are corrected directly (workflows.actions.corrections)."""
    if not payout_details_need_a_request(trade_in):
        return _("%s is not accepted yet: correct the details directly.") % trade_in
    return payout_refusal(payout)


def details_change_decidable_by(change: PayoutDetailChange, actor: object) -> bool:
    """Two people: whoever asked for the change is not the manager who decides it."""
    return change.requested_by_id != getattr(actor, "pk", None)


def details_change_approval_refusal(
    change: PayoutDetailChange, trade_in: TradeIn, payout: Payout | None, actor: object
) -> str:
    """Why this actor cannot apply this change now, or ''."""
    if not details_change_decidable_by(change, actor):
        return _("Another manager must approve this: a change of payout details needs two people.")
    stale = [n for n, v in change.changes.items() if getattr(trade_in, n) != v["old"]]
    if stale:
        return _("%(fields)s changed since this was asked: reject it and ask again.") % {
            "fields": ", ".join(n.replace("_", " ") for n in stale)
        }
    refusal = payout_refusal(payout)
    if refusal or payout is None:
        return refusal
    in_flight = SideEffect.objects.filter(
        kind=SideEffectKind.MAKE_STRIPE_TRANSFER,
        payload__payout_id=payout.pk,
        status=SideEffectStatus.PENDING,
    )
    if payout.status == PayoutStatus.PENDING and in_flight.exists():
        # The money may be leaving right now; its outcome decides what happens next.
        return _("A Stripe transfer was requested for this payout: wait for its outcome.")
    return ""
