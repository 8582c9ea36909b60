from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from workflows.models.conditions import QUESTIONS

QUESTION_CHOICES = [(name, name.title()) for name in QUESTIONS]
ANSWER_CHOICES = [
    (value, f"{question}: {label}")
    for question, choices in QUESTIONS.items()
    for value, label in choices.choices
]


class ConditionDeduction(models.Model):
    """What one condition answer takes off the product's base price, in percent."""

    question = models.CharField(max_length=20, choices=QUESTION_CHOICES)
    answer = models.CharField(max_length=20)
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        ordering = ["question", "percent"]
        constraints = [
            models.UniqueConstraint(fields=["question", "answer"], name="deduction_unique_answer")
        ]

    def __str__(self) -> str:
        return f"{self.get_question_display()}: {self.answer_label} (-{self.percent}%)"

    @property
    def answer_label(self) -> str:
        """The answer as the buyer's form words it ("Like new", not "like_new")."""
        choices = QUESTIONS.get(self.question)
        return (
            str(choices(self.answer).label)
            if choices and self.answer in choices.values
            else self.answer
        )


class MarketPrice(models.Model):
    """What a device of this product and grade resells for elsewhere, imported by a manager
    (a CSV of market resale prices). Feeds the suggested offer where the shop has few sales."""

    product = models.ForeignKey(
        "workflows.Product", on_delete=models.PROTECT, related_name="market_prices"
    )
    grade = models.CharField(max_length=1)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    source = models.CharField(max_length=80)
    observed_on = models.DateField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-observed_on", "-pk"]
        indexes = [models.Index(fields=["product", "grade", "observed_on"])]

    def __str__(self) -> str:
        return f"{self.product} {self.grade}: {self.price} ({self.source}, {self.observed_on})"


class PriceChange(models.Model):
    """The price list's history: a manager applied a suggested offer (who, when, old → new, why).
    Written only by workflows.actions.pricing; never edited."""

    product = models.ForeignKey(
        "workflows.Product", on_delete=models.PROTECT, related_name="price_changes"
    )
    # The grade whose suggestion was applied (the base price is the offer for grade A's answers).
    grade = models.CharField(max_length=1)
    old_price = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    new_price = models.DecimalField(max_digits=10, decimal_places=2)
    basis = models.CharField(max_length=200)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.product}: {self.old_price} → {self.new_price}"
