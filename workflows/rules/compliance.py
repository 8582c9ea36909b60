"""The second-hand dealer rules, each asked in one place (docs/compliance.md).

Predicates only: the actions (workflows.actions.compliance and the lifecycle actions) enforce
them, and the pages ask them to decide what to show. (Over 400 lines: declaration, ID,
hold, police report and retention rules read together, as docs/compliance.md does;
issue 19 splits them into a rules package.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from workflows.models import (
    HoldRelease,
    PayoutStatus,
    PoliceReportRow,
    PoliceReportStatus,
    ReturnCase,
    ReturnStatus,
    SellerIdentity,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)


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


# The seller's ID belongs to the order (the person who sold every device in it): its rows hang
# on the device it was recorded from (or corrected on), and every device of the order reads the
# order's newest version. Versions count up order-wide (workflows.actions.compliance), so the
# highest is the current one; the pk only breaks ties between versions recorded per device
# before the ID was the order's.
IDENTITY_NEWEST_FIRST = ("-version", "-pk")


def order_identities(trade_ins: QuerySet[TradeIn]) -> QuerySet[TradeIn]:
    """`trade_ins` with every version of each one's order's ID prefetched, for lists (the
    police report): two queries for the whole list, and current_identity asks no more."""
    rows = SellerIdentity.objects.order_by(*IDENTITY_NEWEST_FIRST)
    devices = TradeIn.objects.only("pk", "order_id").prefetch_related(
        Prefetch("seller_identities", queryset=rows, to_attr="identity_rows")
    )
    return trade_ins.select_related("order").prefetch_related(
        Prefetch("order__devices", queryset=devices, to_attr="identity_devices")
    )


def identity_versions(trade_in: TradeIn) -> list[SellerIdentity]:
    """Every version of the seller's ID of the trade-in's order, the current one first."""
    prefetched = _prefetched_versions(trade_in)
    if prefetched is not None:
        return prefetched
    return list(
        SellerIdentity.objects.filter(trade_in__order_id=trade_in.order_id)
        .select_related("trade_in")  # which device of the order it was recorded on
        .order_by(*IDENTITY_NEWEST_FIRST)
    )


def _prefetched_versions(trade_in: TradeIn) -> list[SellerIdentity] | None:
    order = trade_in.order if TradeIn.order.is_cached(trade_in) else None
    devices = getattr(order, "identity_devices", None)
    if devices is None:
        return None
    rows = [row for device in devices for row in device.identity_rows]
    return sorted(rows, key=lambda row: (-row.version, -row.pk))


def current_identity(trade_in: TradeIn) -> SellerIdentity | None:
    """The current version of the seller's ID of the trade-in's ORDER (its highest version,
    whichever device it was recorded on; corrections add versions), erased or not. Everything
    that reads "the" ID reads this one."""
    prefetched = _prefetched_versions(trade_in)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return (
        SellerIdentity.objects.filter(trade_in__order_id=trade_in.order_id)
        .order_by(*IDENTITY_NEWEST_FIRST)
        .first()
    )


def identity_of(trade_in: TradeIn) -> SellerIdentity | None:
    """The current version of the seller's ID, unless it was erased, or this device's buyer
    data was (the order's ID outlives an erased device while another still needs it:
    workflows.actions.compliance._anonymise)."""
    if trade_in.anonymised_at:
        return None
    identity = current_identity(trade_in)
    return None if identity is None or identity.anonymised_at else identity


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


# The statuses in which a running hold is what matters: the unit is still the shop's to list,
# sell or move out of stock (after that, the hold no longer applies to anything).
HOLD_SHOWN_STATUSES = [
    UnitStatus.RECEIVED,
    UnitStatus.GRADED,
    UnitStatus.LISTED,
    UnitStatus.RETURNS,
]


def held_units(units: models.QuerySet[Unit]) -> models.QuerySet[Unit]:
    """`unit_on_hold` as one query, for lists and reports: the arrived units among `units`
    whose hold runs today (not released, not over, or not started yet)."""
    if settings.HOLD_DAYS == 0:
        return units.none()
    start = "trade_in__received_at" if settings.POLICE_REPORT == "off" else "trade_in__reported_at"
    # On hold while today < localdate(start) + HOLD_DAYS, i.e. start on or after this day.
    first_held_day = timezone.localdate() - timedelta(days=settings.HOLD_DAYS - 1)
    cutoff = timezone.make_aware(datetime.combine(first_held_day, time.min))
    running = Q(**{f"{start}__gte": cutoff})
    if settings.POLICE_REPORT != "off":  # not reported yet: the hold has not even started
        running |= Q(**{f"{start}__isnull": True})
    # NOT EXISTS (not a LEFT JOIN … IS NULL): PostgreSQL plans it as an anti-join and keeps its
    # row estimate, so the hold report starts from the few recent receipts at 1M units.
    released = HoldRelease.objects.filter(unit=OuterRef("pk"))
    return units.filter(running, ~Exists(released), trade_in__received_at__isnull=False)


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
    unit move asks it (workflows.actions._stock._move_unit) and the pages ask it before showing
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
# A purchase is what the shop bought and holds the record of: received, and not gone back to
# the seller (returned) or never bought (cancelled, declined...).
BOUGHT_STATES = (State.RECEIVED, State.REROUTED, State.REOFFERED, State.CLOSED, State.RECYCLED)


@dataclass(frozen=True)
class Purchase:
    """What the police report says of a trade-in now: bought or not, for how much, grade."""

    bought: bool
    amount: Decimal | None
    currency: str
    grade: str
    id_version: int | None = None


def purchase_now(trade_in: TradeIn) -> Purchase:
    """The amount owed is the payout's (a revised offer the buyer accepted is its amount)."""
    bought = trade_in.received_at is not None and trade_in.state in BOUGHT_STATES
    payout = getattr(trade_in, "payout", None)
    unit = getattr(trade_in, "unit", None)
    identity = current_identity(trade_in)
    return Purchase(
        bought=bought,
        amount=payout.amount if bought and payout is not None else None,
        currency=payout.currency if payout is not None else settings.CURRENCY,
        grade=unit.grade if bought and unit is not None else "",
        id_version=identity.version if identity is not None else None,
    )


