"""The outbox's own bookkeeping, and staff retrying what gave up.

The runner (workflows.tasks.outbox) claims a row, runs its handler outside any transaction
(an outside call must not hold a lock), then reports here how it went.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from workflows.actions._common import (
    SYSTEM,
    Actor,
    Operation,
    _requeue,
    authorize,
    record_event,
)
from workflows.models import OUTCOME, EventKind, SideEffect, SideEffectStatus


def side_effect_claim(*, side_effect_id: int, lease_until: datetime) -> SideEffect | None:
    """Take a due row for one attempt; None when it is not due (done, leased, or waiting).

    One conditional UPDATE: two workers claiming the same row at once, one gets it.
    """
    now = timezone.now()
    claimed = SideEffect.objects.filter(
        pk=side_effect_id, status=SideEffectStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease_until, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return SideEffect.objects.select_related("trade_in").get(pk=side_effect_id)


def side_effect_remember(*, effect: SideEffect, **payload: str) -> None:
    """Keep what the next attempt needs (e.g. the id of a check the service is still running)."""
    effect.payload.update(payload)
    SideEffect.objects.filter(pk=effect.pk).update(payload=effect.payload)


@transaction.atomic(durable=True)
def side_effect_succeeded(*, effect: SideEffect, note: str) -> None:
    SideEffect.objects.filter(pk=effect.pk).update(
        status=SideEffectStatus.DONE, done_at=timezone.now(), last_error=""
    )
    if effect.trade_in_id:
        record_event(effect.trade_in, kind=OUTCOME[effect.kind], actor=SYSTEM, note=note)


@transaction.atomic(durable=True)
def side_effect_failed(
    *, effect: SideEffect, error: str, give_up: bool, retry_at: datetime | None, note: str
) -> None:
    """An attempt failed: wait until `retry_at`, or (give_up) stop until staff retry it."""
    update = {"last_error": error}
    if give_up:
        update["status"] = SideEffectStatus.FAILED
    else:
        update["next_attempt_at"] = retry_at
    SideEffect.objects.filter(pk=effect.pk).update(**update)
    for name, value in update.items():
        setattr(effect, name, value)
    if effect.trade_in_id:
        record_event(
            effect.trade_in, kind=OUTCOME[effect.kind], actor=SYSTEM, is_failure=True, note=note
        )


@transaction.atomic(durable=True)
def side_effect_retry(*, effects: Iterable[SideEffect], actor: Actor) -> list[int]:
    """Staff ask for rows that failed (or wait for their backoff) to be tried again now.
    Returns the ids queued again; rows already done are left alone."""
    authorize(actor, Operation.RETRY_SIDE_EFFECT)
    queued = _requeue(effects)
    for effect in SideEffect.objects.filter(pk__in=queued, trade_in__isnull=False).select_related(
        "trade_in"
    ):
        record_event(
            effect.trade_in,
            kind=EventKind.SIDE_EFFECT_RETRIED,
            actor=actor,
            note=f"{effect.get_kind_display()} queued again",
        )
    return queued
