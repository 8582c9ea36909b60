"""The preconditions of the actions, each in one place. The actions refuse when one does
not hold; the staff pages ask the same functions to decide which buttons to show."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from workflows.errors import LinkInvalid
from workflows.formatting import money
from workflows.models import (
    Fulfilment,
    ImeiCheck,
    ImeiCheckStatus,
    Payout,
    Quote,
    ReturnCase,
    RevisedOffer,
    RevisedOfferStatus,
    State,
    TradeIn,
)
from workflows.rules.permissions import Operation, allowed
from workflows.rules.redflags import red_flags


def wants_pickup(trade_in: TradeIn) -> bool:
    """The buyer chose drop-off. A local postcode never decides it for them: the form asks."""
    return trade_in.fulfilment == Fulfilment.PICKUP


def near_shop(postcode: str) -> bool:
    """A postcode close enough to the shop that the form offers drop-off instead of a label."""
    return postcode.strip().upper()[:5] in {p.upper() for p in settings.LOCAL_PICKUP_POSTCODES}


def imei_check_finished(check: ImeiCheck | None) -> bool:
    """A quote waits for the IMEI check's answer."""
    return check is not None and check.status != ImeiCheckStatus.PENDING


def red_flag_override_needed(trade_in: TradeIn) -> bool:
    """A red flag stands (the check's, a duplicate IMEI, one an earlier check raised) or the
    check gave no clear answer: only a manager may quote it, with a written reason. The
    reasons themselves are workflows.rules.redflags.red_flags, which the quote action names."""
    return bool(red_flags(trade_in))


# Before the offer is accepted the IMEI check can be asked again; after, it no longer matters.
RERUN_STATES = (State.SUBMITTED, State.QUOTED, State.DECLINED, State.EXPIRED)


def imei_check_rerun_allowed(trade_in: TradeIn) -> bool:
    return trade_in.state in RERUN_STATES


def payout_settleable(payout: Payout) -> bool:
    """Pending or failed, and the device was received (Payout.settle's source and condition)."""
    return can_proceed(payout.settle)


def payout_waiting_for_device(payout: Payout) -> bool:
    """Would be settleable, but the device has not arrived yet."""
    return (
        can_proceed(payout.settle, check_conditions=False)
        and payout.trade_in.state == State.ACCEPTED
    )


def return_case_closable(case: ReturnCase) -> bool:
    return can_proceed(case.resolve)


def return_case_decidable(case: ReturnCase) -> bool:
    """Open, and its trade-in waits on Returns (not on the buyer's answer to a revised offer):
    staff can resolve it, reject it or send a revised offer from it."""
    return return_case_closable(case) and case.trade_in.state == State.REROUTED


def agreed_revision(trade_in: TradeIn) -> RevisedOffer | None:
    """The revised offer the buyer (or the shop's default) accepted, if any: its amount is the
    agreed price. Once there is one, any further revision needs a manager and a written reason
    (workflows.actions.inspection refuses anyone else; the pages do not offer it to them)."""
    return (
        trade_in.revised_offers.filter(status=RevisedOfferStatus.ACCEPTED)
        .order_by("-responded_at", "-pk")
        .first()
    )


def revision_refusal(trade_in: TradeIn, actor: object) -> str:
    """Why this actor may not revise this trade-in's price now, or ''. Asked by the action and
    by the trade-in and return-case pages (which show this instead of the form)."""
    agreed = agreed_revision(trade_in)
    if agreed is None or allowed(actor, Operation.REVISE_AGREED_OFFER):
        return ""
    return (
        f"The buyer already accepted a revised offer of {money(agreed.amount)}: "
        "only a manager can revise it again, with a written reason."
    )


# --- the buyer's links: can the buyer still act on what the link names? ---------------------
def quote_link_refusal(quote: Quote) -> LinkInvalid | None:
    """Why the buyer can no longer act on this offer's link (superseded, answered, lapsed), or
    None: the one rule the offer page and the accept and decline actions ask."""
    trade_in = quote.trade_in
    if trade_in.latest_quote().pk != quote.pk:
        return LinkInvalid(
            _("This offer was replaced by a newer one. Please use the link in our latest email."),
            reason="superseded",
        )
    if quote.responded_at is not None or trade_in.state != State.QUOTED:
        if trade_in.state == State.EXPIRED:
            return LinkInvalid(_("This offer has expired."), reason="expired")
        return LinkInvalid(_("You have already answered this offer."), reason="used")
    if quote.is_lapsed:
        return LinkInvalid(_("This offer has expired."), reason="expired")
    return None


def revised_offer_link_refusal(offer: RevisedOffer) -> LinkInvalid | None:
    """Why the buyer can no longer answer this revised offer (superseded, answered, lapsed),
    or None: asked by its page and by the actions that take the buyer's answer."""
    newest = offer.trade_in.revised_offers.order_by("-created_at", "-pk").first()
    if offer.status == RevisedOfferStatus.SUPERSEDED or (newest and newest.pk != offer.pk):
        return LinkInvalid(
            _("This offer was replaced by a newer one. Please use the link in our latest email."),
            reason="superseded",
        )
    if offer.status != RevisedOfferStatus.SENT or offer.trade_in.state != State.REOFFERED:
        return LinkInvalid(_("You have already answered this offer."), reason="used")
    if offer.is_lapsed:
        return LinkInvalid(_("The time to answer this offer has passed."), reason="expired")
    return None
