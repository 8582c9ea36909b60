"""Shipping labels: the buyer's prepaid label to send the device to the shop's warehouse.

`get_provider()` returns ShipEngine when `SHIPENGINE_API_KEY` is set, else the sample provider
of the embedded demo, which draws a PDF marked SAMPLE and involves no carrier.

ShipEngine (https://shipengine.github.io/shipengine-openapi/), `API-Key` header:
- `POST /v1/labels` buys a label: ship-from is the buyer, ship-to the warehouse, the weight
  comes from the device model. `carrier_id` is required: `SHIPENGINE_CARRIER_ID`, or else the
  one carrier account of `GET /v1/carriers` that offers `SHIPENGINE_SERVICE_CODE` (a key with
  none or several is refused with a message saying which to set). Inside the warehouse's
  country it is a return label with `charge_event=on_carrier_acceptance`: charged when the
  carrier first scans it, so a label the buyer never uses costs nothing.
- Before buying, the buyer's address is checked here (what ShipEngine requires of an address)
  and then by `POST /v1/addresses/validate`: a corrected address is used and shown to staff on
  the timeline; an address ShipEngine calls an error is refused with its own words.
- `PUT /v1/labels/{id}/void` voids it (`{"approved": bool, "message": ...}`).
- `GET /v1/labels/{id}/track` says where the parcel is (`status_code` UN/AC/IT/DE/EX/AT/NY/SP;
  DE delivered and SP delivered to a collection point both end the journey); its events are
  ordered by `occurred_at`, newest first.
- Errors are `{"request_id", "errors": [{"error_source", "error_type", "error_code", "message"}]}`.
ShipEngine has no idempotency key, so each label carries ours as `external_shipment_id`; a
retry after a lost answer looks that shipment up and reuses its label instead of buying two.
(Over 400 lines: the ShipEngine client, its address checks and the sample provider answer to one
published spec and are read together.)

Over 400 lines on purpose: the provider interface, ShipEngine's client read against its
published spec, and the sample provider sit together so each can be checked against the other.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from fpdf import FPDF

from workflows.integrations.http import BadResponse, ProviderRefused, call, json_object
from workflows.models import TradeIn
from workflows.rules.addresses import US_STATE_CODES, US_ZIP


@dataclass(frozen=True)
class Label:
    label_id: str
    tracking_number: str
    carrier: str
    pdf: bytes
    note: str = ""  # for staff: e.g. the address ShipEngine corrected
    # What the carrier charged (ShipEngine's shipment_cost), None when it did not say.
    cost: Decimal | None = None
    cost_currency: str = ""


# Tracking codes after which the parcel moves no more: the intake bench takes it from here.
FINAL_TRACKING = ("DE", "SP")


@dataclass(frozen=True)
class Tracking:
    status_code: str  # ShipEngine's: UN unknown, AC accepted, IT in transit, DE delivered, ...
    description: str


class ShippingProvider(Protocol):
    name: str
    is_demo: bool

    def create_label(
        self,
        trade_in: TradeIn,
        *,
        idempotency_key: str,
        is_retry: bool = False,
        to_buyer: bool = False,
        weight_grams: int | None = None,
    ) -> Label: ...

    def void_label(self, label_id: str) -> None: ...

    def track(self, label_id: str) -> Tracking | None: ...


class SampleShippingProvider:
    name = "sample"
    is_demo = True

    def create_label(
        self,
        trade_in: TradeIn,
        *,
        idempotency_key: str,
        is_retry: bool = False,
        to_buyer: bool = False,
        weight_grams: int | None = None,
    ) -> Label:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
        tracking = f"SAMPLE{digest}"
        return Label(
            label_id=f"sample-{digest.lower()}",
            tracking_number=tracking,
            carrier="sample",
            pdf=_sample_pdf(trade_in, tracking, to_buyer=to_buyer),
            cost=settings.SAMPLE_LABEL_COST,
            cost_currency=settings.CURRENCY,
        )

    def void_label(self, label_id: str) -> None:
        return None

    def track(self, label_id: str) -> Tracking | None:
        return None  # a sample parcel never moves


SERVICE = "ShipEngine"
# The fields of an address that ShipEngine's validation may correct, in the order of a label.
MATCHED_ADDRESS_FIELDS = (
    "address_line1",
    "address_line2",
    "city_locality",
    "state_province",
    "postal_code",
    "country_code",
)


def _refusal(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    return "; ".join(
        str(e.get("message", "")).strip() for e in errors if isinstance(e, dict)
    ).strip("; ")


def address_problems(address: dict[str, str]) -> list[str]:
    """What ShipEngine would refuse in an address, checked before any call."""
    found = []
    names = {
        "name": "name",
        "address_line1": "street",
        "city_locality": "city",
        "postal_code": "postcode",
        "country_code": "country",
    }
    for key, label in names.items():
        if not str(address.get(key) or "").strip():
            found.append(f"the {label} is missing")
    country = str(address.get("country_code") or "")
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        found.append(f"the country {country!r} is not a two-letter ISO code")
    if country == "US":
        state = str(address.get("state_province") or "")
        if state not in US_STATE_CODES:
            found.append(f"the state {state!r} is not a USPS state code (such as IL)")
        postcode = str(address.get("postal_code") or "")
        if postcode and not US_ZIP.match(postcode):
            found.append(f"the ZIP code {postcode!r} is not 5 digits (or ZIP+4)")
    elif country in ("CA", "AU") and not str(address.get("state_province") or "").strip():
        found.append("the state or province is missing")
    return found


def warehouse_address() -> dict[str, str]:
    return {
        "name": settings.WAREHOUSE_NAME,
        "phone": settings.WAREHOUSE_PHONE,
        "address_line1": settings.WAREHOUSE_ADDRESS_LINE1,
        "city_locality": settings.WAREHOUSE_CITY,
        "state_province": settings.WAREHOUSE_STATE,
        "postal_code": settings.WAREHOUSE_POSTCODE,
        "country_code": settings.WAREHOUSE_COUNTRY,
    }


def buyer_address(trade_in: TradeIn) -> dict[str, str]:
    address = {
        "name": trade_in.buyer_name,
        # Carriers want a phone on the sender; the warehouse's stands in for a buyer who gave none.
        "phone": trade_in.buyer_phone or settings.WAREHOUSE_PHONE,
        "address_line1": trade_in.address_line1,
        "city_locality": trade_in.city,
        "state_province": trade_in.region,
        "postal_code": trade_in.postcode,
        "country_code": trade_in.country,
    }
    if trade_in.address_line2:
        address["address_line2"] = trade_in.address_line2
    return address


class ShipEngineProvider:
    name = "shipengine"
    is_demo = False

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        carrier_id: str,
        service_code: str,
        timeout: float,
        return_labels: bool,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.carrier_id = carrier_id
        self.service_code = service_code
        self.timeout = timeout
        self.return_labels = return_labels
        self.api_key = api_key
        self.session = requests.Session()
        self.session.headers.update({"API-Key": api_key, "Accept": "application/json"})

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = call(
            self.session,
            method,
            f"{self.base_url}{path}",
            service=SERVICE,
            timeout=self.timeout,
            refusal=_refusal,
            **kwargs,
        )
        return json_object(response, SERVICE)

    def label_request(
        self,
        trade_in: TradeIn,
        *,
        idempotency_key: str,
        carrier_id: str,
        buyer: dict[str, str] | None = None,
        to_buyer: bool = False,
        weight_grams: int | None = None,
    ) -> dict[str, Any]:
        """The buyer's prepaid label to the warehouse, or (to_buyer) the label that sends
        the device back to them, which the shop pays outright. `buyer`: the buyer's address
        as ShipEngine validated it. `weight_grams`: the box's weight when it carries several
        devices (an order's accepted ones); else the device's own."""
        weight = weight_grams or trade_in.product.device_model.weight_grams
        buyer, warehouse = buyer or buyer_address(trade_in), warehouse_address()
        shipment: dict[str, Any] = {
            "carrier_id": carrier_id,
            "service_code": self.service_code,
            "external_shipment_id": idempotency_key,
            "ship_from": warehouse if to_buyer else buyer,
            "ship_to": buyer if to_buyer else warehouse,
            "packages": [
                {
                    "weight": {"value": weight, "unit": "gram"},
                    # The spec requires all three lines (null when unused); USPS prints 60
                    # characters a line, the narrowest carrier 25: our reference fits both.
                    "label_messages": {
                        "reference1": (trade_in.reference or "")[:25] or None,
                        "reference2": None,
                        "reference3": None,
                    },
                }
            ],
        }
        body: dict[str, Any] = {
            "shipment": shipment,
            "label_format": "pdf",
            "label_layout": "4x6",
            "label_download_type": "url",
        }
        # Carriers make return labels only inside one country. Charged when the carrier first
        # scans the parcel (USPS pay-on-use): a label the buyer never sends costs nothing.
        if not to_buyer and self.return_labels and trade_in.country == settings.WAREHOUSE_COUNTRY:
            body.update(
                is_return_label=True,
                rma_number=trade_in.reference or "",
                charge_event="on_carrier_acceptance",
            )
        return body

    def label_carrier(self, *, verify: bool = False) -> tuple[str, str]:
        """(carrier_id, a sentence saying which carrier and why) for buying labels.

        `SHIPENGINE_CARRIER_ID` when set (`verify`: and it is the key's and offers the
        service); else the key's one carrier account that offers the service, asked once per
        process. ProviderRefused, saying what to set, when labels cannot be bought."""
        if self.carrier_id and not verify:
            return self.carrier_id, f"labels from carrier {self.carrier_id}"
        key = (self.base_url, hashlib.sha256(self.api_key.encode()).hexdigest(), self.carrier_id)
        if key in _CARRIER_PICKS and not verify:
            return _CARRIER_PICKS[key]
        carriers = [c for c in self.carriers() if isinstance(c, dict) and c.get("carrier_id")]
        ids = ", ".join(str(c["carrier_id"]) for c in carriers) or "none"
        if self.carrier_id:
            chosen = [c for c in carriers if c["carrier_id"] == self.carrier_id]
            if not chosen:
                raise ProviderRefused(
                    f"SHIPENGINE_CARRIER_ID {self.carrier_id} is not one of this key's "
                    f"{len(carriers)} carrier accounts ({ids})",
                    safe=f"{SERVICE}: configured carrier unknown",
                )
        else:
            chosen = [c for c in carriers if self._offers_service(c)]
            if len(chosen) > 1:
                primary = [c for c in chosen if c.get("primary") is True]
                chosen = primary if len(primary) == 1 else chosen
            if len(chosen) != 1:
                offering = ", ".join(str(c["carrier_id"]) for c in chosen) or "none"
                raise ProviderRefused(
                    f"SHIPENGINE_CARRIER_ID is not set and {len(chosen)} of this key's carrier "
                    f"accounts offer {self.service_code} ({offering}; all: {ids}): set "
                    f"SHIPENGINE_CARRIER_ID to the one labels are bought with",
                    safe=f"{SERVICE}: no single carrier for the service",
                )
        carrier = chosen[0]
        if carrier.get("disabled_by_billing_plan") is True:
            raise ProviderRefused(
                f"carrier {carrier['carrier_id']} is disabled by the ShipEngine billing plan",
                safe=f"{SERVICE}: carrier disabled",
            )
        if not self._offers_service(carrier):
            raise ProviderRefused(
                f"carrier {carrier['carrier_id']} does not offer {self.service_code}: set "
                f"SHIPENGINE_SERVICE_CODE to one of its services",
                safe=f"{SERVICE}: carrier lacks the service",
            )
        name = carrier.get("friendly_name") or carrier.get("carrier_code") or ""
        how = "SHIPENGINE_CARRIER_ID" if self.carrier_id else "the only one offering the service"
        answer = (
            str(carrier["carrier_id"]),
            f"labels from carrier {carrier['carrier_id']} ({name}, {self.service_code}; {how})",
        )
        _CARRIER_PICKS[key] = answer
        return answer

    def _offers_service(self, carrier: dict[str, Any]) -> bool:
        services = carrier.get("services")
        return isinstance(services, list) and any(
            isinstance(s, dict) and s.get("service_code") == self.service_code for s in services
        )

    def validated_ship_from(self, trade_in: TradeIn) -> tuple[dict[str, str], str]:
        """The buyer's address as ShipEngine validated it, and a note for staff when it changed
        or could not be verified. ProviderRefused when it is not an address a label can use."""
        address = buyer_address(trade_in)
        problems = address_problems(address)
        if problems:
            raise ProviderRefused(
                f"The buyer's address cannot go on a label: {'; '.join(problems)}",
                safe=f"{SERVICE}: address refused before sending",
            )
        to_check = {k: v for k, v in address.items() if k not in ("phone",)}
        body = call(
            self.session,
            "POST",
            f"{self.base_url}/v1/addresses/validate",
            service=SERVICE,
            timeout=self.timeout,
            refusal=_refusal,
            json=[to_check],
        )
        results = body.json() if body.content else None
        result = results[0] if isinstance(results, list) and results else None
        if not isinstance(result, dict) or not isinstance(result.get("status"), str):
            raise BadResponse(
                f"{SERVICE} answered the address validation without a status",
                safe=f"{SERVICE}: address validation without status",
            )
        messages = "; ".join(
            str(m.get("message", "")).strip()
            for m in result.get("messages") or []
            if isinstance(m, dict) and m.get("message")
        )
        status = result["status"]
        if status == "error":
            raise ProviderRefused(
                f"{SERVICE} could not validate the buyer's address: "
                f"{messages or 'no reason given'}",
                safe=f"{SERVICE}: address validation error",
            )
        matched = result.get("matched_address")
        if status in ("verified", "warning") and isinstance(matched, dict):
            corrected = dict(address)
            for key in MATCHED_ADDRESS_FIELDS:
                if matched.get(key):
                    corrected[key] = str(matched[key])
            changed = [k for k in corrected if corrected.get(k, "") != address.get(k, "")]
            notes = []
            if changed:
                notes.append(
                    f"{SERVICE} corrected the buyer's address to: "
                    + ", ".join(corrected[k] for k in MATCHED_ADDRESS_FIELDS if corrected.get(k))
                )
            if status == "warning" and messages:
                notes.append(f"{SERVICE} warns: {messages}")
            return corrected, ". ".join(notes)
        # unverified: ShipEngine cannot check this country or address; the label still goes.
        return address, f"{SERVICE} could not verify the buyer's address" + (
            f": {messages}" if messages else ""
        )

    def create_label(
        self,
        trade_in: TradeIn,
        *,
        idempotency_key: str,
        is_retry: bool = False,
        to_buyer: bool = False,
        weight_grams: int | None = None,
    ) -> Label:
        if is_retry:
            existing = self._find_label(idempotency_key)
            if existing is not None:
                return existing
        carrier_id, _ = self.label_carrier()
        buyer, note = self.validated_ship_from(trade_in)
        request = self.label_request(
            trade_in,
            idempotency_key=idempotency_key,
            carrier_id=carrier_id,
            buyer=buyer,
            to_buyer=to_buyer,
            weight_grams=weight_grams,
        )
        label = self._label(self._call("POST", "/v1/labels", json=request))
        return Label(**{**label.__dict__, "note": note}) if note else label

    def _find_label(self, idempotency_key: str) -> Label | None:
        """The label an earlier try bought (its answer was lost), or None."""
        try:
            shipment = self._call("GET", f"/v1/shipments/external_shipment_id/{idempotency_key}")
        except ProviderRefused as exc:
            if exc.status == 404:
                return None
            raise
        shipment_id = shipment.get("shipment_id")
        if not isinstance(shipment_id, str) or not shipment_id:
            raise BadResponse(
                f"{SERVICE} returned a shipment without shipment_id",
                safe=f"{SERVICE}: shipment without id",
            )
        labels = self._call("GET", "/v1/labels", params={"shipment_id": shipment_id})
        for label in labels.get("labels") or []:
            if (
                isinstance(label, dict)
                and label.get("status") == "completed"
                and not label.get("voided")
            ):
                return self._label(label)
        # The shipment exists but no label was bought for it: buy it for that shipment.
        return self._label(
            self._call(
                "POST",
                f"/v1/labels/shipment/{shipment_id}",
                json={"label_format": "pdf", "label_layout": "4x6", "label_download_type": "url"},
            )
        )

    def _label(self, body: dict[str, Any]) -> Label:
        label_id, tracking = body.get("label_id"), body.get("tracking_number")
        download = body.get("label_download")
        pdf_url = (
            (download.get("pdf") or download.get("href")) if isinstance(download, dict) else None
        )
        if not (isinstance(label_id, str) and label_id and isinstance(pdf_url, str) and pdf_url):
            raise BadResponse(
                f"{SERVICE} answered without a label id or a PDF link: {str(body)[:200]}",
                safe=f"{SERVICE}: label without id or PDF",
            )
        return Label(
            label_id=label_id,
            tracking_number=str(tracking or "")[:80],
            carrier=str(body.get("carrier_code") or "")[:40],
            pdf=self._download(pdf_url),
            **_shipment_cost(body),
        )

    def _download(self, url: str) -> bytes:
        # Our key goes only to ShipEngine itself, never to another host named in an answer.
        same_host = urlsplit(url).netloc == urlsplit(self.base_url).netloc
        headers = None if same_host else {"API-Key": None}  # None drops the session's header
        response = call(
            self.session,
            "GET",
            url,
            service=SERVICE,
            timeout=self.timeout,
            refusal=_refusal,
            headers=headers,
        )
        if not response.content.startswith(b"%PDF"):
            raise BadResponse(
                f"{SERVICE}'s label link did not return a PDF",
                safe=f"{SERVICE}: label download is not a PDF",
            )
        return response.content

    def void_label(self, label_id: str) -> None:
        body = self._call("PUT", f"/v1/labels/{label_id}/void")
        if body.get("approved") is True or body.get("reason_code") == "label_already_voided":
            return
        if body.get("approved") is False:
            reason = body.get("message") or body.get("reason_code") or "no reason"
            raise ProviderRefused(
                f"{SERVICE} did not void label {label_id}: {reason}",
                safe=f"{SERVICE}: void not approved",
            )
        raise BadResponse(
            f"{SERVICE} answered the void without saying whether it was approved",
            safe=f"{SERVICE}: void answer without approved",
        )

    def track(self, label_id: str) -> Tracking | None:
        body = self._call("GET", f"/v1/labels/{label_id}/track")
        code = body.get("status_code")
        if not isinstance(code, str) or not code:
            raise BadResponse(
                f"{SERVICE} answered tracking without a status_code",
                safe=f"{SERVICE}: tracking without status_code",
            )
        events = [e for e in body.get("events") or [] if isinstance(e, dict)]
        # Carriers list events in any order: the newest by its time is where the parcel is.
        events.sort(key=_occurred, reverse=True)
        latest = events[0] if events else {}
        place = ", ".join(
            str(latest[k]) for k in ("city_locality", "state_province") if latest.get(k)
        )
        words = [str(body.get("status_description") or code)]
        if latest.get("description"):
            words.append(f"{latest['description']}" + (f" ({place})" if place else ""))
        elif body.get("carrier_status_description"):
            words.append(str(body["carrier_status_description"]))
        return Tracking(status_code=code[:4], description=": ".join(words)[:300])

    def label_readiness(self) -> str:
        """What `check_integrations` says when labels can be bought; ProviderRefused if not."""
        _, how = self.label_carrier(verify=True)
        return how

    def carriers(self) -> list[dict[str, Any]]:
        """The carrier accounts behind the key (`GET /v1/carriers`): proves the key works."""
        return self._call("GET", "/v1/carriers").get("carriers") or []


# The carrier chosen from GET /v1/carriers, per key and configuration: asked once per process.
_CARRIER_PICKS: dict[tuple[str, str, str], tuple[str, str]] = {}


def _shipment_cost(body: dict[str, Any]) -> dict[str, Any]:
    """ShipEngine's `shipment_cost` ({currency, amount}) as our label's cost, or nothing."""
    cost = body.get("shipment_cost")
    amount = cost.get("amount") if isinstance(cost, dict) else None
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        return {}
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return {}
    if not value.is_finite() or value < 0:
        return {}
    currency = cost.get("currency")
    return {
        "cost": value,
        "cost_currency": currency.upper()[:3] if isinstance(currency, str) else "",
    }


def _occurred(event: dict[str, Any]) -> datetime:
    text = str(event.get("occurred_at") or event.get("carrier_occurred_at") or "")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)  # an event without a time sorts last
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _sample_pdf(trade_in: TradeIn, tracking: str, *, to_buyer: bool = False) -> bytes:
    pdf = FPDF(unit="mm", format=(101.6, 152.4))  # a 4x6 inch label
    pdf.set_title("SAMPLE shipping label - not valid for carriage")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 40)
    pdf.set_text_color(200, 0, 0)
    pdf.cell(0, 16, "SAMPLE", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(
        0, 6, "NOT A REAL SHIPPING LABEL - demo provider", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    buyer = [trade_in.buyer_name, *trade_in.address_lines]
    shop = [settings.SITE_NAME, settings.SHOP_ADDRESS]
    for heading, lines in [
        ("FROM", shop if to_buyer else buyer),
        ("TO", buyer if to_buyer else shop),
    ]:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for line in lines:
            pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, f"Ref {trade_in.reference}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"Tracking {tracking}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The built-in PDF fonts are Latin-1; a name in another script still prints legibly enough.
    return text.encode("latin-1", "replace").decode("latin-1")


def get_provider() -> ShippingProvider:
    if settings.SHIPENGINE_API_KEY:
        return ShipEngineProvider(
            api_key=settings.SHIPENGINE_API_KEY,
            base_url=settings.SHIPENGINE_BASE_URL,
            carrier_id=settings.SHIPENGINE_CARRIER_ID,
            service_code=settings.SHIPENGINE_SERVICE_CODE,
            timeout=settings.SHIPENGINE_TIMEOUT,
            return_labels=settings.SHIPENGINE_RETURN_LABELS,
        )
    return SampleShippingProvider()
