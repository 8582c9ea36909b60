from __future__ import annotations

from django.db import models
from django.utils import timezone

from workflows.models.tradeins import TradeIn
from workflows.models.vocabulary import SideEffectKind


class SideEffectStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Gave up"


class SideEffect(models.Model):
    """A transactional outbox row: the work an action promised to do after it commits.

    The action writes the row in its own transaction, so a crash between commit and enqueue
    loses nothing: the periodic sweep picks up any row that is still pending. The key makes
    the work idempotent; an outside call that supports it (Stripe) gets the key too.
    """

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=40, choices=SideEffectKind.choices)
    trade_in = models.ForeignKey(
        TradeIn,
        verbose_name="trade-in",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="side_effects",
    )
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=SideEffectStatus.choices, default=SideEffectStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="sideeffect_due_idx"),
        ]

    def __str__(self) -> str:
        return self.key
