"""IMEI checks: blacklist, lost/stolen, finance lock, carrier, SIM and activation lock.

`get_provider()` returns the configured provider:

- `OfflineImeiProvider` (the embedded demo): the check digit and the blocklist kept in the admin.
- `HttpImeiProvider`: a commercial checking service, modelled on imeicheck.net's documented
  JSON API: `POST {IMEI_CHECK_URL}/v1/checks` with a bearer key and
  `{"deviceId": imei, "serviceId": n}`, answered by `{"id", "status", "properties": {...}}`
  where status is `successful`, `unsuccessful`, `failed` or still `processing`; a check
  still processing is fetched later with `GET /v1/checks/{id}` instead of paying twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from django.conf import settings
from stdnum import imei as stdnum_imei

from workflows.integrations.http import BadResponse, TemporaryError, call, json_object
from workflows.models import BlockedImei, DeviceModel, ImeiCheckStatus


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
    # Whether a result may be reused for the same IMEI for IMEI_CHECK_CACHE_SECONDS.
    cacheable: bool

    def check(self, imei: str, *, resume_id: str = "") -> ImeiResult: ...


class StillProcessing(TemporaryError):
    """The service accepted the check but has no answer yet; ask again for `check_id`."""

    def __init__(self, check_id: str) -> None:
        super().__init__(
            f"The IMEI service is still processing check {check_id}",
            safe="IMEI service: still processing",
        )
        self.check_id = check_id


class OfflineImeiProvider:
    name = "offline"
    is_demo = True
    cacheable = False  # the blocklist is local and may have changed a minute ago

    def check(self, imei: str, *, resume_id: str = "") -> ImeiResult:
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
            detail=(
                f"On the shop's blocklist: {blocked.get_reason_display()}. {blocked.note}"
            ).strip(),
            raw={"provider": "offline", "blocked": True, "reason": blocked.reason},
        )


SERVICE = "IMEI service"

# How the services we know spell the facts we need. Services differ per plan and per brand,
# so each fact is looked up under every name we have seen; a fact no name answers is unknown.
BLACKLIST_KEYS = (
    "gsmaBlacklisted",
    "blacklisted",
    "blacklistStatus",
    "blacklist",
    "usaBlockStatus",
    "gsmaStatus",
)
LOST_KEYS = ("lostStolen", "lostMode", "reportedLostStolen")
FINANCE_KEYS = (
    "financeLocked",
    "financeStatus",
    "financialStatus",
    "unpaidBalance",
    "outstandingBalance",
    "financeLock",
)
ACTIVATION_KEYS = (
    "fmiOn",
    "findMyIphone",
    "activationLock",
    "icloudLock",
    "frpLock",
    "googleAccountLock",
)
CARRIER_KEYS = ("network", "carrier", "simLockCarrier", "lockedCarrier")
MODEL_KEYS = ("apple/modelName", "modelName", "deviceName", "model")
CLEAN_WORDS = {
    "clean",
    "no",
    "false",
    "off",
    "ok",
    "none",
    "not found",
    "not blacklisted",
    "unblocked",
    "not reported",
    "paid",
    "no outstanding balance",
    "unlocked",
    "no financial issues reported",
    "0",
    "0.00",
}


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _flag(value: Any) -> bool | None:
    """A yes/no fact from a boolean, a number or a sentence; None when the service gave none."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = _text(value).lower()
    if text in CLEAN_WORDS:
        return False
    if text in ("true", "yes", "on", "locked", "1"):
        return True
    return True  # a sentence such as "Reported stolen by AT&T" or "Unpaid balance"


def _present(props: dict[str, Any], keys: tuple[str, ...]) -> list[Any]:
    return [props[key] for key in keys if props.get(key) not in (None, "")]


def normalize(body: dict[str, Any]) -> ImeiResult:
    """The service's answer as one ImeiResult. Never claims "clean" without being told."""
    status = _text(body.get("status")).lower()
    if status in ("processing", "pending", "waiting", "in_progress"):
        check_id = _text(body.get("id"))
        if not check_id:
            raise BadResponse(
                f"{SERVICE} says the check is {status} but gives no id",
                safe=f"{SERVICE}: pending without id",
            )
        raise StillProcessing(check_id)
    if status == "failed":
        raise TemporaryError(
            f"{SERVICE} could not run the check this time (status failed)",
            safe=f"{SERVICE}: status failed",
        )
    props = body.get("properties")
    if status not in ("successful", "unsuccessful") or not isinstance(props, dict | list):
        raise BadResponse(
            f"{SERVICE} answered with an unexpected body: {str(body)[:200]}",
            safe=f"{SERVICE}: unexpected body",
        )
    props = props if isinstance(props, dict) else {}  # an empty list means "no properties"
    extra = props.get("additional_data")
    if isinstance(extra, dict):
        props = {**extra, **props}

    # Any one source that says blacklisted (GSMA, a US carrier's block list, ...) is enough.
    blacklist = _present(props, BLACKLIST_KEYS)
    said = " / ".join(_text(v) for v in blacklist if isinstance(v, str) and _flag(v))
    words = said.lower()
    blacklisted = any(_flag(v) for v in blacklist)
    lost_stolen = any(_flag(v) for v in _present(props, LOST_KEYS)) or any(
        word in words for word in ("lost", "stolen")
    )
    finance = _present(props, FINANCE_KEYS)
    finance_locked = any(_flag(v) for v in finance) or any(
        word in words for word in ("unpaid", "financ", "non-payment", "balance")
    )
    activation = _present(props, ACTIVATION_KEYS)
    carrier = _present(props, CARRIER_KEYS)
    model = _present(props, MODEL_KEYS)
    sim = props.get("simLock")
    common = dict(
        blacklisted=blacklisted,
        lost_stolen=lost_stolen,
        finance_locked=finance_locked,
        carrier=_text(carrier[0])[:80] if carrier else "",
        sim_lock=_flag(sim) if sim is not None else None,
        activation_lock=_flag(activation[0]) if activation else None,
        reported_model=_text(model[0])[:120] if model else "",
        raw=body,
    )
    if blacklisted or lost_stolen or finance_locked:
        named = [
            name
            for name, on in (
                ("blacklisted", blacklisted),
                ("lost or stolen", lost_stolen),
                ("finance-locked", finance_locked),
            )
            if on
        ]
        reasons = said or " / ".join(_text(v) for v in finance if _flag(v)) or ", ".join(named)
        return ImeiResult(status=ImeiCheckStatus.FLAGGED, detail=f"{SERVICE}: {reasons}", **common)
    if status == "unsuccessful":
        return ImeiResult(
            status=ImeiCheckStatus.UNKNOWN,
            detail=f"{SERVICE} has no record for this IMEI.",
            **common,
        )
    if not blacklist:
        return ImeiResult(
            status=ImeiCheckStatus.UNKNOWN,
            detail=f"{SERVICE} did not say whether the IMEI is blacklisted.",
            **common,
        )
    return ImeiResult(
        status=ImeiCheckStatus.CLEAN,
        detail=f"{SERVICE}: not blacklisted, not reported lost or stolen, "
        f"no finance lock reported.",
        **common,
    )


