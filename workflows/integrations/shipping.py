"""Shipping labels: the buyer's prepaid label to send the device to the shop's warehouse.

`get_provider()` returns ShipEngine when `SHIPENGINE_API_KEY` is set, else the sample provider
of the embedded demo, which draws a PDF marked SAMPLE and involves no carrier.

ShipEngine (https://shipengine.github.io/shipengine-openapi/), `API-Key` header:
- `POST /v1/labels` buys a label: ship-from is the buyer, ship-to the warehouse, the weight
  comes from the device model; inside the warehouse's country it is a return label, which
  carriers that support it charge only when it is used.
- `PUT /v1/labels/{id}/void` voids it (`{"approved": bool, "message": ...}`).
- `GET /v1/labels/{id}/track` says where the parcel is (`status_code` UN/AC/IT/DE/EX/AT/NY).
- Errors are `{"request_id", "errors": [{"error_source", "error_type", "error_code", "message"}]}`.
ShipEngine has no idempotency key, so each label carries ours as `external_shipment_id`; a
retry after a lost answer looks that shipment up and reuses its label instead of buying two.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from fpdf import FPDF

from workflows.integrations.http import BadResponse, ProviderRefused, call, json_object
from workflows.models import TradeIn


@dataclass(frozen=True)
class Label:
    label_id: str
    tracking_number: str
    carrier: str
    pdf: bytes


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
    ) -> Label:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
        tracking = f"SAMPLE{digest}"
        return Label(
            label_id=f"sample-{digest.lower()}",
            tracking_number=tracking,
            carrier="sample",
            pdf=_sample_pdf(trade_in, tracking, to_buyer=to_buyer),
        )

    def void_label(self, label_id: str) -> None:
        return None

    def track(self, label_id: str) -> Tracking | None:
        return None  # a sample parcel never moves


SERVICE = "ShipEngine"


def _refusal(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    return "; ".join(
        str(e.get("message", "")).strip() for e in errors if isinstance(e, dict)
    ).strip("; ")


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
        self, trade_in: TradeIn, *, idempotency_key: str, to_buyer: bool = False
    ) -> dict[str, Any]:
        """The buyer's prepaid label to the warehouse, or (to_buyer) the label that sends
        the device back to them, which the shop pays outright."""
        buyer, warehouse = buyer_address(trade_in), warehouse_address()
        shipment: dict[str, Any] = {
            "service_code": self.service_code,
            "external_shipment_id": idempotency_key,
            "ship_from": warehouse if to_buyer else buyer,
            "ship_to": buyer if to_buyer else warehouse,
            "packages": [
                {
                    "weight": {"value": trade_in.product.device_model.weight_grams, "unit": "gram"},
                    "label_messages": {"reference1": trade_in.reference or ""},
                }
            ],
        }
        if self.carrier_id:
            shipment["carrier_id"] = self.carrier_id
        body: dict[str, Any] = {
            "shipment": shipment,
            "label_format": "pdf",
            "label_layout": "4x6",
            "label_download_type": "url",
        }
        # Carriers make return labels only inside one country.
        if not to_buyer and self.return_labels and trade_in.country == settings.WAREHOUSE_COUNTRY:
            body.update(
                is_return_label=True,
                rma_number=trade_in.reference or "",
                charge_event="carrier_default",
            )
        return body

    def create_label(
        self,
        trade_in: TradeIn,
        *,
        idempotency_key: str,
        is_retry: bool = False,
        to_buyer: bool = False,
    ) -> Label:
        if is_retry:
            existing = self._find_label(idempotency_key)
            if existing is not None:
                return existing
        request = self.label_request(trade_in, idempotency_key=idempotency_key, to_buyer=to_buyer)
        body = self._call("POST", "/v1/labels", json=request)
        return self._label(body)

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
        events = body.get("events") if isinstance(body.get("events"), list) else []
        latest = events[0] if events and isinstance(events[0], dict) else {}
        place = ", ".join(
            str(latest[k]) for k in ("city_locality", "state_province") if latest.get(k)
        )
        words = [str(body.get("status_description") or code)]
        if latest.get("description"):
            words.append(f"{latest['description']}" + (f" ({place})" if place else ""))
        elif body.get("carrier_status_description"):
            words.append(str(body["carrier_status_description"]))
        return Tracking(status_code=code[:4], description=": ".join(words)[:300])

    def carriers(self) -> list[dict[str, Any]]:
        """The carrier accounts behind the key (`GET /v1/carriers`): proves the key works."""
        return self._call("GET", "/v1/carriers").get("carriers") or []


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
