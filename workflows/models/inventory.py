from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from workflows.formatting import money
from workflows.models.catalog import Product
from workflows.models.tradeins import TradeIn
from workflows.models.vocabulary import SaleChannel


class UnitStatus(models.TextChoices):
    RECEIVED = "received", _("Received (awaiting arrival or grading)")
    GRADED = "graded", _("Graded, sellable")
    LISTED = "listed", _("Listed for sale")
    SOLD = "sold", _("Sold")
    RETURNS = "returns", _("In returns")
    RETURNED = "returned", _("Returned to buyer")
    RECYCLED = "recycled", _("Recycled")
    PARTS = "parts", _("Used for parts")
    VOID = "void", _("Void (never arrived)")


# Units that count towards Product.stock: the one definition. Every other status is out of
# stock and frees the unit's IMEI for a future trade-in.
STOCKED_STATUSES = [UnitStatus.RECEIVED, UnitStatus.GRADED, UnitStatus.LISTED]


class Grade(models.TextChoices):
    A = "A", _("A: like new, no visible wear")
    B = "B", _("B: light wear, fully working")
    C = "C", _("C: visible wear or minor faults")
    D = "D", _("D: heavy wear or faults, parts or repair")


# Grades a unit can be sold as a working phone with. D is parts or repair: the only grade a
# device that does not power on, or is activation-locked, can get.
SELLABLE_GRADES = [Grade.A, Grade.B, Grade.C]


def unit_can_list(unit: Unit) -> bool:
    """The one precondition for listing a unit for sale (compliance adds its hold period here)."""
    return unit.grade in SELLABLE_GRADES


def unit_can_sell(unit: Unit) -> bool:
    """The one precondition for selling a unit."""
    return unit.grade in SELLABLE_GRADES


def unit_can_refurbish(unit: Unit) -> bool:
    """The one precondition for spending parts or labour on a unit: it is the shop's."""
    return unit.status not in (UnitStatus.VOID, UnitStatus.RETURNED)


# A carried cost: money, 0 until the rule says otherwise (also for rows written outside the ORM).
COST = {
    "max_digits": 12,
    "decimal_places": 2,
    "default": Decimal("0.00"),
    "db_default": Decimal("0.00"),
    "editable": False,
}

CARRIED_COSTS = ("payout_cost", "label_cost", "refurbishment_cost", "total_cost")