def _refusal(body: Any) -> str:
    # imeicheck.net: {"message": "...", "errors": {"deviceId": ["..."]}}
    if not isinstance(body, dict):
        return ""
    parts = [_text(body.get("message"))]
    errors = body.get("errors")
    if isinstance(errors, dict):
        for messages in errors.values():
            parts.extend(_text(m) for m in (messages if isinstance(messages, list) else [messages]))
    return " ".join(p for p in parts if p)


class HttpImeiProvider:
    name = "imei-service"
    is_demo = False
    cacheable = True  # each check costs money

    def __init__(self, *, base_url: str, api_key: str, service_id: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.service_id = service_id
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "Accept-Language": "en",
            }
        )

    def check(self, imei: str, *, resume_id: str = "") -> ImeiResult:
        if resume_id:
            response = call(
                self.session,
                "GET",
                f"{self.base_url}/v1/checks/{resume_id}",
                service=SERVICE,
                timeout=self.timeout,
                refusal=_refusal,
            )
        else:
            # The documented serviceId is a number; a service that names them gets the name.
            service_id: int | str = (
                int(self.service_id) if self.service_id.isdigit() else self.service_id
            )
            response = call(
                self.session,
                "POST",
                f"{self.base_url}/v1/checks",
                json={"deviceId": imei, "serviceId": service_id},
                service=SERVICE,
                timeout=self.timeout,
                refusal=_refusal,
            )
        return normalize(json_object(response, SERVICE))

    def account(self) -> dict[str, Any]:
        """The account behind the key (`GET /v1/account`): proves the key works."""
        response = call(
            self.session,
            "GET",
            f"{self.base_url}/v1/account",
            service=SERVICE,
            timeout=self.timeout,
            refusal=_refusal,
        )
        return json_object(response, SERVICE)


def get_provider() -> ImeiProvider:
    if settings.IMEI_CHECK_URL and settings.IMEI_CHECK_API_KEY:
        return HttpImeiProvider(
            base_url=settings.IMEI_CHECK_URL,
            api_key=settings.IMEI_CHECK_API_KEY,
            service_id=settings.IMEI_CHECK_SERVICE_ID,
            timeout=settings.IMEI_CHECK_TIMEOUT,
        )
    return OfflineImeiProvider()


# --- "the model the service reports" against the buyer's choice --------------------------------
# Cut the name where storage or part numbers begin: "iPhone 13 Pro Max 256GB Gold [A2484]".
_STOP = re.compile(r"[\[(]|\b\d+\s?(gb|tb)\b", re.IGNORECASE)
# Words that make another model when they follow a model's name ("iPhone 15" + "Pro").
_VARIANTS = {
    "pro",
    "max",
    "plus",
    "mini",
    "ultra",
    "fold",
    "flip",
    "lite",
    "fe",
    "xl",
    "edge",
    "note",
    "a",
    "e",
    "s",
    "z",
}


def _name_tokens(text: str, make: str) -> list[str]:
    stop = _STOP.search(text)
    text = (text[: stop.start()] if stop else text).replace("+", " plus")
    make_words = set(re.findall(r"[a-z0-9]+", make.lower()))
    return [t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in make_words]


def model_mismatch(device_model: DeviceModel, reported: str) -> bool:
    """True when the service names another model than the buyer chose.

    The make, storage, colour and part numbers in the service's name do not count; a variant
    word or number right after the chosen name does ("iPhone 13" vs "iPhone 13 Pro Max").
    Spacing is ignored ("Fold5" is "Fold 5", "S22+" is "S22 Plus"). No name: no mismatch.
    """
    said = _name_tokens(reported, device_model.make.name)
    target = "".join(_name_tokens(device_model.name, device_model.make.name))
    if not said or not target:
        return False
    consumed = ""
    for i, token in enumerate(said):
        consumed += token
        if not target.startswith(consumed):
            return True
        if consumed == target:
            return any(t in _VARIANTS or t.isdigit() for t in said[i + 1 :])
    return True  # the service's name is shorter than the chosen one