def purchases_due_for_report():
    """Received purchases the shop still holds, not yet put in a police report. A device that
    went back to its seller before its report is not a purchase and is never listed."""
    return TradeIn.objects.filter(
        received_at__isnull=False,
        police_report__isnull=True,
        anonymised_at__isnull=True,
        state__in=BOUGHT_STATES,
    )


def police_correction(trade_in: TradeIn) -> str:
    """What changed since the trade-in's last police-report row ('' if nothing, or if it was
    never reported): the next batch carries a correction row saying this."""
    last = PoliceReportRow.objects.filter(trade_in=trade_in).order_by("-pk").first()
    if last is None:
        return ""
    now = purchase_now(trade_in)
    if last.bought and not now.bought:
        return f"no longer bought: {trade_in.get_state_display().lower()}"
    if not now.bought:
        return ""
    changes = [] if last.bought else ["bought after all"]
    if last.amount != now.amount:
        before = f"{last.amount:.2f}" if last.amount is not None else "none"
        after = f"{now.amount:.2f}" if now.amount is not None else "none"
        changes.append(f"amount {before} → {after} {now.currency}")
    if now.id_version != last.id_version:
        changes.append(f"seller's ID {'corrected' if last.id_version else 'recorded'}")
    return "; ".join(changes)


def correction_candidates():
    """Reported trade-ins whose purchase differs from their last police-report row, found in
    SQL (police_correction says what changed): bought then not (or again), another amount
    owed, another version of the seller's ID."""
    last = PoliceReportRow.objects.filter(trade_in=OuterRef("pk")).order_by("-pk")
    newest_id = (
        SellerIdentity.objects.filter(trade_in__order_id=OuterRef("order_id"))
        .order_by(*IDENTITY_NEWEST_FIRST)
        .values("version")[:1]
    )
    bought = Q(received_at__isnull=False, state__in=BOUGHT_STATES)
    return (
        TradeIn.objects.filter(police_report__isnull=False, anonymised_at__isnull=True)
        .annotate(
            last_bought=Subquery(last.values("bought")[:1]),
            last_amount=Subquery(last.values("amount")[:1]),
            last_id=Coalesce(Subquery(last.values("id_version")[:1]), 0),
            id_now=Coalesce(Subquery(newest_id), 0),
        )
        .filter(
            Q(last_bought=True) & ~bought
            | bought
            & (
                Q(last_bought=False)
                | Q(last_amount__isnull=True, payout__amount__isnull=False)
                | ~Q(payout__amount=F("last_amount"))
                | ~Q(id_now=F("last_id"))
            )
        )
    )


