"""The quoting rules, asked by the quote action and by the screens that offer to quote."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext as _

from workflows.models import CounterBuyback, ImeiCheck, QuotePolicy, TradeIn
from workflows.rules.predicates import imei_check_finished


class OfferLimit(StrEnum):
    OK = "ok"
    CONFIRM = "confirm"  # anyone who may quote, after saying yes a second time
    MANAGER = "manager"  # only a manager, after saying yes a second time


@dataclass(frozen=True)
class OfferCheck:
    limit: OfferLimit
    reason: str = ""


def _times(amount: Decimal, suggested: Decimal) -> str:
    return f"{amount / suggested:.1f}×"


def offer_check(amount: Decimal, suggested: Decimal | None, policy: QuotePolicy) -> OfferCheck:
    """Is this offer far enough above the price list to need a second look (or a manager)?

    A typo of 4540 for 454 must not reach the buyer's one-tap Accept.
    """
    if amount > policy.manager_amount:
        return OfferCheck(
            OfferLimit.MANAGER,
            _("%(amount)s is above the manager threshold of %(limit)s.")
            % {"amount": amount, "limit": policy.manager_amount},
        )
    if suggested:
        if amount > suggested * policy.manager_ratio:
            return OfferCheck(
                OfferLimit.MANAGER,
                _("%(amount)s is %(times)s the suggested offer of %(suggested)s.")
                % {"amount": amount, "times": _times(amount, suggested), "suggested": suggested},
            )
        if amount > suggested * policy.confirm_ratio:
            return OfferCheck(
                OfferLimit.CONFIRM,
                _("%(amount)s is %(times)s the suggested offer of %(suggested)s.")
                % {"amount": amount, "times": _times(amount, suggested), "suggested": suggested},
            )
    return OfferCheck(OfferLimit.OK)


def auto_quote_blocker(
    trade_in: TradeIn, check: ImeiCheck | None, policy: QuotePolicy, flags: list[str]
) -> str:
    """Why the auto-quote policy leaves this submission to staff ("" when it may quote).
    `flags` is workflows.rules.redflags.red_flags(trade_in), which the caller has asked."""
    if not policy.auto_quote:
        return _("the auto-quote policy is off")
    if CounterBuyback.objects.filter(trade_in=trade_in).exists():
        return _("bought at the counter: staff price it with the customer after inspecting it")
    if not imei_check_finished(check):
        return _("the IMEI check has not finished")
    if flags:
        return _("red flag: %s") % ", ".join(flags)
    if trade_in.model_mismatch or check.model_mismatch:
        return _("the IMEI service reports another model")
    if not trade_in.suggested_offer:
        return _("no price-list entry for this product")
    if trade_in.suggested_offer > policy.auto_quote_cap:
        return _("the suggested offer is above the auto-quote cap of %s") % policy.auto_quote_cap
    if offer_check(trade_in.suggested_offer, trade_in.suggested_offer, policy).limit != (
        OfferLimit.OK
    ):
        return _("the suggested offer is above the manager threshold")
    return ""
