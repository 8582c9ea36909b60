from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflows.models.catalog import Product
from workflows.models.tradeins import TradeIn


class UnitStatus(models.TextChoices):
    RECEIVED = "received", _("Received (awaiting arrival or grading)")
    GRADED = "graded", _("Graded, sellable")
    RETURNS = "returns", _("In returns")
    VOID = "void", _("Void (never arrived)")


# Units that count towards Product.stock.
STOCKED_STATUSES = [UnitStatus.RECEIVED, UnitStatus.GRADED]


class Grade(models.TextChoices):
    A = "A", _("A: like new, no visible wear")
    B = "B", _("B: light wear, fully working")
    C = "C", _("C: visible wear or minor faults")
    D = "D", _("D: heavy wear or faults, parts or repair")


class Unit(models.Model):
    """One serialized device in inventory."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="units")
    imei = models.CharField("IMEI", max_length=15, db_index=True)
    status = models.CharField(max_length=10, choices=UnitStatus.choices, db_index=True)
    grade = models.CharField(max_length=1, choices=Grade.choices, blank=True)
    trade_in = models.OneToOneField(
        TradeIn,
        verbose_name="trade-in",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="unit",
    )
    as_found = models.JSONField(default=dict, blank=True)
    intake_notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One device, one unit in stock: no race between two acceptances (or two benches)
            # can put the same IMEI on the shelf twice. A unit that left stock frees its IMEI.
            models.UniqueConstraint(
                fields=["imei"],
                condition=models.Q(status__in=STOCKED_STATUSES),
                name="unit_imei_stocked_once",
                violation_error_message=_("A unit with this IMEI is already in stock."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.product} · {self.imei}"
