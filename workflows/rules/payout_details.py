"""Payout details under two keys (workflows.actions.details): which details they are, when a
change may be asked for, and when a manager may apply it. The actions refuse with these
answers; the trade-in page asks the same functions to decide which forms to show."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _

from workflows.models import (
    Payout,
    PayoutDetailChange,
    PayoutStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
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


# Where a device stands for good, with no transition back to a payout (workflows.models.tradeins):
# closed (its payout settled), cancelled (payout void), returned or recycled (payout declined for
# good). Declined and expired are not here: a counter-quote reopens them (`quote`), and their
# acceptance then pays from the details on the device.
DETAILS_FINAL_STATES = (State.CLOSED, State.CANCELLED, State.RETURNED, State.RECYCLED)
# A payout whose money left or never will: settled, reversed, void. A declined one is not here:
# an accepted revised offer or a rejected return case reinstates it (Payout.reinstate).
DETAILS_FINAL_PAYOUTS = (PayoutStatus.SETTLED, PayoutStatus.REVERSED, PayoutStatus.VOID)


def details_change_reaches(device: TradeIn, payout: Payout | None) -> bool:
    """Whether a change of the buyer's payout details, asked on another device of the same
    order, matters for this device too: its pending payout follows the new method and its
    timeline records the change (the details themselves are the order's, changed once).

    The details belong to the person, and the order is paid as one payout whose lines must
    share the method and email: so the change reaches every device whose details may still
    decide money, i.e. every device except one whose state is final (DETAILS_FINAL_STATES),
    whose payout is final (DETAILS_FINAL_PAYOUTS), or whose personal data was anonymised
    (the order's, erased for all its devices). Devices not yet accepted are reached: their
    payout will be made from these details when the buyer accepts."""
    return (
        device.state not in DETAILS_FINAL_STATES
        and device.anonymised_at is None
        and (payout is None or payout.status not in DETAILS_FINAL_PAYOUTS)
    )


def details_change_reach(
    opened: TradeIn, devices: Iterable[TradeIn], payouts: Mapping[int, Payout]
) -> list[TradeIn]:
    """The devices of `opened`'s order (`devices`, with their payouts by trade-in id) that a
    change asked on `opened` is written onto, in the order's order: `opened` itself (the
    request's own refusal decides for it) and each other device it reaches."""
    return sorted(
        (
            device
            for device in devices
            if device.pk == opened.pk or details_change_reaches(device, payouts.get(device.pk))
        ),
        key=lambda device: device.position,
    )


def payout_details_need_a_request(trade_in: TradeIn) -> bool:
    """After the buyer accepted, who is paid, how and where changes only by a request that
    another manager approves; before, staff correct the details directly
    (workflows.actions.corrections). Accepted: this device or another of its order, since the
    details are the person's and a change is written onto all of them."""
    return (
        trade_in.accepted_at is not None
        or TradeIn.objects.filter(order_id=trade_in.order_id, accepted_at__isnull=False).exists()
    )


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
    refusal = payout_refusal(payout)
    if not refusal and not details_change_reaches(trade_in, payout):
        return (
            _("The details of %s no longer decide any payment: ask on another device of its order.")
            % trade_in
        )
    return refusal


def details_change_decidable_by(change: PayoutDetailChange, actor: object) -> bool:
    """Two people: whoever asked for the change is not the manager who decides it."""
    return change.requested_by_id != getattr(actor, "pk", None)


def details_change_approval_refusal(
    change: PayoutDetailChange,
    trade_in: TradeIn,
    payout: Payout | None,
    actor: object,
    others: Iterable[tuple[TradeIn, Payout | None]] = (),
) -> str:
    """Why this actor cannot apply this change now, or ''. `others`: the other devices of the
    order it reaches (details_change_reach), each with its payout."""
    if not details_change_decidable_by(change, actor):
        return _("Another manager must approve this: a change of payout details needs two people.")
    stale = [n for n, v in change.changes.items() if getattr(trade_in, n) != v["old"]]
    if stale:
        return _("%(fields)s changed since this was asked: reject it and ask again.") % {
            "fields": ", ".join(n.replace("_", " ") for n in stale)
        }
    refusal = payout_refusal(payout)
    if refusal:
        return refusal
    if _transfer_in_flight(payout):
        # The money may be leaving right now; its outcome decides what happens next.
        return _("A Stripe transfer was requested for this payout: wait for its outcome.")
    for device, other_payout in others:
        if _transfer_in_flight(other_payout):
            return (
                _(
                    "A Stripe transfer was requested for %s, which this change applies to: "
                    "wait for its outcome."
                )
                % device
            )
    return ""


def _transfer_in_flight(payout: Payout | None) -> bool:
    return (
        payout is not None
        and payout.status == PayoutStatus.PENDING
        and SideEffect.objects.filter(
            kind=SideEffectKind.MAKE_STRIPE_TRANSFER,
            payload__payout_id=payout.pk,
            status=SideEffectStatus.PENDING,
        ).exists()
    )
