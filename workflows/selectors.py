"""Read-only queries shared by the front ends."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from workflows.actions import normalize_imei
from workflows.errors import InvalidInput
from workflows.models import State, TradeIn


@dataclass(frozen=True)
class IntakeMatch:
    trade_in: TradeIn | None
    message: str = ""


def find_for_intake(raw_imei: str) -> IntakeMatch:
    """The accepted trade-in waiting for this IMEI, or a message saying why there is none."""
    try:
        imei = normalize_imei(raw_imei)
    except InvalidInput as exc:
        return IntakeMatch(None, exc.message)
    candidates = list(
        TradeIn.objects.filter(imei=imei)
        .select_related("product__device_model__make", "unit")
        .order_by("-created_at")[:10]
    )
    for trade_in in candidates:
        if trade_in.state == State.ACCEPTED:
            return IntakeMatch(trade_in)
    if not candidates:
        return IntakeMatch(None, _("No trade-in has IMEI %s.") % imei)
    latest = candidates[0]
    if latest.state in (State.RECEIVED, State.CLOSED, State.REROUTED):
        return IntakeMatch(None, _("%(ref)s with this IMEI was already received.") % {"ref": latest})
    return IntakeMatch(
        None,
        _("%(ref)s with this IMEI is %(state)s, not accepted; it cannot be received.")
        % {"ref": latest, "state": latest.get_state_display().lower()},
    )