def police_report_owed(trade_in: TradeIn) -> bool:
    """Does the police still have to receive something about this trade-in: its purchase
    (not reported yet), a batch with its row not delivered, or a correction?"""
    if settings.POLICE_REPORT == "off":
        return False
    undelivered = PoliceReportRow.objects.filter(trade_in=trade_in).exclude(
        report__status=PoliceReportStatus.SENT
    )
    if undelivered.exists():
        return True
    if trade_in.police_report_id is None:
        return trade_in.received_at is not None and trade_in.state in BOUGHT_STATES
    return bool(police_correction(trade_in))


def late_reports():
    """Purchases not delivered to the police within the deadline (reporting switched on)."""
    if settings.POLICE_REPORT == "off":
        return TradeIn.objects.none()
    deadline = timezone.now() - timedelta(hours=settings.POLICE_REPORT_DEADLINE_HOURS)
    return TradeIn.objects.filter(
        received_at__lt=deadline,
        reported_at__isnull=True,
        anonymised_at__isnull=True,
        state__in=BOUGHT_STATES,
    )


# --- retention ---------------------------------------------------------------------------------
def retention_ends(trade_in: TradeIn) -> datetime:
    """The record is kept this long after the purchase (or, if nothing was bought, after the
    trade-in last changed)."""
    start = trade_in.received_at or trade_in.updated_at
    return start + timedelta(days=settings.RETENTION_DAYS)


class KeptBecause(models.TextChoices):
    """Why a trade-in past its retention date is kept (erasure_blocker's kind)."""

    PAYOUT_OWED = "payout_owed", "payout owed"
    POLICE_REPORT = "police_report", "police report not delivered"
    HOLD = "hold", "police hold running"
    RETURN_OPEN = "return_open", "return case open"


@dataclass(frozen=True)
class Blocker:
    kind: KeptBecause
    message: str


def erasure_blocker(trade_in: TradeIn) -> Blocker | None:
    """Why this trade-in's personal data must be kept even past its retention date, or None.

    Asked by the retention sweep (which skips and counts it) and by the manual erasure
    (which refuses): money still owed to the seller (a pending or failed payout), a police
    report not yet delivered (the purchase, or a correction to it), a police hold running on
    its unit, or an open return case.
    """
    payout = getattr(trade_in, "payout", None)
    if payout is not None and payout.status in (PayoutStatus.PENDING, PayoutStatus.FAILED):
        return Blocker(
            KeptBecause.PAYOUT_OWED,
            f"Refused: {trade_in}'s payout is {payout.get_status_display().lower()}: the "
            "seller is still owed money, and their details are needed to pay them.",
        )
    if police_report_owed(trade_in):
        return Blocker(
            KeptBecause.POLICE_REPORT,
            f"Refused: {trade_in} is not yet in a police report that was delivered.",
        )
    unit = getattr(trade_in, "unit", None)
    if (
        unit is not None
        and trade_in.received_at
        and unit.status not in (UnitStatus.RETURNED, UnitStatus.VOID)
        and unit_on_hold(unit)
    ):
        return Blocker(KeptBecause.HOLD, f"Refused: {hold_message(unit)}")
    if ReturnCase.objects.filter(trade_in=trade_in, status=ReturnStatus.OPEN).exists():
        return Blocker(KeptBecause.RETURN_OPEN, f"Refused: {trade_in} has an open return case.")
    return None


def erasure_refusal(trade_in: TradeIn) -> str:
    """Why the buyer's data on this trade-in may not be erased now, or ''. The data is its
    order's (workflows.models.orders), erased for every device at once: so every device of the
    order must allow it."""
    return _for_the_order(trade_in, _device_erasure_refusal)


def retention_refusal(trade_in: TradeIn) -> Blocker | None:
    """Why the retention sweep may not anonymise this trade-in now, or None: it is open or
    already anonymised, within its retention period, or must be kept (erasure_blocker), or
    so is another device of its order (the personal data is the order's, anonymised once)."""
    return _for_the_order(trade_in, _device_retention_refusal) or None


class KeptOpen(models.TextChoices):
    """Why the retention sweep skips a trade-in besides erasure_blocker's reasons."""

    OPEN = "open", "open or already anonymised"
    WITHIN_RETENTION = "within_retention", "within its retention period"


