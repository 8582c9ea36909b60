"""IMEI checks: carrier, blacklist and finance status.

`get_provider()` returns the configured provider. The offline one, used by the embedded
demo, validates the check digit and looks the IMEI up in the blocklist kept in the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from stdnum import imei as stdnum_imei

from workflows.models import BlockedImei, ImeiCheckStatus


@dataclass(frozen=True, kw_only=True)
class ImeiResult:
    status: str  # an ImeiCheckStatus value
    blacklisted: bool = False
    lost_stolen: bool = False
    finance_locked: bool = False
    carrier: str = ""
    sim_lock: bool | None = None
    activation_lock: bool | None = None
    reported_model: str = ""
    detail: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class ImeiProvider(Protocol):
    name: str
    is_demo: bool

    def check(self, imei: str) -> ImeiResult: ...


class OfflineImeiProvider:
    name = "offline"
    is_demo = True

    def check(self, imei: str) -> ImeiResult:
        if not stdnum_imei.is_valid(imei):
            return ImeiResult(status=ImeiCheckStatus.ERROR, detail="Invalid IMEI check digit")
        blocked = BlockedImei.objects.filter(imei=imei).first()
        if blocked is None:
            return ImeiResult(
                status=ImeiCheckStatus.CLEAN,
                detail="Check digit valid; not on the shop's blocklist (offline demo check).",
                raw={"provider": "offline", "blocked": False},
            )
        return ImeiResult(
            status=ImeiCheckStatus.FLAGGED,
            blacklisted=blocked.reason == BlockedImei.Reason.BLACKLISTED,
            lost_stolen=blocked.reason == BlockedImei.Reason.LOST_STOLEN,
            finance_locked=blocked.reason == BlockedImei.Reason.FINANCE_LOCKED,
            detail=f"On the shop's blocklist: {blocked.get_reason_display()}. {blocked.note}".strip(),
            raw={"provider": "offline", "blocked": True, "reason": blocked.reason},
        )


def get_provider() -> ImeiProvider:
    return OfflineImeiProvider()
