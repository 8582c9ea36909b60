"""Plumbing shared by the actions: who acted, the timeline, and the outbox."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from workflows.models import Event, SideEffect, TradeIn

log = logging.getLogger("workflows")

BUYER = "buyer"
SYSTEM = "system"
# A staff member, or BUYER / SYSTEM when nobody logged in acted.
Actor = AbstractBaseUser | str


def record_event(
    trade_in: TradeIn,
    *,
    kind: str,
    actor: Actor,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    is_failure: bool = False,
) -> Event:
    user = None if isinstance(actor, str) else actor
    return Event.objects.create(
        trade_in=trade_in,
        actor=user,
        actor_label=actor if isinstance(actor, str) else "",
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=note,
        is_failure=is_failure,
    )


def schedule(kind: str, *, key: str, trade_in: TradeIn | None, **payload: Any) -> SideEffect:
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
    transaction.on_commit(lambda: enqueue(effect.pk))
    return effect


def enqueue(side_effect_id: int) -> None:
    from django_q.tasks import async_task

    try:
        async_task(
            "workflows.tasks.run_side_effect",
            side_effect_id,
            task_name=f"side-effect-{side_effect_id}",
        )
    except Exception:  # the broker is down: the periodic sweep will pick the row up
        log.exception("could not enqueue side effect %s; the sweep will retry it", side_effect_id)


def lock_trade_in(trade_in: TradeIn) -> TradeIn:
    """Re-read the trade-in under a row lock; every action that changes it starts here.

    Two people (or a person and a scheduled task) acting on the same trade-in at once are
    serialized on this lock, and the second one sees the state the first one left.
    """
    return TradeIn.objects.select_for_update().get(pk=trade_in.pk)