def _device_retention_refusal(trade_in: TradeIn) -> Blocker | None:
    if trade_in.anonymised_at or trade_in.state in (State.SUBMITTED, State.QUOTED, State.ACCEPTED):
        return Blocker(KeptOpen.OPEN, f"{trade_in} is open or already anonymised.")
    if timezone.now() < retention_ends(trade_in):
        return Blocker(
            KeptOpen.WITHIN_RETENTION, f"{trade_in} is still within its retention period."
        )
    return erasure_blocker(trade_in)


def _for_the_order(trade_in: TradeIn, refusal):
    """`refusal` of the trade-in, else of the first other device of its order that refuses
    (one not anonymised yet: an older release anonymised devices one by one), saying why it
    matters here. A Blocker keeps its kind; a message is a str."""
    if why := refusal(trade_in):
        return why
    others = (
        TradeIn.objects.filter(order_id=trade_in.order_id, anonymised_at__isnull=True)
        .exclude(pk=trade_in.pk)
        .select_related("payout", "unit")
        .order_by("position")
    )
    for device in others:
        if why := refusal(device):
            said = f"{why.message if isinstance(why, Blocker) else why} The personal data of "
            said += f"{trade_in} is its order's, {trade_in.order}, erased for every device at once."
            return Blocker(why.kind, said) if isinstance(why, Blocker) else said
    return ""


def _device_erasure_refusal(trade_in: TradeIn) -> str:
    if trade_in.anonymised_at:
        return f"The buyer's personal data on {trade_in} was already erased."
    if trade_in.state in (State.SUBMITTED, State.QUOTED, State.ACCEPTED):
        return (
            f"{trade_in} is still open ({trade_in.get_state_display().lower()}): decline or "
            "cancel it first."
        )
    blocker = erasure_blocker(trade_in)
    if blocker is not None:
        return blocker.message
    if trade_in.received_at and timezone.now() < retention_ends(trade_in):
        return (
            f"Refused: the law requires the purchase record of {trade_in} to be kept until "
            f"{timezone.localdate(retention_ends(trade_in)):%Y-%m-%d} "
            f"({settings.RETENTION_DAYS} days after the purchase). It is anonymised then."
        )
    return ""


def past_retention():
    """Trade-ins whose retention period is over and whose personal data is still there (the
    retention task's candidates; erasure_blocker says which of them must still be kept)."""
    cutoff = timezone.now() - timedelta(days=settings.RETENTION_DAYS)
    return (
        TradeIn.objects.filter(anonymised_at__isnull=True)
        .exclude(state__in=[State.SUBMITTED, State.QUOTED, State.ACCEPTED])
        .filter(Q(received_at__lt=cutoff) | Q(received_at__isnull=True, updated_at__lt=cutoff))
    )


def _may_be_kept():
    """A cheap superset of what erasure_blocker keeps, in SQL (the dashboard asks the predicate
    only of these): money owed, an open return, and with reporting on anything not reported,
    in an undelivered batch or changed since its last row; with a hold, anything unreported."""
    q = Q(payout__status__in=[PayoutStatus.PENDING, PayoutStatus.FAILED]) | Q(
        return_case__status=ReturnStatus.OPEN
    )
    if settings.POLICE_REPORT != "off":
        q |= Q(police_report__isnull=True, received_at__isnull=False, state__in=BOUGHT_STATES)
        q |= Q(
            police_report_rows__report__status__in=[
                PoliceReportStatus.PENDING,
                PoliceReportStatus.FAILED,
            ]
        )
        q |= Q(police_report__isnull=False, updated_at__gt=F("police_report__created_at"))
    if settings.HOLD_DAYS:
        q |= Q(received_at__isnull=False, reported_at__isnull=True)
    return q


def past_retention_kept(limit: int = 1000) -> dict[KeptBecause, int]:
    """Trade-ins past their retention date whose personal data is kept, counted by why
    (the dashboard)."""
    counts: dict[str, int] = {}
    ids = past_retention().filter(_may_be_kept()).values("pk").distinct()
    for trade_in in (
        TradeIn.objects.filter(pk__in=ids).select_related("payout", "unit").order_by("pk")[:limit]
    ):
        blocker = erasure_blocker(trade_in)
        if blocker is not None:
            counts[blocker.kind] = counts.get(blocker.kind, 0) + 1
    return counts
