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

    For now the buyer's contact, address, ship or drop-off and payout method stay on each
    TradeIn: the basket writes the same values onto every device of the order. Next step:
    move what belongs to the person and the box (buyer, contact, address, fulfilment, payout
    method, label, declaration, seller ID, payout) onto the order, once its readers
    (compliance, anonymisation, exports, the counter) read it from here. The seller ID is
    already read per order (its rows stay on the device it was given from:
    workflows.rules.compliance.current_identity).
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
