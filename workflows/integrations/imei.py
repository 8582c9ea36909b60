"""IMEI checks: blacklist, lost/stolen, finance lock, carrier, SIM and activation lock.

`get_provider()` returns the configured provider:

- `OfflineImeiProvider` (the embedded demo): the check digit and the blocklist kept in the admin.
- `HttpImeiProvider`: a commercial checking service, modelled on imeicheck.net's documented
  JSON API: `POST {IMEI_CHECK_URL}/v1/checks` with a bearer key and
  `{"deviceId": imei, "serviceId": n}`, answered by `{"id", "status", "properties": {...}}`
  where status is `successful`, `unsuccessful`, `failed` or still `waiting`/`processing`; a
  check still processing is fetched later with `GET /v1/checks/{id}` instead of paying twice.

Both consult the shop's own blocklist first: a device on it is flagged with the shop's reason,
and the paid service is not asked. The service's words are read strictly: a fact only counts as
clean or as a red flag when we recognise its wording; any other wording makes the check
"unknown — needs review" with the service's own text for staff, never a guessed "blacklisted".

Which service: `IMEI_CHECK_SERVICE_ID`, or when it is empty the service `GET /v1/services`
lists as a worldwide GSMA blacklist check naming no brand (the cheapest, if several). A
brand's service (imeicheck.net's service 1 is "Apple Basic Info": Apple devices only) never
checks another brand's device: such an answer is "unknown — needs review".

Over 400 lines on purpose: the provider interface, the HTTP service's client and its strict
reading of the answer, and the offline provider sit together so both answer alike.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from django.conf import settings
from stdnum import imei as stdnum_imei

from workflows.integrations.http import (
    BadResponse,
    ProviderRefused,
    TemporaryError,
    call,
    json_object,
    parse_json,
)
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

    def check(self, imei: str, *, resume_id: str = "", make: str = "") -> ImeiResult: ...


class StillProcessing(TemporaryError):
    """The service accepted the check but has no answer yet; ask again for `check_id`."""

    def __init__(self, check_id: str) -> None:
        super().__init__(
            f"The IMEI service is still processing check {check_id}",
            safe="IMEI service: still processing",
        )
        self.check_id = check_id


def blocklist_result(imei: str, provider: str) -> ImeiResult | None:
    """The shop's own verdict: a red flag when the IMEI is on its blocklist, else None."""
    blocked = BlockedImei.objects.filter(imei=imei).first()
    if blocked is None:
        return None
    return ImeiResult(
        status=ImeiCheckStatus.FLAGGED,
        blacklisted=blocked.reason == BlockedImei.Reason.BLACKLISTED,
        lost_stolen=blocked.reason == BlockedImei.Reason.LOST_STOLEN,
        finance_locked=blocked.reason == BlockedImei.Reason.FINANCE_LOCKED,
        detail=(f"On the shop's blocklist: {blocked.get_reason_display()}. {blocked.note}").strip(),
        raw={"provider": provider, "blocked": True, "reason": blocked.reason},
    )


