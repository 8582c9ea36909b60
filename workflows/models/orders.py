"""Orders: what one buyer sends in one box (issue 20, "several devices in one trade-in")."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Order(models.Model):
    """One submission: one or more devices (`devices`, each a TradeIn with its own lifecycle),
    under one reference the buyer can read over the phone ("TI-000123").

    A one-device order is today's trade-in: its device carries the order's reference unchanged.
    The devices of a larger order are numbered "TI-000123-1", "TI-000123-2", ...
    (workflows.rules.references).

    What belongs to the box is done once per order: one offer email and page, one label (kept
    on the first accepted device), one purchase receipt, one payout (each device's Payout is
    its line; settling pays every owed line of the order together under one reference:
    workflows.actions._lifecycle._lock_for_settling), one seller ID (its rows stay on the
    device it was given from: workflows.rules.compliance.current_identity).

    The buyer's contact, address, ship or drop-off and payout method are still stored on each
    TradeIn: the basket writes the same values onto every device of the order, and a change
    of payout details is applied to the order's devices together. Next step: move them here,
    once their readers (compliance, anonymisation, exports, the counter) read them from here.
    """

    reference = models.CharField(max_length=20, unique=True, editable=False)
    # The buyer form's one-time key: a double tap on Submit posts it twice, we keep one order.
    submission_key = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "order"
        verbose_name_plural = "orders"

    def __str__(self) -> str:
        return self.reference or f"Order #{self.pk}"
