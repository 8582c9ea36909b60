from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class QuotePolicy(models.Model):
    """How far quoting runs by itself, and when a typed offer needs a second look.

    One row (pk 1), edited by a manager in the admin through `quote_policy_update`. The
    auto-quote is off until a manager turns it on.
    """

    auto_quote = models.BooleanField(
        _("Quote clean submissions automatically"),
        default=False,
        help_text=_(
            "A submission whose IMEI check is clean, with no red flag and a suggested offer from "
            "the price list at most the cap below, is quoted at that offer when the check finishes."
        ),
    )
    auto_quote_cap = models.DecimalField(
        _("Auto-quote cap"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("300.00"),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Suggested offers above this amount wait for staff."),
    )
    confirm_ratio = models.DecimalField(
        _("Ask to confirm above (× suggested)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.50"),
        validators=[MinValueValidator(Decimal("1.00"))],
        help_text=_("An offer above this multiple of the suggested offer asks for confirmation."),
    )
    manager_ratio = models.DecimalField(
        _("Manager needed above (× suggested)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=[MinValueValidator(Decimal("1.00"))],
        help_text=_("An offer above this multiple of the suggested offer needs a manager."),
    )
    manager_amount = models.DecimalField(
        _("Manager needed above (amount)"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("1500.00"),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_(
            "Any offer above this amount needs a manager, with or without a suggested offer."
        ),
    )
    updated_at = models.DateTimeField(null=True, blank=True)  # empty: the defaults, never saved
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("quoting policy")
        verbose_name_plural = _("quoting policy")
        permissions = [("quote_over_limit", "Can send an offer above the manager threshold")]

    def __str__(self) -> str:
        return str(_("Quoting policy"))

    @classmethod
    def current(cls) -> QuotePolicy:
        """The policy in force; its defaults until a manager first saves it (nothing written)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