class OfflineImeiProvider:
    name = "offline"
    is_demo = True
    cacheable = False  # the blocklist is local and may have changed a minute ago

    def check(self, imei: str, *, resume_id: str = "", make: str = "") -> ImeiResult:
        if not stdnum_imei.is_valid(imei):
            return ImeiResult(status=ImeiCheckStatus.ERROR, detail="Invalid IMEI check digit")
        blocked = blocklist_result(imei, "offline")
        if blocked is not None:
            return blocked
        return ImeiResult(
            status=ImeiCheckStatus.CLEAN,
            detail="Check digit valid; not on the shop's blocklist (offline demo check).",
            raw={"provider": "offline", "blocked": False},
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
# Wordings we recognise. Anything else is neither clean nor a red flag: staff read it.
CLEAN_WORDS = {
    "clean",
    "no",
    "false",
    "off",
    "ok",
    "none",
    "not found",
    "not blacklisted",
    "not blocked",
    "unblocked",
    "not reported",
    "not lost or stolen",
    "paid",
    "paid off",
    "no outstanding balance",
    "unlocked",
    "no financial issues reported",
    "0",
    "0.00",
}
FLAG_WORDS = {
    "true",
    "yes",
    "on",
    "locked",
    "1",
    "blacklisted",
    "blocked",
    "barred",
    "stolen",
    "lost",
    "lost or stolen",
    "unpaid",
    "financed",
    "outstanding balance",
}
# A sentence naming one of these, with no negation, reports a red flag ("Reported stolen by
# AT&T", "Blacklisted by Verizon", "Unpaid balance of $200").
FLAG_PHRASE = re.compile(
    r"\b(blacklist(ed)?|block(ed|listed)|barred|stolen|lost|unpaid|non-payment|"
    r"outstanding balance|financ(ed|e lock))\b",
    re.IGNORECASE,
)
NEGATION = re.compile(r"\b(not|no|never|un(blocked|locked))\b", re.IGNORECASE)


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _flag(value: Any) -> bool | None:
    """A yes/no fact from a boolean, a number or words we recognise; None when the service
    gave none, or said it in words we do not know (`_unrecognised` names those)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = _text(value).lower().rstrip(".")
    if text in CLEAN_WORDS:
        return False
    if text in FLAG_WORDS:
        return True
    if FLAG_PHRASE.search(text) and not NEGATION.search(text):
        return True
    return None


def _unrecognised(props: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    return [
        f"{key}: {_text(props[key])!r}"
        for key in keys
        if props.get(key) not in (None, "") and _flag(props[key]) is None
    ]


def _present(props: dict[str, Any], keys: tuple[str, ...]) -> list[Any]:
    return [props[key] for key in keys if props.get(key) not in (None, "")]


# Brands a service may be limited to ("Apple Basic Info", "Samsung Info (S1)", ...).
BRANDS = (
    "apple",
    "samsung",
    "huawei",
    "xiaomi",
    "oneplus",
    "google",
    "pixel",
    "honor",
    "realme",
    "oppo",
    "motorola",
    "lg",
    "sony",
    "nokia",
    "vivo",
    "iphone",
)


def service_brand(title: str) -> str:
    """The brand a service's title limits it to, or "" for a service of every brand."""
    words = set(re.findall(r"[a-z]+", title.lower()))
    return next((b for b in BRANDS if b in words), "")


def normalize(body: dict[str, Any], *, make: str = "") -> ImeiResult:
    """The service's answer as one ImeiResult. Never claims "clean" without being told, nor
    a red flag in words it does not recognise. `make`: the device's brand, when known."""
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
    unknown_words = _unrecognised(props, BLACKLIST_KEYS + LOST_KEYS + FINANCE_KEYS)
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
    service = body.get("service") if isinstance(body.get("service"), dict) else {}
    title = _text(service.get("title"))
    brand = service_brand(title)
    if (
        brand
        and make
        and brand not in make.lower()
        and not (brand == "iphone" and "apple" in make.lower())
    ):
        return ImeiResult(
            status=ImeiCheckStatus.UNKNOWN,
            detail=f"Unknown — needs review: {SERVICE} service {service.get('id')} "
            f"({title!r}) checks only {brand.title()} devices, not {make}.",
            **common,
        )
    if unknown_words:
        return ImeiResult(
            status=ImeiCheckStatus.UNKNOWN,
            detail=f"Unknown — needs review: {SERVICE} said "
            + "; ".join(unknown_words)
            + " (wording we do not recognise).",
            **common,
        )
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
        self.api_key_digest = hashlib.sha256(api_key.encode()).hexdigest()
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

    def check(self, imei: str, *, resume_id: str = "", make: str = "") -> ImeiResult:
        blocked = blocklist_result(imei, self.name)
        if blocked is not None:
            return blocked  # the shop's own list says no: no need to pay for a check
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
            chosen = self.service()[0]
            service_id: int | str = int(chosen) if chosen.isdigit() else chosen
            response = call(
                self.session,
                "POST",
                f"{self.base_url}/v1/checks",
                json={"deviceId": imei, "serviceId": service_id},
                service=SERVICE,
                timeout=self.timeout,
                refusal=_refusal,
            )
        return normalize(json_object(response, SERVICE), make=make)

    def service(self) -> tuple[str, str]:
        """(serviceId, its title) of the checks we buy: `IMEI_CHECK_SERVICE_ID`, or the
        brand-independent GSMA blacklist check `GET /v1/services` lists (asked once per
        process). ProviderRefused, saying what to set, when there is none."""
        if self.service_id:
            return self.service_id, ""
        key = (self.base_url, self.api_key_digest)
        if key in _SERVICE_PICKS:
            return _SERVICE_PICKS[key]
        services = self.services()
        candidates = [
            r
            for r in services
            if not service_brand(_text(r.get("title")))
            and re.search(r"gsma|blacklist", _text(r.get("title")), re.IGNORECASE)
        ]
        if not candidates:
            raise ProviderRefused(
                f"IMEI_CHECK_SERVICE_ID is not set and none of the {len(services)} services "
                f"of this key is a blacklist check for every brand: set IMEI_CHECK_SERVICE_ID",
                safe=f"{SERVICE}: no service to use",
            )

        def price(row: dict[str, Any]) -> tuple[float, str]:
            try:
                return float(row.get("price") or 0), str(row["id"])
            except (TypeError, ValueError):
                return float("inf"), str(row["id"])

        best = min(candidates, key=price)
        _SERVICE_PICKS[key] = (str(best["id"]), _text(best.get("title")))
        return _SERVICE_PICKS[key]

    def services(self) -> list[dict[str, Any]]:
        """The checks this key can buy (`GET /v1/services`): `{id, title, price, ...}`."""
        response = call(
            self.session,
            "GET",
            f"{self.base_url}/v1/services",
            service=SERVICE,
            timeout=self.timeout,
            refusal=_refusal,
        )
        listed = parse_json(response, SERVICE)
        rows = listed.get("data") if isinstance(listed, dict) else listed
        return [r for r in rows or [] if isinstance(r, dict) and r.get("id") is not None]

    def service_readiness(self) -> str:
        """What `check_integrations` says of the service; ProviderRefused when it is one
        brand's (checks of other brands' devices would tell nothing)."""
        chosen, title = self.service()
        if not title:
            titles = {str(r["id"]): _text(r.get("title")) for r in self.services()}
            if chosen not in titles:
                raise ProviderRefused(
                    f"IMEI_CHECK_SERVICE_ID {chosen} is not one of this key's services",
                    safe=f"{SERVICE}: unknown service",
                )
            title = titles[chosen]
        brand = service_brand(title)
        if brand:
            raise ProviderRefused(
                f"service {chosen} ({title!r}) checks only {brand.title()} devices: set "
                f"IMEI_CHECK_SERVICE_ID to a blacklist check for every brand, or leave it "
                f"empty to pick one",
                safe=f"{SERVICE}: brand-specific service",
            )
        how = "IMEI_CHECK_SERVICE_ID" if self.service_id else "picked from GET /v1/services"
        return f"service {chosen} ({title!r}, {how})"

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


# The service chosen from GET /v1/services, per URL and key: asked once per process.
_SERVICE_PICKS: dict[tuple[str, str], tuple[str, str]] = {}


def get_provider(*, timeout: float | None = None) -> ImeiProvider:
    """`timeout`: shorter than the setting when somebody waits for the answer (the counter)."""
    if settings.IMEI_CHECK_URL and settings.IMEI_CHECK_API_KEY:
        return HttpImeiProvider(
            base_url=settings.IMEI_CHECK_URL,
            api_key=settings.IMEI_CHECK_API_KEY,
            service_id=settings.IMEI_CHECK_SERVICE_ID,
            timeout=timeout or settings.IMEI_CHECK_TIMEOUT,
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
