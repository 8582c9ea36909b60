"""The police report's rows and file, and its delivery to a folder or an HTTP endpoint.

One row per purchase (a trade-in whose device the shop received and still counts as bought:
not returned to its seller): the seller's name, address, ID (its current version) and date of
birth; the device's make, model, IMEI and grade; the amount owed; the date and time. A purchase
that changed after its report (returned to the seller, another amount) gets a "correction" row
in the next batch saying what changed. A batch's rows are written once
(workflows.models.PoliceReportRow); the file is built from them. The ID number is decrypted
here only, and each row read is on the ID audit trail.
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
from workflows.formatting import neutralise
from workflows.integrations.http import BadResponse, call, json_object
from workflows.models import (
    PoliceReport,
    PoliceReportRow,
    PoliceRowKind,
    SellerIdentity,
    TradeIn,
)
from workflows.rules import compliance
from workflows.storage import police_report_storage, where

COLUMNS = [
    "row_type",
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
    "change",
    # The order (the buyer's box) the device came in: a row per device, each with its order.
    # Last, so the columns the receiving system already reads stay where they were.
    "order",
]


def _safe(value: object) -> str:
    """A spreadsheet must not run a cell as a formula (a seller's name "=HYPERLINK(...)", also
    after spaces or in full-width "＝"): the exports' rule (workflows.formatting.neutralise)."""
    return str(neutralise("" if value is None else str(value)))


def purchases(queryset: QuerySet[TradeIn]) -> QuerySet[TradeIn]:
    # The seller's ID is the order's: every version of it, for every row, in two queries.
    return (
        compliance.order_identities(
            queryset.select_related("product__device_model__make", "payout", "unit", "order")
        )
        .prefetch_related("declarations")
        .order_by("received_at", "pk")
    )


def day_purchases(day: date) -> QuerySet[TradeIn]:
    """The purchases of one day in the shop's time zone (the daily export): received that day
    and not gone back to the seller."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = start + timedelta(days=1)
    return purchases(
        TradeIn.objects.filter(
            received_at__gte=start, received_at__lt=end, state__in=compliance.BOUGHT_STATES
        )
    )


@dataclass(frozen=True)
class Line:
    """One row to write: the trade-in, and what the report says of it."""

    trade_in: TradeIn
    kind: str
    purchase: compliance.Purchase
    change: str = ""


def day_lines(day: date) -> list[Line]:
    return [Line(t, PoliceRowKind.PURCHASE, compliance.purchase_now(t)) for t in day_purchases(day)]


def report_lines(report: PoliceReport) -> list[Line]:
    """A batch's rows, as written when it was made."""
    stored = list(PoliceReportRow.objects.filter(report=report).order_by("pk"))
    by_pk = purchases(TradeIn.objects.filter(pk__in=[r.trade_in_id for r in stored])).in_bulk()
    return [
        Line(
            by_pk[r.trade_in_id],
            r.kind,
            compliance.Purchase(r.bought, r.amount, r.currency, r.grade, r.id_version),
            r.change,
        )
        for r in stored
    ]


def rows(lines: Iterable[Line]) -> tuple[list[list[str]], list[tuple[TradeIn, SellerIdentity]]]:
    """The report's rows, and the seller IDs whose whole number they show, each with the device
    of its row (an order's one ID is in the row of each of its devices). Reading only: the
    action that hands the rows to somebody writes those to the audit trail
    (workflows.actions.compliance)."""
    out, shown = [], []
    for line in lines:
        t, bought = line.trade_in, line.purchase
        # The order's current ID (prefetched by `purchases`), unless erased.
        identity = compliance.identity_of(t)
        number = crypto.decrypt(identity.id_number_encrypted) if identity else ""
        if identity is not None:
            shown.append((t, identity))
        # The ID's date of birth, else the one declared with the offer (where it is asked).
        born = identity.birth_date if identity else None
        born = born or next((d.birth_date for d in t.declarations.all() if d.birth_date), None)
        model = t.product.device_model
        out.append(
            [
                _safe(v)
                for v in (
                    line.kind,
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
                    bought.grade,
                    f"{bought.amount:.2f}" if bought.amount is not None else "",
                    bought.currency or settings.CURRENCY,
                    line.change,
                    t.order.reference,
                )
            ]
        )
    return out, shown


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
