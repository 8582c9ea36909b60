"""Why a device must not be quoted without a manager: the one place that says so.

The quote action refuses on these, the IMEI check task shows them in the queue, and the
workflow panel asks them before it offers the override field.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Q
from django.utils.translation import gettext as _

from workflows.models import (
    OPEN_STATES,
    STOCKED_STATUSES,
    ImeiCheck,
    ImeiCheckStatus,
    TradeIn,
    Unit,
    UnitStatus,
)

# A unit in one of these is gone for good: it no longer holds its IMEI.
LEFT_US = [
    UnitStatus.SOLD,
    UnitStatus.RETURNED,
    UnitStatus.RECYCLED,
    UnitStatus.PARTS,
    UnitStatus.VOID,
]


def _holds_its_imei(*, submitted_before: int | None = None) -> Q:
    """The trade-ins that hold their IMEI: one with a unit in stock, or an open one whose
    device has not left us for good (of those, only the ones submitted before the trade-in
    `submitted_before` when one is asked about itself)."""
    open_here = Q(state__in=OPEN_STATES) & ~Q(unit__status__in=LEFT_US)
    if submitted_before is not None:
        open_here &= Q(pk__lt=submitted_before)
    return Q(unit__status__in=STOCKED_STATUSES) | open_here


def duplicate_holder(trade_in: TradeIn) -> str:
    """Who else holds this IMEI: another trade-in with a unit in stock, an earlier open
    trade-in whose device has not left us for good, or a stocked unit of no trade-in. ""
    when nobody does.

    "Earlier" is by id, so of two submissions racing each other exactly the later one is
    flagged, whichever check runs first. A unit that was sold, returned, recycled or used for
    parts frees the IMEI even while its trade-in still waits for its payout.
    """
    other = (
        TradeIn.objects.filter(imei=trade_in.imei)
        .exclude(pk=trade_in.pk)
        .filter(_holds_its_imei(submitted_before=trade_in.pk))
        .order_by("pk")
        .values_list("reference", flat=True)
        .first()
    )
    if other:
        return other
    unit = (
        Unit.objects.filter(imei=trade_in.imei, status__in=STOCKED_STATUSES)
        .exclude(trade_in_id=trade_in.pk)
        .filter(trade_in__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )
    return f"unit #{unit}" if unit else ""


def live_imei_holders(imeis: Collection[str]) -> dict[str, str]:
    """For IMEIs not yet in any trade-in (a business's device list): who already holds each,
    by the same rule as `duplicate_holder` (a trade-in's reference, or "unit #N"); IMEIs
    nobody holds are left out. Two queries, however many IMEIs."""
    if not imeis:
        return {}
    holders: dict[str, str] = {}
    trade_ins = (
        TradeIn.objects.filter(imei__in=imeis)
        .filter(_holds_its_imei())
        .order_by("-pk")  # the earliest holder is written last, so it is the one kept
        .values_list("imei", "reference")
    )
    holders.update(trade_ins)
    units = Unit.objects.filter(
        imei__in=imeis, status__in=STOCKED_STATUSES, trade_in__isnull=True
    ).values_list("imei", "pk")
    for imei, pk in units:
        holders.setdefault(imei, f"unit #{pk}")
    return holders


def inconclusive(check: ImeiCheck) -> list[str]:
    """The check could not decide: a manager decides instead (the queue says "unknown")."""
    if check.status in (ImeiCheckStatus.UNKNOWN, ImeiCheckStatus.ERROR):
        return [_("check inconclusive (%s)") % check.status]
    return []


def red_flags(trade_in: TradeIn, *, duplicate_of: str | None = None) -> list[str]:
    """Every reason a manager must override before this trade-in is quoted; [] if none.

    The one list: the quote action, the IMEI answer (the queue's copy of the check) and the
    auto-quote policy all ask it. `duplicate_of` is `duplicate_holder(trade_in)` when the
    caller already asked it in this transaction (the IMEI answer does, to store it on the
    check), so one answer works the flags out once.

    - what the latest finished IMEI check said (or that it could not decide);
    - another live trade-in or stocked unit with the same IMEI, as of now;
    - a blocklist or service flag raised by an earlier check of this trade-in: a re-run that
      comes back clean (say after somebody removed a blocklist entry) does not clear it; only
      a manager's written override does.
    """
    checks = list(trade_in.imei_checks.order_by("-created_at", "-pk"))
    flags: list[str] = []
    latest = checks[0] if checks else None
    if latest is not None and latest.status == ImeiCheckStatus.FLAGGED:
        flags += latest.provider_flags  # a duplicate is asked again below, as of now
    elif latest is not None:
        flags += inconclusive(latest)
    for earlier in checks[1:]:
        for flag in earlier.provider_flags:
            text = _("%(flag)s on an earlier check") % {"flag": flag}
            if flag not in flags and text not in flags:
                flags.append(text)
    holder = duplicate_holder(trade_in) if duplicate_of is None else duplicate_of
    if holder:
        flags.append(_("duplicate IMEI (%s)") % holder)
    return flags
