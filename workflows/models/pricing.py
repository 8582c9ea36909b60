from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

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
        return f"{self.question}={self.answer}: -{self.percent}%"
