"""The police report's rows and file, and its delivery to a folder or an HTTP endpoint.

One row per purchase (a trade-in whose device the shop received): the seller's name, address,
ID and date of birth; the device's make, model, IMEI and grade; the price; the date and time.
The ID number is decrypted here only, and each row read is on the ID audit trail.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import QuerySet
from django.utils import timezone

from workflows import crypto
from workflows.actions._common import Actor
from workflows.integrations.http import BadResponse, call, json_object
from workflows.models import IdNumberAccess, SellerIdentity, TradeIn
from workflows.storage import police_report_storage, where

COLUMNS = [
    "reference",
    "purchased_at",
    "seller_name",
    "address",
    "city",
    "state",
    "postcode",
    "country",
    "id_type",
    "id_number",
    "id_issuer",
    "id_expires",
    "date_of_birth",
    "make",
    "model",
    "storage_gb",
    "imei",
    "grade",
    "price",
    "currency",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> str:
    """A spreadsheet must not run a cell as a formula (a seller's name "=HYPERLINK(...)")."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def purchases(queryset: QuerySet[TradeIn]) -> QuerySet[TradeIn]:
    return (
        queryset.select_related("product__device_model__make", "payout", "unit", "seller_identity")
        .prefetch_related("declarations")
        .order_by("received_at", "pk")
    )


def day_purchases(day: date) -> QuerySet[TradeIn]:
    """The purchases of one day in the shop's time zone (the daily export)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = start + timedelta(days=1)
    return purchases(TradeIn.objects.filter(received_at__gte=start, received_at__lt=end))


def rows(trade_ins: Iterable[TradeIn], *, actor: Actor, purpose: str) -> list[list[str]]:
    """The report's rows; every ID number decrypted is written to the audit trail."""
    out, accesses = [], []
    user = None if isinstance(actor, str) else actor
    for t in trade_ins:
        identity: SellerIdentity | None = getattr(t, "seller_identity", None)
        if identity is not None and identity.anonymised_at:
            identity = None
        number = crypto.decrypt(identity.id_number_encrypted) if identity else ""
        if identity is not None:
            accesses.append(
                IdNumberAccess(
                    identity=identity,
                    actor=user,
                    actor_label=actor if isinstance(actor, str) else "",
                    purpose=purpose[:200],
                )
            )
        payout = getattr(t, "payout", None)
        unit = getattr(t, "unit", None)
        # The ID's date of birth, else the one declared with the offer (where it is asked).
        born = identity.birth_date if identity else None
        born = born or next((d.birth_date for d in t.declarations.all() if d.birth_date), None)
        model = t.product.device_model
        out.append(
            [
                _safe(v)
                for v in (
                    t.reference,
                    timezone.localtime(t.received_at).strftime("%Y-%m-%d %H:%M:%S")
                    if t.received_at
                    else "",
                    t.buyer_name,
                    " ".join(p for p in (t.address_line1, t.address_line2) if p),
                    t.city,
                    t.region,
                    t.postcode,
                    t.country,
                    identity.get_id_type_display() if identity else "",
                    number,
                    identity.issuer if identity else "",
                    identity.expires_on.isoformat() if identity and identity.expires_on else "",
                    born.isoformat() if born else "",
                    model.make.name,
                    model.name,
                    t.product.storage_gb,
                    t.imei,
                    unit.grade if unit else "",
                    f"{payout.amount:.2f}" if payout else "",
                    payout.currency if payout else settings.CURRENCY,
                )
            ]
        )
    IdNumberAccess.objects.bulk_create(accesses)
    return out


def render_csv(data: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(data)
    return buffer.getvalue().encode("utf-8")


# --- delivery ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Delivered:
    sha256: str
    where: str


def deliver(filename: str, content: bytes, *, row_count: int, key: str) -> Delivered:
    """Write the file to the folder, or POST it; raises TemporaryError/ProviderRefused."""
    digest = hashlib.sha256(content).hexdigest()
    if settings.POLICE_REPORT == "folder":
        # The "police_reports" storage: POLICE_REPORT_DIR (written whole, mode 600) or the bucket.
        storage = police_report_storage()
        name = storage.save(filename, ContentFile(content))
        return Delivered(digest, where(storage, name))
    return _post(filename, content, row_count=row_count, key=key, digest=digest)


def _post(filename: str, content: bytes, *, row_count: int, key: str, digest: str) -> Delivered:
    """POST text/csv. The endpoint must answer 2xx with JSON {"received": <rows>}: anything else
    (an HTML page, a count that is not ours) is not a receipt, so we try again later."""
    headers = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Idempotency-Key": key,
        "X-Content-SHA256": digest,
    }
    if settings.POLICE_REPORT_TOKEN:
        headers["Authorization"] = f"Bearer {settings.POLICE_REPORT_TOKEN}"
    with requests.Session() as session:
        response = call(
            session,
            "POST",
            settings.POLICE_REPORT_URL,
            service="Police report endpoint",
            timeout=settings.POLICE_REPORT_TIMEOUT,
            refusal=lambda body: str(body.get("error", "")) if isinstance(body, dict) else "",
            data=content,
            headers=headers,
        )
    body = json_object(response, "Police report endpoint")
    if body.get("received") != row_count:
        raise BadResponse(
            f"Police report endpoint confirmed {body.get('received')!r} rows, we sent "
            f"{row_count}: {str(body)[:200]}",
            safe="Police report endpoint: wrong row count",
            status=response.status_code,
        )
    return Delivered(digest, settings.POLICE_REPORT_URL)
