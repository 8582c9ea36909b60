"""Plumbing shared by the actions: who acted, the timeline, and the outbox."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from workflows.models import Event, EventKind, SideEffect, SideEffectKind, SideEffectStatus, TradeIn
from workflows.rules.permissions import AUTO_QUOTE, BUYER, SYSTEM, Actor, Operation, authorize

log = logging.getLogger("workflows")

__all__ = [
    "AUTO_QUOTE",
    "BUYER",
    "SYSTEM",
    "Actor",
    "Operation",
    "authorize",
    "record_event",
    "schedule",
]


def record_event(
    trade_in: TradeIn,
    *,
    kind: EventKind,
    actor: Actor,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    is_failure: bool = False,
) -> Event:
    event = event_row(
        trade_in,
        kind=kind,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        note=note,
        is_failure=is_failure,
    )
    event.save(force_insert=True)
    return event


def event_row(
    trade_in: TradeIn,
    *,
    kind: EventKind,
    actor: Actor,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    is_failure: bool = False,
) -> Event:
    """A timeline row not yet written: `record_event` writes one, bulk writers many at once."""
    user = None if isinstance(actor, str) else actor
    return Event(
        trade_in=trade_in,
        actor=user,
        actor_label=actor if isinstance(actor, str) else "",
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=note,
        is_failure=is_failure,
    )


def schedule(
    kind: SideEffectKind, *, key: str, trade_in: TradeIn | None, **payload: Any
) -> SideEffect:
    """Write an outbox row in the current transaction and run it once that commits.

    The key is deterministic per operation, so scheduling the same work twice does it once.
    """
    try:
        with transaction.atomic():
            effect = SideEffect.objects.create(
                key=key, kind=kind, trade_in=trade_in, payload=payload
            )
    except IntegrityError:
        return SideEffect.objects.get(key=key)
    run_after_commit(effect.pk)
    return effect


_pending = threading.local()


def run_after_commit(side_effect_id: int) -> None:
    """Hand the row to the task queue once the current transaction commits.

    Rows written in one transaction share one task: each enqueue is a broker write (with the
    ORM broker, a commit of its own), and a buyer's submission writes several rows. If the
    transaction rolls back, its ids ride along with the next commit's task and find nothing
    to claim; the outbox rows are the truth, the task only wakes a worker.
    """
    ids = getattr(_pending, "ids", None)
    if ids is None:
        ids = _pending.ids = []
    ids.append(side_effect_id)
    transaction.on_commit(_flush)


def _flush() -> None:
    ids, _pending.ids = getattr(_pending, "ids", []), []
    if ids:
        enqueue(*ids)


def enqueue(*side_effect_ids: int) -> None:
    try:
        async_task(
            "workflows.tasks.run_side_effects",
            list(side_effect_ids),
            task_name=f"side-effects-{side_effect_ids[0]}-{len(side_effect_ids)}",
        )
    except Exception:  # the broker is down: the periodic sweep will pick the rows up
        log.exception(
            "could not enqueue side effects %s; the sweep will retry them", side_effect_ids
        )


def _requeue(effects: Iterable[SideEffect]) -> list[int]:
    """Make rows that are not done due now, and run them after the commit.

    The keys stay the same, so an outside call that did go through (Stripe) is replayed by
    the service instead of being made twice.
    """
    ids = [effect.pk for effect in effects]
    rows = list(
        SideEffect.objects.select_for_update()
        .filter(pk__in=ids)
        .exclude(status=SideEffectStatus.DONE)
    )
    SideEffect.objects.filter(pk__in=[row.pk for row in rows]).update(
        status=SideEffectStatus.PENDING, next_attempt_at=timezone.now()
    )
    for row in rows:
        run_after_commit(row.pk)
    return [row.pk for row in rows]


def lock_trade_in(trade_in: TradeIn) -> TradeIn:
    """Re-read the trade-in under a row lock; every action that changes it starts here.

    Two people (or a person and a scheduled task) acting on the same trade-in at once are
    serialized on this lock, and the second one sees the state the first one left.
    """
    return TradeIn.objects.select_for_update().get(pk=trade_in.pk)


def lock_order_devices(trade_in: TradeIn) -> tuple[TradeIn, list[TradeIn]]:
    """Re-read every device of the trade-in's order under a row lock, in pk order: the lock
    order of every action that locks several devices of one order (paying it, changing its
    payout details, its seller ID, erasing its buyer), so two of them never deadlock and the
    second sees what the first left. Returns this device and all of them, in pk order (an
    order of one: the trade-in alone).

    FOR NO KEY UPDATE: these actions still wait for each other and for any action holding one
    device (lock_trade_in), but a row that merely points at a device (an event, a side effect)
    can be written meanwhile. With FOR UPDATE, paying the order (holding its first device,
    waiting for the second) deadlocked with cancelling the second device, which scheduled the
    box label's voiding on the first (tests/test_attacks_order_races.py)."""
    devices = list(
        TradeIn.objects.select_for_update(no_key=True)
        .filter(order_id=trade_in.order_id)
        .order_by("pk")
    )
    return next(device for device in devices if device.pk == trade_in.pk), devices
