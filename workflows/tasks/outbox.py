"""The outbox runner: claim a due row, run its handler once, record the outcome."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from workflows.actions import trade_in_auto_quote
from workflows.actions._common import SYSTEM, record_event
from workflows.integrations.http import IntegrationError, ProviderRefused
from workflows.models import OUTCOME, SideEffect, SideEffectKind, SideEffectStatus
from workflows.tasks.handlers import GIVE_UP, HANDLERS

log = logging.getLogger("workflows")

# A claimed row is not picked up by anybody else for this long (a crashed worker's row
# becomes due again after it).
LEASE = timedelta(minutes=5)


def _after_imei_check(effect: SideEffect) -> None:
    # A clean check may be all a submission needs: the manager's quoting policy decides. Only
    # the latest check counts (an older one answering late must not quote).
    latest = effect.trade_in.latest_imei_check()
    if latest is not None and latest.pk == effect.payload["check_id"]:
        trade_in_auto_quote(trade_in=effect.trade_in)


# What follows a success, once it is on the timeline.
AFTER: dict[str, Callable[[SideEffect], None]] = {
    SideEffectKind.CHECK_IMEI: _after_imei_check,
}


def _describe(effect: SideEffect) -> str:
    template = effect.payload.get("template")
    return f"{effect.kind} ({template})" if template else effect.kind


def run_side_effects(side_effect_ids: list[int]) -> list[str]:
    """The task an action's commit queues: its outbox rows, in the order they were written."""
    return [run_side_effect(pk) for pk in side_effect_ids]


def run_side_effect(side_effect_id: int) -> str:
    """Claim one due outbox row and do its work once. Safe to call twice at once."""
    now = timezone.now()
    claimed = SideEffect.objects.filter(
        pk=side_effect_id, status=SideEffectStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return "not due"
    effect = SideEffect.objects.select_related("trade_in").get(pk=side_effect_id)
    try:
        note = HANDLERS[effect.kind](effect)
    except Exception as exc:  # any failure of an outside system: record it and retry later
        return _record_failure(effect, exc)
    effect.status = SideEffectStatus.DONE
    effect.done_at = timezone.now()
    effect.last_error = ""
    effect.save(update_fields=["status", "done_at", "last_error"])
    if effect.trade_in_id:
        record_event(effect.trade_in, kind=OUTCOME[effect.kind], actor=SYSTEM, note=note)
    if effect.kind in AFTER:
        AFTER[effect.kind](effect)
    return note


def _record_failure(effect: SideEffect, exc: Exception) -> str:
    error = f"{exc}" if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
    error = error[:2000]
    backoff = settings.SIDE_EFFECT_BACKOFF
    refused = isinstance(exc, ProviderRefused)
    if refused or effect.attempts >= settings.SIDE_EFFECT_MAX_ATTEMPTS:
        effect.status = SideEffectStatus.FAILED
        outcome = (
            "not retried: the service refused; fix the cause, then retry"
            if refused
            else "gave up; retry it from the side effects list"
        )
    else:
        delay = backoff[min(effect.attempts - 1, len(backoff) - 1)]
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:  # the service said when: never sooner
            delay = max(delay, math.ceil(retry_after))
        effect.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        outcome = f"retrying in {delay} s"
    effect.last_error = error
    effect.save(update_fields=["status", "next_attempt_at", "last_error"])
    # The key and a short reason without personal data (no addresses, no emails) for the log.
    log.warning(
        "side effect %s failed (attempt %s): %s; %s",
        effect.key,
        effect.attempts,
        getattr(exc, "safe", type(exc).__name__),
        outcome,
    )
    if effect.trade_in_id:
        record_event(
            effect.trade_in,
            kind=OUTCOME[effect.kind],
            actor=SYSTEM,
            is_failure=True,
            note=f"{_describe(effect)} failed (attempt {effect.attempts}): {error}; {outcome}",
        )
    if effect.status == SideEffectStatus.FAILED and effect.kind in GIVE_UP:
        GIVE_UP[effect.kind](effect, error)
    return f"failed: {error}"


# --- the periodic sweep (scheduled by migration 0002) ------------------------------------------
def run_due_side_effects(limit: int = 200) -> int:
    """Run pending outbox rows whose time has come: retries, and any whose enqueue was lost."""
    due = list(
        SideEffect.objects.filter(
            status=SideEffectStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        run_side_effect(pk)
    return len(due)
