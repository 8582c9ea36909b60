from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from workflows.models.tradeins import PayoutMethod, State, TradeIn


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SETTLED = "settled", _("Settled")
    DECLINED = "declined", _("Declined")
    VOID = "void", _("Void")
    FAILED = "failed", _("Failed (retryable)")
    REVERSED = "reversed", _("Reversed by Stripe")


class Payout(FSMModelMixin, models.Model):
    """What we owe the buyer for an accepted trade-in. Never deleted."""

    trade_in = models.OneToOneField(
        TradeIn, verbose_name="trade-in", on_delete=models.PROTECT, related_name="payout"
    )
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, choices=PayoutMethod.choices)
    status = FSMField(
        default=PayoutStatus.PENDING, choices=PayoutStatus.choices, protected=True, db_index=True
    )
    # Stripe transfer id, check number or store-credit code.
    settlement_reference = models.CharField(max_length=120, blank=True)
    failure_reason = models.TextField(blank=True)
    # Stripe: the connected account paid, when a manager asked to pay, and how many times a
    # refused transfer was tried again (each new try needs a new idempotency key).
    stripe_account = models.CharField(max_length=40, blank=True)
    transfer_requested_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(default=0)
    # What Stripe last said about the money: transfer_created, paid, failed, reversed.
    provider_status = models.CharField(max_length=20, blank=True)
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

    @transition(
        field=status,
        source=[PayoutStatus.PENDING, PayoutStatus.FAILED],
        target=PayoutStatus.SETTLED,
        # Money goes out only for a device we have (and did not reroute).
        conditions=[lambda payout: payout.trade_in.state == State.RECEIVED],
    )
    def settle(self) -> None:
        self.settled_at = timezone.now()
        self.failure_reason = ""

    @transition(field=status, source=PayoutStatus.PENDING, target=PayoutStatus.FAILED)
    def fail(self) -> None:
        pass

    @transition(
        field=status,
        source=[PayoutStatus.PENDING, PayoutStatus.FAILED],
        target=PayoutStatus.DECLINED,
    )
    def decline(self) -> None:
        pass

    @transition(
        field=status, source=[PayoutStatus.PENDING, PayoutStatus.FAILED], target=PayoutStatus.VOID
    )
    def void(self) -> None:
        pass

    @transition(field=status, source=PayoutStatus.FAILED, target=PayoutStatus.PENDING)
    def retry(self) -> None:
        self.failure_reason = ""

    @transition(field=status, source=PayoutStatus.SETTLED, target=PayoutStatus.REVERSED)
    def reverse(self) -> None:
        pass

    # A rerouted trade-in's declined payout is owed again: the buyer accepted a revised offer
    # for it, or its return case was rejected (the device was as disclosed after all).
    @transition(field=status, source=PayoutStatus.DECLINED, target=PayoutStatus.PENDING)
    def reinstate(self) -> None:
        self.failure_reason = ""

    @property
    def idempotency_key(self) -> str:
        """Stripe's key for this payout's transfer. A new one only after Stripe refused the
        last try: a try whose answer was lost keeps its key, so it can never pay twice."""
        return f"payout-{self.pk}" if not self.attempt else f"payout-{self.pk}-{self.attempt}"


class StoreCredit(models.Model):
    code = models.CharField(max_length=20, unique=True)
    payout = models.OneToOneField(Payout, on_delete=models.PROTECT, related_name="store_credit")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    # What is left to spend: amount minus every redemption. Changed only by the redeem action,
    # under a row lock, and never below zero (the database refuses it too).
    balance = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        permissions = [("redeem_storecredit", "Can redeem store credit at the counter")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0) & models.Q(balance__lte=models.F("amount")),
                name="store_credit_balance_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class StoreCreditRedemption(models.Model):
    """One spend of a store credit at the counter. Never edited or deleted."""

    credit = models.ForeignKey(StoreCredit, on_delete=models.PROTECT, related_name="redemptions")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    balance_after = models.DecimalField(max_digits=10, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "store-credit redemption"

    def __str__(self) -> str:
        return f"{self.amount} from {self.credit}"


class StripeAccount(models.Model):
    """A buyer's Stripe Connect account, by email: created on their first Stripe payout."""

    email = models.EmailField()
    account_id = models.CharField(max_length=40, unique=True)
    provider = models.CharField(max_length=20)
    details_submitted = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    onboarded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Stripe account"
        constraints = [  # one account per buyer at each provider (the demo's are not Stripe's)
            models.UniqueConstraint(fields=["provider", "email"], name="stripe_account_per_buyer")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} ({self.email})"


class StripeEvent(models.Model):
    """Every verified Stripe webhook, once: a redelivered event is recognised and skipped."""

    event_id = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=80)
    account = models.CharField(max_length=40, blank=True)
    outcome = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "Stripe event"

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
