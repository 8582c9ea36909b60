"""The second-hand dealer rules, each asked in one place (README "Compliance").

Predicates only: the actions (workflows.actions.compliance and the lifecycle actions) enforce
them, and the pages ask them to decide what to show.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from workflows.models import HoldRelease, SellerIdentity, State, TradeIn, Unit


# --- declaration -------------------------------------------------------------------------------
def declaration_text() -> str:
    """The wording the buyer confirms, as configured for this shop."""
    return settings.DECLARATION_TEXT.replace("{min_age}", str(settings.SELLER_MIN_AGE))


def declaration_fingerprint(wording: str | None = None) -> str:
    """Sent with the form, so a wording that changed while the page was open is caught."""
    return hashlib.sha256((wording or declaration_text()).encode()).hexdigest()[:16]


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def birth_date_problem(birth_date: date | None, *, required: bool) -> str:
    """Why this date of birth refuses the purchase, or ''."""
    if birth_date is None:
        return "Enter your date of birth." if required else ""
    today = timezone.localdate()
    if birth_date > today:
        return "The date of birth is in the future."
    if birth_date.year < 1900:
        return "Check the year of the date of birth."
    if age_on(birth_date, today) < settings.SELLER_MIN_AGE:
        return (
            f"We can only buy from sellers aged {settings.SELLER_MIN_AGE} or over, "
            "as the law here requires."
        )
    return ""


# --- seller identity ---------------------------------------------------------------------------
def identity_required_before(stage: str) -> bool:
    """Is a seller ID required before `stage` ("dropoff" = receiving, "payout" = paying)?

    "dropoff" is the stricter setting: an ID required at drop-off is also required to pay.
    """
    required = settings.SELLER_ID_REQUIRED
    if required == "off":
        return False
    return stage == "payout" or required == "dropoff"


def identity_of(trade_in: TradeIn) -> SellerIdentity | None:
    return SellerIdentity.objects.filter(trade_in=trade_in, anonymised_at__isnull=True).first()


def identity_missing(trade_in: TradeIn, stage: str) -> str:
    """Why `stage` must wait for the seller's ID, or '' when it need not."""
    if not identity_required_before(stage) or identity_of(trade_in) is not None:
        return ""
    when = "received" if stage == "dropoff" else "paid"
    return (
        f"{trade_in} cannot be {when} yet: the seller's photo ID is required first. "
        "Record it on the trade-in's page, or ask the buyer to fill it in from their status page."
    )


def mask(number: str) -> str:
    return "•••• " + number[-4:]


# --- hold period -------------------------------------------------------------------------------
def hold_starts(trade_in: TradeIn) -> datetime | None:
    """The hold counts from when the purchase was reported to the police; with reporting off,
    from when the device was received. None: it has not started (not reported yet)."""
    if settings.POLICE_REPORT == "off":
        return trade_in.received_at
    return trade_in.reported_at


def hold_until(unit: Unit) -> date | None:
    """The first day the unit may be listed or sold, or None if it has no known end yet."""
    start = hold_starts(unit.trade_in)
    if start is None:
        return None
    return timezone.localdate(start) + timedelta(days=settings.HOLD_DAYS)


def unit_on_hold(unit: Unit) -> bool:
    """Is this unit within its police hold (not over, not released early)?"""
    if settings.HOLD_DAYS == 0 or unit.trade_in_id is None:
        return False
    if HoldRelease.objects.filter(unit=unit).exists():
        return False
    until = hold_until(unit)
    return until is None or timezone.localdate() < until


# The Unit transitions the hold covers: every way a unit leaves the shop's stock or changes
# what it is. Taking it off sale (unlist) and back into stock (restock) keep it on the shelf.
HELD_TRANSITIONS = frozenset(
    {"list_for_sale", "sell", "recycle", "use_for_parts", "return_to_buyer"}
)


