"""The outbox runner: claim a due row, run its handler once, record the outcome."""

from __future__ import annotations

import logging
import math
import multiprocessing
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from workflows.actions.outbox import side_effect_claim, side_effect_failed, side_effect_succeeded
from workflows.integrations.http import IntegrationError, ProviderRefused
from workflows.models import SideEffect, SideEffectStatus
from workflows.tasks.handlers import GIVE_UP, HANDLERS

log = logging.getLogger("workflows")

# A claimed row is not picked up by anybody else for this long (a crashed worker's row
# becomes due again after it). Longer than django-q2's task timeout (a check says so).
LEASE = timedelta(minutes=5)

# Set when the cluster was asked to stop (workflows' qcluster command, on SIGTERM). Made
# before django-q2 forks its workers, so they all see it: a worker finishes the side effect
# it is in and leaves the rest of its batch pending, for the sweep after the restart.
STOPPING = multiprocessing.get_context("fork").Event()


def _batch_over(started: float) -> bool:
    """Stop a batch early when the cluster stops, or when half the task's time is gone: the
    rest stays due for the sweep, so no batch is killed by django-q2's task timeout."""
    return STOPPING.is_set() or time.monotonic() - started > settings.Q_CLUSTER["timeout"] / 2


def _describe(effect: SideEffect) -> str:
    template = effect.payload.get("template")
    return f"{effect.kind} ({template})" if template else effect.kind


def run_side_effects(side_effect_ids: list[int]) -> list[str]:
    """The task an action's commit queues: its outbox rows, in the order they were written."""
    started, done = time.monotonic(), []
    for pk in side_effect_ids:
        if _batch_over(started):
            done.append("left for the sweep: the worker is stopping or out of time")
            break
        done.append(run_side_effect(pk))
    return done


def run_side_effect(side_effect_id: int) -> str:
    """Claim one due outbox row and do its work once. Safe to call twice at once."""
    effect = side_effect_claim(side_effect_id=side_effect_id, lease_until=timezone.now() + LEASE)
    if effect is None:
        return "not due"
    try:
        note = HANDLERS[effect.kind](effect)
    except Exception as exc:  # any failure of an outside system: record it and retry later
        return _record_failure(effect, exc)
    side_effect_succeeded(effect=effect, note=note)
    return note


def _record_failure(effect: SideEffect, exc: Exception) -> str:
    error = f"{exc}" if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
    error = error[:2000]
    backoff = settings.SIDE_EFFECT_BACKOFF
    refused = isinstance(exc, ProviderRefused)
    give_up = refused or effect.attempts >= settings.SIDE_EFFECT_MAX_ATTEMPTS
    retry_at = None
    if give_up:
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
        retry_at = timezone.now() + timedelta(seconds=delay)
        outcome = f"retrying in {delay} s"
    # The key and a short reason without personal data (no addresses, no emails) for the log.
    log.warning(
        "side effect %s failed (attempt %s): %s; %s",
        effect.key,
        effect.attempts,
        getattr(exc, "safe", type(exc).__name__),
        outcome,
    )
    side_effect_failed(
        effect=effect,
        error=error,
        give_up=give_up,
        retry_at=retry_at,
        note=f"{_describe(effect)} failed (attempt {effect.attempts}): {error}; {outcome}",
    )
    if give_up and effect.kind in GIVE_UP:
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
    started, ran = time.monotonic(), 0
    for pk in due:
        if _batch_over(started):
            break
        run_side_effect(pk)
        ran += 1
    return ran