class Unit(FSMModelMixin, models.Model):
    """One serialized device in inventory."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="units")
    imei = models.CharField("IMEI", max_length=15, db_index=True)
    # Protected: every change is a transition below, run by workflows.actions.units._move_unit
    # (which keeps Product.stock in step). A unit is created RECEIVED when a buyer accepts.
    status = FSMField(max_length=10, choices=UnitStatus.choices, db_index=True, protected=True)
    grade = models.CharField(max_length=1, choices=Grade.choices, blank=True)
    trade_in = models.OneToOneField(
        TradeIn,
        verbose_name="trade-in",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="unit",
    )
    # The intake checklist as found on the bench (workflows.rules.inspection.CHECKLIST).
    as_found = models.JSONField(default=dict, blank=True)
    intake_notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    graded_at = models.DateTimeField(null=True, blank=True)
    # When the unit last changed status after grading (listed, sold, recycled...).
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The sale (workflows.actions.units): price, channel and day; a wholesale lot's share.
    sale_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    sale_channel = models.CharField(max_length=12, choices=SaleChannel.choices, blank=True)
    sold_on = models.DateField(null=True, blank=True)
    sale_lot = models.ForeignKey(
        "workflows.SaleLot", null=True, blank=True, on_delete=models.PROTECT, related_name="units"
    )
    # What the unit cost the shop, carried on its row for the reports at any size. Written only
    # by workflows.actions._costs._carry_costs (the one cost rule, from the payout, label and
    # refurbishment rows), in the transaction of the action that changed one of those rows.
    payout_cost = models.DecimalField(**COST, help_text=_("Owed or paid to the seller."))
    label_cost = models.DecimalField(**COST, help_text=_("Inbound and return labels."))
    refurbishment_cost = models.DecimalField(**COST, help_text=_("Parts and labour."))
    total_cost = models.DecimalField(**COST)
    # When the device arrived at the bench (its trade-in's intake); empty for a unit that
    # came otherwise or is still on its way.
    received_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("view_reports", "Can read the money reports")]
        indexes = [
            # The reports read sales by day (money in, margin, ageing) at any size.
            models.Index(
                fields=["sold_on"],
                include=["sale_price", "grade", "product", "trade_in"],
                name="unit_sold_on_idx",
            ),
            # The margin and ageing reports: a period's sales with their costs and receipt,
            # read off this index alone (PostgreSQL).
            models.Index(
                fields=["sold_on"],
                include=[
                    "product",
                    "grade",
                    "sale_price",
                    "payout_cost",
                    "label_cost",
                    "refurbishment_cost",
                    "total_cost",
                    "received_at",
                ],
                condition=models.Q(sale_price__isnull=False),
                name="unit_margin_idx",
            ),
            # The intake bench's labels for today's units, read after every scan.
            models.Index(fields=["received_at"], name="unit_received_idx"),
            # The ageing report: the shelf by the day each unit arrived.
            models.Index(
                fields=["received_at"],
                condition=models.Q(
                    status__in=["received", "graded", "listed"], received_at__isnull=False
                ),
                name="unit_shelf_received_idx",
            ),
            # The reports: the units on the shelf or in returns by trade-in (ageing, on hold).
            models.Index(
                fields=["trade_in"],
                include=["id", "status"],
                condition=models.Q(status__in=["received", "graded", "listed", "returns"]),
                name="unit_shelf_idx",
            ),
        ]
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

    def save(self, *args, **kwargs) -> None:
        # The carried costs are written only by the cost rule's UPDATE: a unit loaded before
        # an action changed them must not write its old figures back when it is saved.
        if not self._state.adding and kwargs.get("update_fields") is None:
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in CARRIED_COSTS and f.attname not in deferred
            ]
        super().save(*args, **kwargs)

    @property
    def is_stocked(self) -> bool:
        return self.status in STOCKED_STATUSES

    # --- a unit's life; workflows.actions.units._move_unit runs these --------------------------
    # Graded at intake, or at the revised offer the buyer accepted (again, if re-priced: a
    # listed unit comes off sale at its new grade).
    @transition(
        field=status,
        source=[UnitStatus.RECEIVED, UnitStatus.GRADED, UnitStatus.LISTED],
        target=UnitStatus.GRADED,
    )
    def grade_as_sellable(self) -> None:
        self.graded_at = timezone.now()

    # The trade-in was cancelled: the device never arrived.
    @transition(field=status, source=UnitStatus.RECEIVED, target=UnitStatus.VOID)
    def void(self) -> None:
        pass

    # The trade-in was rerouted to Returns: out of sellable stock while the case is open.
    @transition(
        field=status,
        source=[UnitStatus.RECEIVED, UnitStatus.GRADED, UnitStatus.LISTED],
        target=UnitStatus.RETURNS,
    )
    def send_to_returns(self) -> None:
        pass

    @property
    def margin(self) -> Decimal | None:
        """Sale price − what the unit cost; None until it is sold."""
        return None if self.sale_price is None else self.sale_price - self.total_cost

    @transition(
        field=status, source=UnitStatus.GRADED, target=UnitStatus.LISTED, conditions=[unit_can_list]
    )
    def list_for_sale(self) -> None:
        pass

    @transition(field=status, source=UnitStatus.LISTED, target=UnitStatus.GRADED)
    def unlist(self) -> None:
        pass

    @transition(
        field=status,
        source=[UnitStatus.GRADED, UnitStatus.LISTED],
        target=UnitStatus.SOLD,
        conditions=[unit_can_sell],
    )
    def sell(self) -> None:
        pass

    @transition(
        field=status,
        source=[UnitStatus.GRADED, UnitStatus.LISTED, UnitStatus.RETURNS],
        target=UnitStatus.RECYCLED,
    )
    def recycle(self) -> None:
        pass

    @transition(
        field=status,
        source=[UnitStatus.GRADED, UnitStatus.LISTED, UnitStatus.RETURNS],
        target=UnitStatus.PARTS,
    )
    def use_for_parts(self) -> None:
        pass

    @transition(
        field=status,
        source=[UnitStatus.RECEIVED, UnitStatus.GRADED, UnitStatus.RETURNS],
        target=UnitStatus.RETURNED,
    )
    def return_to_buyer(self) -> None:
        pass

    @transition(field=status, source=UnitStatus.RETURNS, target=UnitStatus.GRADED)
    def restock(self) -> None:
        pass


class InspectionPhoto(models.Model):
    """A photo taken at intake. Stored with Django's storage (local files by default) and
    served only to staff and to the buyer through a valid revised-offer link."""

    trade_in = models.ForeignKey(
        TradeIn, verbose_name="trade-in", on_delete=models.PROTECT, related_name="photos"
    )
    image = models.FileField(upload_to="inspection/%Y/%m/")
    content_type = models.CharField(max_length=40)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "inspection photo"

    def __str__(self) -> str:
        return f"Photo {self.pk} of {self.trade_in}"


class SaleLot(models.Model):
    """Several units sold together for one price (wholesale); each unit keeps its share."""

    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    channel = models.CharField(
        max_length=12, choices=SaleChannel.choices, default=SaleChannel.WHOLESALE
    )
    sold_on = models.DateField()
    note = models.TextField(blank=True)
    sold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "wholesale lot"

    def __str__(self) -> str:
        return f"Lot {self.pk} · {self.total} {self.currency}"


class RefurbishmentCost(models.Model):
    """Parts and labour spent on a unit, entered at the bench or on its page. Several entries
    add up; each is a timeline row, never edited."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="refurbishment_costs")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "refurbishment cost"
        indexes = [models.Index(fields=["unit"], include=["amount"], name="refurbishment_unit_idx")]

    def __str__(self) -> str:
        return f"{money(self.amount)} on unit {self.unit_id}"
