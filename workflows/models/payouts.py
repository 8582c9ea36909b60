from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from workflows.models.tradeins import PayoutMethod, TradeIn


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SETTLED = "settled", _("Settled")
    DECLINED = "declined", _("Declined")
    VOID = "void", _("Void")
    FAILED = "failed", _("Failed (retryable)")


class Payout(FSMModelMixin, models.Model):
    """What we owe the buyer for an accepted trade-in. Never deleted."""

    trade_in = models.OneToOneField(TradeIn, on_delete=models.PROTECT, related_name="payout")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, choices=PayoutMethod.choices)
    status = FSMField(
        default=PayoutStatus.PENDING, choices=PayoutStatus.choices, protected=True, db_index=True
    )
    # Stripe transfer id, check number or store-credit code.
    settlement_reference = models.CharField(max_length=120, blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("settle_payout", "Can settle payouts"),
            ("export_payout", "Can export payouts"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} · {self.trade_in}"

    @transition(field=status, source=[PayoutStatus.PENDING, PayoutStatus.FAILED],
                target=PayoutStatus.SETTLED)
    def settle(self) -> None:
        self.settled_at = timezone.now()
        self.failure_reason = ""

    @transition(field=status, source=PayoutStatus.PENDING, target=PayoutStatus.FAILED)
    def fail(self) -> None:
        pass

    @transition(field=status, source=[PayoutStatus.PENDING, PayoutStatus.FAILED],
                target=PayoutStatus.DECLINED)
    def decline(self) -> None:
        pass

    @transition(field=status, source=[PayoutStatus.PENDING, PayoutStatus.FAILED],
                target=PayoutStatus.VOID)
    def void(self) -> None:
        pass


class StoreCredit(models.Model):
    code = models.CharField(max_length=20, unique=True)
    payout = models.OneToOneField(Payout, on_delete=models.PROTECT, related_name="store_credit")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    balance = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.code
