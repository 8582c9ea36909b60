from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflows.models.tradeins import TradeIn

# What a label's page says once anonymisation took its PDF (ShippingLabel.erased).
LABEL_ERASED = _("This label was erased with the buyer's personal data.")


class Direction(models.TextChoices):
    TO_SHOP = "to_shop", "Buyer to shop"
    TO_BUYER = "to_buyer", "Shop to buyer (return)"


class ShippingLabel(models.Model):
    """A label bought from the carrier (to the shop, or a return to the buyer).

    One label per box: an order of several devices gets ONE label to the shop, kept on the
    order's first accepted device (`trade_in`, the lowest position accepted) and weighed for
    every accepted device (workflows.actions.orders, workflows.selectors.order_box_weight).
    The other accepted devices have no label row of their own: the box's label is found
    through the order (workflows.selectors.box_label). No new column, so an order of one keeps
    exactly the label it always had. It is voided only when no device of the box is still on
    its way (workflows.actions.tradeins.trade_in_cancel); its cost is shared, in cents, by the
    units of the devices in the box (workflows.actions._costs).
    """

    trade_in = models.ForeignKey(
        TradeIn, verbose_name="trade-in", on_delete=models.PROTECT, related_name="labels"
    )
    provider = models.CharField(max_length=40)
    # The buyer's prepaid label to us, or the label that sends a device back to the buyer.
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.TO_SHOP
    )
    label_id = models.CharField(max_length=80)
    tracking_number = models.CharField(max_length=80, blank=True)
    carrier = models.CharField(max_length=40, blank=True)
    pdf = models.BinaryField()
    is_sample = models.BooleanField(default=False)
    voided_at = models.DateTimeField(null=True, blank=True)
    # What the carrier charged for it (ShipEngine's shipment_cost; the sample provider's
    # SAMPLE_LABEL_COST). Empty when the carrier did not say. A voided label costs nothing.
    cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    cost_currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The carrier's latest word, polled by workflows.tasks.poll_tracking.
    tracking_status = models.CharField(max_length=4, blank=True)
    tracking_detail = models.CharField(max_length=300, blank=True)
    tracking_updated_at = models.DateTimeField(null=True, blank=True)
    tracking_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        # A unit's label costs, read for every unit a report sums (index-only on PostgreSQL).
        indexes = [
            models.Index(
                fields=["trade_in"],
                include=["cost"],
                condition=models.Q(voided_at__isnull=True),
                name="label_cost_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} label {self.label_id}"

    @property
    def erased(self) -> bool:
        """Its PDF, which prints the buyer's address, went with their personal data
        (workflows.actions.compliance._anonymise): there is nothing left to print."""
        return not self.pdf
