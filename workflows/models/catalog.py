from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Make(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class DeviceModel(models.Model):
    make = models.ForeignKey(Make, on_delete=models.PROTECT, related_name="device_models")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    release_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # Shipping weight of the boxed device, used for the label.
    weight_grams = models.PositiveIntegerField(default=400)
    is_active = models.BooleanField(default=True, help_text="Offered in the buyer form.")

    class Meta:
        ordering = ["make__sort_order", "-release_year", "name"]
        constraints = [
            models.UniqueConstraint(fields=["make", "slug"], name="device_model_unique_slug")
        ]

    def __str__(self) -> str:
        return f"{self.make.name} {self.name}"


class Product(models.Model):
    """A sellable variant: a device model in one storage size. Stock counts units on hand."""

    device_model = models.ForeignKey(DeviceModel, on_delete=models.PROTECT, related_name="products")
    storage_gb = models.PositiveIntegerField()
    sku = models.CharField(max_length=40, unique=True)
    stock = models.PositiveIntegerField(default=0)
    base_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="What we pay for a flawless unit, before condition deductions.",
    )

    class Meta:
        ordering = ["device_model__make__sort_order", "device_model__name", "storage_gb"]
        constraints = [
            models.UniqueConstraint(
                fields=["device_model", "storage_gb"], name="product_unique_storage"
            ),
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.device_model} {self.storage_label}"

    @property
    def storage_label(self) -> str:
        if self.storage_gb >= 1024 and self.storage_gb % 1024 == 0:
            return f"{self.storage_gb // 1024} TB"
        return f"{self.storage_gb} GB"