def never_bought(unit: Unit) -> bool:
    """Inspection refused the deal before the shop accepted the device at any price: a revised
    offer sent, or a reroute, at intake (the unit was never graded at an agreed price) and
    nothing paid (the payout cannot be settled while REOFFERED or REROUTED). A unit graded at
    the offer, or at a revised offer the buyer accepted, was bought: rerouting it later does
    not make it unbought."""
    return (
        unit.trade_in_id is not None
        and unit.graded_at is None
        and unit.trade_in.state in (State.REOFFERED, State.REROUTED)
    )


def hold_refusal(unit: Unit, transition: str) -> str:
    """Why the police hold refuses this Unit transition now, or ''. The one predicate: every
    unit move asks it (workflows.actions.units.move_unit) and the pages ask it before showing
    a button.

    The hold protects what the shop BOUGHT, so the police can still seize it. A device whose
    purchase inspection refused at intake (revised offer declined or lapsed to "return", return
    case resolved as returned) was never bought: it goes back to the person who brought it,
    whose ID and address are on record, during the hold too. Everything else waits: listing,
    selling, recycling, parting out, and returning a device the shop did buy (graded at a
    price, then rerouted or re-priced: otherwise a reroute would be a way around the hold).
    """
    if transition not in HELD_TRANSITIONS or not unit_on_hold(unit):
        return ""
    if transition == "return_to_buyer" and never_bought(unit):
        return ""
    return hold_message(unit)


def hold_message(unit: Unit) -> str:
    until = hold_until(unit)
    if until is None:
        return (
            f"{unit} is on the police hold: it can be listed, sold or moved out of stock "
            f"{settings.HOLD_DAYS} days after its purchase is reported, and it has not been "
            "reported yet."
        )
    return (
        f"{unit} is on the police hold until {until:%Y-%m-%d}: it cannot be listed, sold, "
        "recycled, used for parts or sent away yet."
    )


def hold_label(unit: Unit) -> str:
    """What the unit list and page say instead of the unit's status while it is held."""
    until = hold_until(unit)
    if until is None:
        return "On police hold (purchase not reported yet)"
    return f"On police hold until {until:%Y-%m-%d}"


# --- police report -----------------------------------------------------------------------------
def purchases_due_for_report():
    """Received purchases (the shop has the device) not yet put in a police report."""
    return TradeIn.objects.filter(
        received_at__isnull=False, police_report__isnull=True, anonymised_at__isnull=True
    )


def late_reports():
    """Purchases not delivered to the police within the deadline (reporting switched on)."""
    if settings.POLICE_REPORT == "off":
        return TradeIn.objects.none()
    deadline = timezone.now() - timedelta(hours=settings.POLICE_REPORT_DEADLINE_HOURS)
    return TradeIn.objects.filter(
        received_at__lt=deadline, reported_at__isnull=True, anonymised_at__isnull=True
    )


# --- retention ---------------------------------------------------------------------------------
def retention_ends(trade_in: TradeIn) -> datetime:
    """The record is kept this long after the purchase (or, if nothing was bought, after the
    trade-in last changed)."""
    start = trade_in.received_at or trade_in.updated_at
    return start + timedelta(days=settings.RETENTION_DAYS)


def erasure_refusal(trade_in: TradeIn) -> str:
    """Why the buyer's data on this trade-in may not be erased now, or ''."""
    if trade_in.anonymised_at:
        return f"The buyer's personal data on {trade_in} was already erased."
    if trade_in.state in (State.SUBMITTED, State.QUOTED, State.ACCEPTED):
        return (
            f"{trade_in} is still open ({trade_in.get_state_display().lower()}): decline or "
            "cancel it first."
        )
    unit = Unit.objects.filter(trade_in=trade_in).first()
    if unit is not None and trade_in.received_at and unit_on_hold(unit):
        return f"Refused: {hold_message(unit)}"
    if trade_in.received_at and timezone.now() < retention_ends(trade_in):
        return (
            f"Refused: the law requires the purchase record of {trade_in} to be kept until "
            f"{timezone.localdate(retention_ends(trade_in)):%Y-%m-%d} "
            f"({settings.RETENTION_DAYS} days after the purchase). It is anonymised then."
        )
    return ""
