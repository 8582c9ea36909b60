"""Scheduled compliance work (django-q2, scheduled by migration 0013): the police report and
the retention sweep. Each talks to the outside (if at all) and then calls an action."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from workflows.actions.compliance import (
    police_report_create,
    police_report_delivered,
    police_report_failed,
    police_report_render,
    trade_in_anonymise_expired,
)
from workflows.documents import police_report
from workflows.errors import DomainError
from workflows.models import PoliceReport, PoliceReportStatus, SideEffect
from workflows.rules import compliance

log = logging.getLogger("workflows")


def send_police_reports() -> int:
    """Put the purchases received since the last report into a new one (delivered by the
    outbox, retried with backoff). Returns the number of purchases in it."""
    if settings.POLICE_REPORT == "off":
        return 0
    # A batch goes once its oldest purchase (or change to a reported one) has waited
    # POLICE_REPORT_EVERY_HOURS: each is reported within that time (plus one run of this
    # schedule), in as few files as that.
    waited = timezone.now() - timedelta(hours=settings.POLICE_REPORT_EVERY_HOURS)
    oldest = compliance.purchases_due_for_report().order_by("received_at").first()
    if oldest is None or oldest.received_at > waited:
        changed = compliance.correction_candidates().filter(updated_at__lte=waited)
        if not any(compliance.police_correction(t) for t in changed.order_by("pk")[:200]):
            return 0
    report = police_report_create()
    return report.rows if report else 0


def handle_police_report(effect: SideEffect) -> str:
    """The outbox handler: build the file from the database now, deliver it, stamp it."""
    report = PoliceReport.objects.get(pk=effect.payload["report_id"])
    if report.status == PoliceReportStatus.SENT:
        return f"Police report {report.filename} was already delivered"
    content, row_count = police_report_render(report=report)
    try:
        delivered = police_report.deliver(
            report.filename, content, row_count=row_count, key=effect.key.replace(":", "-")
        )
    except Exception as exc:
        police_report_failed(report=report, error=str(exc), gave_up=False)
        raise
    police_report_delivered(report=report, sha256=delivered.sha256)
    log.info("police report %s delivered: %s rows", report.filename, row_count)
    return f"Police report {report.filename}: {row_count} purchases delivered to {delivered.where}"


def give_up_police_report(effect: SideEffect, error: str) -> None:
    report = PoliceReport.objects.get(pk=effect.payload["report_id"])
    police_report_failed(report=report, error=error, gave_up=True)


def anonymise_expired_records(limit: int = 500) -> int:
    """After the retention period: the buyer's personal data goes, the money rows stay.

    The personal data is the order's: an order is anonymised, all its devices at once, when
    every device may be (compliance.retention_refusal), and tried once per run. One that must
    still be kept (compliance.erasure_blocker on any of its devices: money owed, a police
    report not delivered, a hold running, an open return) is skipped, counted and logged; the
    dashboard shows how many wait and why. Returns the number of orders anonymised (at most
    `limit`; the kept ones do not use up the limit, so they never stop the others)."""
    count, skipped = 0, Counter()
    candidates = compliance.past_retention().select_related("payout", "unit").order_by("pk")
    tried: set[int] = set()  # orders: one order's devices are anonymised, or kept, together
    for trade_in in candidates.iterator(chunk_size=200):
        if count >= limit:
            break
        if trade_in.order_id in tried or timezone.now() < compliance.retention_ends(trade_in):
            continue
        tried.add(trade_in.order_id)
        blocker = compliance.retention_refusal(trade_in)
        if blocker is not None:
            skipped[blocker.kind.label] += 1
            continue
        try:
            trade_in_anonymise_expired(trade_in=trade_in)
            count += 1
        except DomainError:  # changed a moment ago (the action asks the same predicate)
            skipped["changed meanwhile"] += 1
    if skipped:
        log.info(
            "retention: %s anonymised, %s kept past retention (%s)",
            count,
            sum(skipped.values()),
            ", ".join(f"{n} {why}" for why, n in skipped.most_common()),
        )
    return count
