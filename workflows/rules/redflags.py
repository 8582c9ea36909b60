"""Why a device must not be quoted without a manager: the one place that says so.

The quote action refuses on these, the IMEI check task shows them in the queue, and the
workflow panel asks them before it offers the override field.
"""

from __future__ import annotations

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


def duplicate_holder(trade_in: TradeIn) -> str:
    """Who else holds this IMEI: another trade-in with a unit in stock, an earlier open
    trade-in whose device has not left us for good, or a stocked unit of no trade-in. ""
    when nobody does.

    "Earlier" is by id, so of two submissions racing each other exactly the later one is
    flagged, whichever check runs first. A unit that was sold, returned, recycled or used for
    parts frees the IMEI even while its trade-in still waits for its payout.
    """
    earlier_open = Q(state__in=OPEN_STATES, pk__lt=trade_in.pk) & ~Q(unit__status__in=LEFT_US)
    other = (
        TradeIn.objects.filter(imei=trade_in.imei)
        .exclude(pk=trade_in.pk)
        .filter(Q(unit__status__in=STOCKED_STATUSES) | earlier_open)
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
