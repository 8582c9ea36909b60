from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from workflows.models.inventory import Unit
from workflows.models.tradeins import TradeIn


class ReturnStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")
    REJECTED = "rejected", _("Rejected")


class Resolution(models.TextChoices):
    RETURNED = "returned", _("Returned to buyer")
    REVISED_OFFER = "revised_offer", _("Revised offer accepted")
    RECYCLED = "recycled", _("Recycled")


class ReturnCase(FSMModelMixin, models.Model):
    """A received device that was damaged beyond what the buyer disclosed."""

    trade_in = models.OneToOneField(
        TradeIn, verbose_name="trade-in", on_delete=models.PROTECT, related_name="return_case"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="return_cases")
    status = FSMField(default=ReturnStatus.OPEN, choices=ReturnStatus.choices, protected=True)
    reason = models.TextField()
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Return for {self.trade_in}"

    @transition(field=status, source=ReturnStatus.OPEN, target=ReturnStatus.RESOLVED)
    def resolve(self) -> None:
        self.closed_at = timezone.now()

    @transition(field=status, source=ReturnStatus.OPEN, target=ReturnStatus.REJECTED)
    def reject(self) -> None:
        self.closed_at = timezone.now()
