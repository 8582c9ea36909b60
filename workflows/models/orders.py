"""Orders: what one buyer sends in one box (issue 20, "several devices in one trade-in")."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Fulfilment(models.TextChoices):
    SHIP = "ship", _("Ship it with a prepaid label")
    PICKUP = "pickup", _("Drop off / local pickup")


class PayoutMethod(models.TextChoices):
    STRIPE = "stripe", _("Bank transfer (Stripe)")
    CHECK = "check", _("Check")
    STORE_CREDIT = "store_credit", _("Store credit")
    # Only at the counter (workflows.actions.counter_buyback): a buyer online is never paid cash.
    CASH = "cash", _("Cash at the counter")


ONLINE_PAYOUT_METHODS = [(v, name) for v, name in PayoutMethod.choices if v != PayoutMethod.CASH]

# What belongs to the person: stored on the order, once, and read through each device
# (workflows.models.tradeins.TradeIn has a read-only property of each name).
PERSON_FIELDS = (
    "buyer_name",
    "buyer_email",
    "buyer_phone",
    "fulfilment",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postcode",
    "country",
    "payout_method",
)


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

    The buyer's contact, address, ship or drop-off and payout method (PERSON_FIELDS) are stored
    here, once: a change (an approved payout-detail change, a staff correction, anonymisation)
    changes them for every device of the order. Each device reads them through read-only
    properties of the same names; a query filters on `order__buyer_email`.
    """

    reference = models.CharField(max_length=20, unique=True, editable=False)
    # The buyer form's one-time key: a double tap on Submit posts it twice, we keep one order.
    submission_key = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

    buyer_name = models.CharField(max_length=120)
    buyer_email = models.EmailField(max_length=254)
    buyer_phone = models.CharField(max_length=30, blank=True)
    fulfilment = models.CharField(max_length=10, choices=Fulfilment.choices)
    address_line1 = models.CharField(max_length=120, blank=True)
    address_line2 = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=80, blank=True)
    region = models.CharField("State / region", max_length=80, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    payout_method = models.CharField(max_length=20, choices=PayoutMethod.choices)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "order"
        verbose_name_plural = "orders"

    def __str__(self) -> str:
        return self.reference or f"Order #{self.pk}"

    @property
    def address_lines(self) -> list[str]:
        city_line = " ".join(p for p in [self.city, self.region, self.postcode] if p)
        return [line for line in [self.address_line1, self.address_line2, city_line] if line]
