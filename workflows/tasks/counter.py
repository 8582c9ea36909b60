"""The counter asks the IMEI service while the customer waits, and sweeps what was left."""

from __future__ import annotations

from django.conf import settings

from workflows.actions._common import SYSTEM
from workflows.errors import DomainError
from workflows.models import SideEffect, SideEffectKind, SideEffectStatus, TradeIn
from workflows.tasks.outbox import run_side_effect


def check_imei_now(trade_in: TradeIn) -> None:
    """Run the trade-in's pending IMEI check here and now, through the outbox row the start
    action wrote (the same handler, blocklist, cache and timeline row as a submission's, with
    the counter's short timeout). Outside any transaction: the service must not hold a lock.
    A worker that claimed it first, or a timeout, leaves it pending: the page offers a retry."""
    pending = SideEffect.objects.filter(
        trade_in=trade_in, kind=SideEffectKind.CHECK_IMEI, status=SideEffectStatus.PENDING
    ).values_list("pk", flat=True)
    for pk in pending:
        run_side_effect(pk)


def abandon_stale_counter_buybacks() -> int:
    """Counter buybacks nobody finished within COUNTER_ABANDON_MINUTES end as abandoned."""
    from workflows.actions.counter_buyback import counter_buyback_abandon, stale_counter_buybacks

    done = 0
    for buyback in stale_counter_buybacks(settings.COUNTER_ABANDON_MINUTES):
        try:
            counter_buyback_abandon(buyback=buyback, actor=SYSTEM)
        except DomainError:
            continue  # moved on meanwhile (the customer signed)
        done += 1
    return done
