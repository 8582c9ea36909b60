from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from workflows.models.inventory import Unit
from workflows.models.shipping import ShippingLabel
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


class ShipBackStatus(models.TextChoices):
    TO_PACK = "to_pack", _("To pack")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COLLECTED = "collected", _("Collected at the counter")


# Still in the shop or on its way: what the "To ship back" list and its counts show.
SHIP_BACK_OPEN = [ShipBackStatus.TO_PACK, ShipBackStatus.PACKED, ShipBackStatus.SHIPPED]


def _ships(ship_back: ShipBack) -> bool:
    return not ship_back.counter_pickup


def _is_pickup(ship_back: ShipBack) -> bool:
    return ship_back.counter_pickup


class ShipBack(FSMModelMixin, models.Model):
    """A device that must leave the shop for its buyer (a revised offer declined or lapsed to
    "return", a return case resolved as returned), from the moment it is due back until the
    carrier confirms delivery or the buyer collects it at the counter."""

    trade_in = models.OneToOneField(
        TradeIn, verbose_name="trade-in", on_delete=models.PROTECT, related_name="ship_back"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="ship_backs")
    # The buyer chose drop-off: they collect it at the counter, no label.
    counter_pickup = models.BooleanField(default=False)
    status = FSMField(
        default=ShipBackStatus.TO_PACK, choices=ShipBackStatus.choices, protected=True
    )
    # The return label the carrier sold us (set when it is made; empty for a counter pickup).
    label = models.ForeignKey(
        ShippingLabel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tracking_number = models.CharField(max_length=80, blank=True)
    carrier = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shipped_at = models.DateTimeField(null=True, blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_note = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "device to ship back"
        verbose_name_plural = "to ship back"
        indexes = [models.Index(fields=["status", "created_at"], name="shipback_status_idx")]

    def __str__(self) -> str:
        return f"{self.trade_in} back to the buyer"

    @property
    def is_open(self) -> bool:
        return self.status in SHIP_BACK_OPEN

    @transition(field=status, source=ShipBackStatus.TO_PACK, target=ShipBackStatus.PACKED)
    def pack(self) -> None:
        self.packed_at = timezone.now()

    @transition(
        field=status,
        source=ShipBackStatus.PACKED,
        target=ShipBackStatus.SHIPPED,
        conditions=[_ships],
    )
    def ship(self) -> None:
        self.shipped_at = timezone.now()

    @transition(field=status, source=ShipBackStatus.SHIPPED, target=ShipBackStatus.DELIVERED)
    def deliver(self) -> None:
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=[ShipBackStatus.TO_PACK, ShipBackStatus.PACKED],
        target=ShipBackStatus.COLLECTED,
        conditions=[_is_pickup],
    )
    def collect(self) -> None:
        self.closed_at = timezone.now()
