"""Read-only queries shared by the front ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.errors import InvalidInput
from workflows.integrations import payments
from workflows.models import (
    SHIP_BACK_OPEN,
    Direction,
    Email,
    Payout,
    PayoutStatus,
    Quote,
    ShipBack,
    ShippingLabel,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    StoreCredit,
    StripeAccount,
    TradeIn,
)
from workflows.models.payouts import code_lookup_hash
from workflows.rules.parsers import normalize_imei
from workflows.selectors.orders import order_size


@dataclass(frozen=True)
class IntakeMatch:
    trade_in: TradeIn | None
    message: str = ""
    # Several accepted trade-ins claim this IMEI: the bench asks which one is in the box.
    choices: tuple[TradeIn, ...] = ()
    scanned_imei: str = ""
    # Found but not waiting to be received (say received already): the bench still shows the
    # rest of its box.
    found: TradeIn | None = None


def find_for_intake(raw_imei: str) -> IntakeMatch:
    """The accepted trade-in waiting for this IMEI, or a message saying why there is none."""
    try:
        imei = normalize_imei(raw_imei)
    except InvalidInput as exc:
        return IntakeMatch(None, exc.message)
    accepted = list(
        TradeIn.objects.filter(imei=imei, state=State.ACCEPTED)
        .select_related("product__device_model__make", "unit", "order")
        # The bench shows the rest of the box; a one-device order needs no second look.
        .annotate(order_size=order_size())
        .order_by("created_at", "pk")[:20]
    )
    if len(accepted) == 1:
        return IntakeMatch(accepted[0], scanned_imei=imei)
    if accepted:
        # Never pick one silently: the box's paperwork (its reference) decides.
        return IntakeMatch(
            None,
            _("%(n)d accepted trade-ins have IMEI %(imei)s. Which one is in the box?")
            % {"n": len(accepted), "imei": imei},
            choices=tuple(accepted),
            scanned_imei=imei,
        )
    latest = (
        TradeIn.objects.filter(imei=imei)
        .select_related("product__device_model__make", "unit", "order")
        .annotate(order_size=order_size())
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is None:
        return IntakeMatch(None, _("No trade-in has IMEI %s.") % imei)
    return _intake_match(latest)


def find_for_intake_by_reference(reference: str) -> IntakeMatch:
    """The scanner could not read the box: the same answer, found by reference."""
    trade_in = (
        TradeIn.objects.select_related("product__device_model__make", "unit", "order")
        .annotate(order_size=order_size())
        .filter(reference=reference)
        .first()
    )
    if trade_in is None:
        return IntakeMatch(None, _("No trade-in has reference %s.") % reference)
    return _intake_match(trade_in)


def _intake_match(trade_in: TradeIn) -> IntakeMatch:
    if trade_in.state == State.ACCEPTED:
        return IntakeMatch(trade_in)
    if trade_in.state in (State.RECEIVED, State.CLOSED, State.REROUTED):
        return IntakeMatch(
            None, _("%(ref)s was already received.") % {"ref": trade_in}, found=trade_in
        )
    return IntakeMatch(
        None,
        _("%(ref)s is %(state)s, not accepted; it cannot be received.")
        % {"ref": trade_in, "state": trade_in.get_state_display().lower()},
        found=trade_in,
    )


@dataclass(frozen=True)
class SidebarCounts:
    new_submissions: int
    open_ship_backs: int


def sidebar_counts() -> SidebarCounts:
    """The sidebar's two badges, new submissions and devices still to ship back, in one round
    trip: every dashboard page shows both. Plain SQL: the ORM's two subqueries cost more to
    compile than PostgreSQL takes to count (COUNT(*) is read off the state index alone)."""
    open_statuses = ", ".join(["%s"] * len(SHIP_BACK_OPEN))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {TradeIn._meta.db_table} WHERE state = %s), "
            f"(SELECT COUNT(*) FROM {ShipBack._meta.db_table} WHERE status IN ({open_statuses}))",
            [State.SUBMITTED, *SHIP_BACK_OPEN],
        )
        return SidebarCounts(*cursor.fetchone())


def store_credit_by_code(code: str) -> StoreCredit | None:
    """The credit a whole code (as typed at the till) belongs to, or None."""
    text = str(code).strip()
    if not 8 <= len(text) <= 40:
        return None
    return StoreCredit.objects.filter(code_hash=code_lookup_hash(text)).first()


@dataclass(frozen=True)
class DashboardStats:
    new_today: int
    awaiting_quote: int
    awaiting_buyer: int
    awaiting_arrival: int
    received_this_week: int
    payout_liability: Decimal
    acceptance_rate_30d: float | None  # of trade-ins first quoted in the last 30 days
    median_time_to_quote: timedelta | None
    days: list[date]
    submissions_per_day: list[int]
    acceptances_per_day: list[int]
    top_models: list[tuple[str, int]]
    # Throughput: what quoted itself, and how long submissions waited for a first quote.
    p90_time_to_quote: timedelta | None = None
    auto_quoted_30d: int = 0
    quotes_per_day: list[int] = field(default_factory=list)
    receipts_per_day: list[int] = field(default_factory=list)
    # Per day of the first quote: the median wait in hours, and the share later accepted.
    median_hours_to_quote_per_day: list[float | None] = field(default_factory=list)
    acceptance_rate_per_day: list[float | None] = field(default_factory=list)


def dashboard_stats(now: datetime | None = None, days: int = 30) -> DashboardStats:
    """The numbers on the dashboard home, in a fixed, small number of queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start_of_today = timezone.make_aware(datetime.combine(today, time.min))
    start_of_week = start_of_today - timedelta(days=today.weekday())
    since = start_of_today - timedelta(days=days - 1)

    by_state = dict(
        TradeIn.objects.filter(state__in=[State.SUBMITTED, State.QUOTED, State.ACCEPTED])
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    liability = Payout.objects.filter(
        status__in=[PayoutStatus.PENDING, PayoutStatus.FAILED]
    ).aggregate(s=Sum("amount"))["s"]

    quoted = list(
        TradeIn.objects.annotate(first_quote=Min("quotes__created_at"))
        .filter(first_quote__gte=since)
        .values_list("created_at", "first_quote", "accepted_at")
    )
    waits = sorted(first - created for created, first, _accepted in quoted)
    accepted = sum(1 for *_rest, accepted_at in quoted if accepted_at is not None)
    by_quote_day: dict[date, list[tuple[timedelta, bool]]] = {}
    for created, first, accepted_at in quoted:
        day = timezone.localdate(first)
        by_quote_day.setdefault(day, []).append((first - created, accepted_at is not None))

    submitted_days = _per_day(TradeIn.objects.filter(created_at__gte=since), "created_at")
    accepted_days = _per_day(TradeIn.objects.filter(accepted_at__gte=since), "accepted_at")
    quote_days = _per_day(Quote.objects.filter(created_at__gte=since), "created_at")
    received_days = _per_day(TradeIn.objects.filter(received_at__gte=since), "received_at")
    day_list = [timezone.localdate(since) + timedelta(days=i) for i in range(days)]

    top = (
        TradeIn.objects.filter(created_at__gte=since)
        .values("product__device_model__make__name", "product__device_model__name")
        .annotate(n=Count("pk"))
        .order_by("-n")[:5]
    )
    return DashboardStats(
        new_today=TradeIn.objects.filter(created_at__gte=start_of_today).count(),
        awaiting_quote=by_state.get(State.SUBMITTED, 0),
        awaiting_buyer=by_state.get(State.QUOTED, 0),
        awaiting_arrival=by_state.get(State.ACCEPTED, 0),
        received_this_week=TradeIn.objects.filter(received_at__gte=start_of_week).count(),
        payout_liability=liability or Decimal("0"),
        acceptance_rate_30d=accepted / len(quoted) if quoted else None,
        median_time_to_quote=_percentile(waits, 50),
        days=day_list,
        submissions_per_day=[submitted_days.get(d, 0) for d in day_list],
        acceptances_per_day=[accepted_days.get(d, 0) for d in day_list],
        p90_time_to_quote=_percentile(waits, 90),
        auto_quoted_30d=Quote.objects.filter(created_at__gte=since, auto_quoted=True).count(),
        quotes_per_day=[quote_days.get(d, 0) for d in day_list],
        receipts_per_day=[received_days.get(d, 0) for d in day_list],
        median_hours_to_quote_per_day=[
            _hours(_percentile(sorted(w for w, _a in by_quote_day[d]), 50))
            if d in by_quote_day
            else None
            for d in day_list
        ],
        acceptance_rate_per_day=[
            round(100 * sum(a for _w, a in by_quote_day[d]) / len(by_quote_day[d]), 1)
            if d in by_quote_day
            else None
            for d in day_list
        ],
        top_models=[
            (
                f"{row['product__device_model__make__name']} {row['product__device_model__name']}",
                row["n"],
            )
            for row in top
        ],
    )


def _per_day(queryset, field: str) -> dict[date, int]:
    rows = (
        queryset.annotate(day=TruncDate(field, tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    return dict(rows)


def _percentile(sorted_values: list[timedelta], percent: int) -> timedelta | None:
    """Nearest-rank percentile (the median of an even count is the upper middle one)."""
    if not sorted_values:
        return None
    rank = min(len(sorted_values) - 1, len(sorted_values) * percent // 100)
    return sorted_values[rank]


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 1)


def stripe_account_for(email: str, *, ready: bool = False) -> StripeAccount | None:
    """The buyer's connected account at the configured Stripe provider (demo or live);
    `ready`: only if it can receive payouts."""
    accounts = StripeAccount.objects.filter(
        provider=payments.get_provider().name, email__iexact=email
    )
    if ready:
        accounts = accounts.filter(payouts_enabled=True)
    return accounts.first()


def ready_payee(payout: Payout) -> StripeAccount | None:
    """The connected account the buyer confirmed for this payout, if it can be paid now.
    Never an account found by the email typed into the trade-in."""
    account = payout.payee_account
    if account is None or not account.payouts_enabled:
        return None
    if account.provider != payments.get_provider().name:
        return None
    return account


def resendable_emails(trade_in: TradeIn) -> list[SideEffect]:
    """The buyer emails of this trade-in that went out and may go out again."""
    return [
        effect
        for effect in trade_in.side_effects.filter(
            kind=SideEffectKind.SEND_EMAIL, status=SideEffectStatus.DONE
        ).order_by("created_at", "pk")
        # Staff notices are not the buyer's; a store-credit code is shown whole only once.
        if effect.payload.get("template") not in (Email.STAFF_NEW_SUBMISSION, Email.STORE_CREDIT)
        and not effect.payload.get("resend_of")
    ]


# --- an order's box (issue 20) -------------------------------------------------------------
def order_box_devices(order_id: int) -> list[TradeIn]:
    """The devices travelling in an order's box: the accepted ones, in the order's order.
    Declined (and cancelled) devices stay home."""
    return list(
        TradeIn.objects.filter(order_id=order_id, state=State.ACCEPTED)
        .select_related("product__device_model")
        .order_by("position")
    )


def order_box_weight(order_id: int) -> int:
    """The label's weight: the sum of the accepted devices' weights (each its model's
    `weight_grams`, as a one-device label uses)."""
    return sum(device.product.device_model.weight_grams for device in order_box_devices(order_id))


def box_label(trade_in: TradeIn) -> ShippingLabel | None:
    """The label the buyer tapes on the box this device travels in: its own, or for an order
    of several devices the order's one label (kept on its first accepted device)."""
    return (
        ShippingLabel.objects.filter(
            trade_in__order_id=trade_in.order_id,
            direction=Direction.TO_SHOP,
            voided_at__isnull=True,
        )
        .order_by("-created_at")
        .first()
    )
