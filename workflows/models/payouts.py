from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from workflows.formatting import money
from workflows.models.orders import Order
from workflows.models.tradeins import PayoutMethod, State, TradeIn


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SETTLED = "settled", _("Settled")
    DECLINED = "declined", _("Declined")
    VOID = "void", _("Void")
    FAILED = "failed", _("Failed (retryable)")
    REVERSED = "reversed", _("Reversed by Stripe")


# Still owed: the next settlement of the payout's order pays it (a failed Stripe try included).
OWED_STATUSES = [PayoutStatus.PENDING, PayoutStatus.FAILED]


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
    # The connected account this payout goes to: set only when the buyer opened the setup
    # link we emailed for this payout (workflows.actions.stripe.payout_confirm_payee), never
    # by matching an email typed into a trade-in.
    payee_account = models.ForeignKey(
        "StripeAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
        editable=False,
    )
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
        # The reports: money paid out per week, and the funnel's "paid" (index-only).
        indexes = [
            models.Index(
                fields=["settled_at"],
                include=["amount", "trade_in"],
                condition=models.Q(status="settled"),
                name="payout_settled_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{money(self.amount)} · {self.trade_in}"

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
        return self.transfer_key(order_of_several=False)

    def transfer_key(self, *, order_of_several: bool) -> str:
        """The idempotency key of the one transfer that pays this payout (the first owed line
        of its order) and, in an order of several devices, the others with it: one key per
        order payout. A new key only after Stripe refused the last try (`attempt`)."""
        base = self.transfer_group(order_of_several=order_of_several)
        return f"{base}-{self.attempt}" if self.attempt else base

    def transfer_group(self, *, order_of_several: bool) -> str:
        """Stripe's transfer_group: how a try older than Stripe's key memory is found again."""
        return f"order-payout-{self.trade_in.order_id}" if order_of_several else f"payout-{self.pk}"


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 letters, no 0/O or 1/I to misread


def _code_from_secret(secret: str) -> str:
    digest = salted_hmac("workflows.store-credit-code", secret, algorithm="sha256").digest()
    return "SC-" + "".join(CODE_ALPHABET[b % 32] for b in digest[:10])


def normalize_code(code: str) -> str:
    """A code as a person types it at the till: any case, spaces or dashes, "SC-" or not."""
    text = "".join(ch for ch in str(code).upper() if ch.isalnum())
    if text.startswith("SC"):
        text = text[2:]
    return "SC-" + text


def looks_like_code(text: str) -> bool:
    """Typed text shaped like a store-credit code (10 letters of the code alphabet after SC)."""
    body = normalize_code(text)[3:]
    return len(body) == 10 and set(body) <= set(CODE_ALPHABET) and "@" not in str(text)


def code_lookup_hash(code: str) -> str:
    """A keyed hash of the code: finds the credit without storing the code itself."""
    return salted_hmac(
        "workflows.store-credit-lookup", normalize_code(code), algorithm="sha256"
    ).hexdigest()


class StoreCredit(models.Model):
    """A store credit. Its code works like cash, so only a keyed hash (for look-up at the
    till) and the last four characters (for staff to tell codes apart) are stored. The code
    is derived from `secret` with the SECRET_KEY, so the database alone cannot show it; the
    buyer's email is the one place it appears whole."""

    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    code_last4 = models.CharField("code (last 4)", max_length=4, editable=False)
    secret = models.CharField(max_length=64, blank=True, editable=False)
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
        return self.masked_code

    @property
    def masked_code(self) -> str:
        return f"SC-…{self.code_last4}"

    @classmethod
    def new_secret(cls) -> tuple[str, str]:
        """A fresh (secret, code) pair; the caller stores the secret, the hash and last 4."""
        secret = secrets.token_hex(16)
        return secret, _code_from_secret(secret)

    def code_for_buyer(self) -> str:
        """The whole code, for the buyer's email only (never shown in the back office)."""
        if not self.secret:
            raise ValueError("this credit's code was issued before codes were derived")
        return _code_from_secret(self.secret)

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
        return f"{money(self.amount)} from {self.credit}"


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


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a manager")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class PayoutDetailChange(models.Model):
    """A change of who gets paid, how or where, asked for after the buyer accepted.

    It takes effect only when a manager other than the requester approves it; the buyer is
    told at the address they had before. `changes` is {field: {"old": …, "new": …}}.
    """

    trade_in = models.ForeignKey(
        TradeIn,
        verbose_name="trade-in",
        on_delete=models.PROTECT,
        related_name="detail_changes",
    )
    changes = models.JSONField()
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = "payout detail change"
        permissions = [
            ("approve_payoutdetailchange", "Can approve changes of payout details"),
        ]
        constraints = [  # one open request per trade-in: a second would race the first
            models.UniqueConstraint(
                fields=["trade_in"],
                condition=models.Q(status="pending"),
                name="one_pending_detail_change",
            )
        ]

    def __str__(self) -> str:
        return f"{self.trade_in}: {', '.join(self.changes)} ({self.get_status_display()})"

    def describe(self) -> str:
        """ "Buyer email: a@x → b@y; Payout method: Check → Store credit"."""
        return describe_detail_changes(self.changes)


def describe_detail_changes(changes: dict[str, dict[str, str]]) -> str:
    """Old and new payout details in words: the field's name and each value as staff read it
    (a payout method by its label, not its stored code)."""

    def word(name: str, value: str) -> str:
        if not value:
            return "—"
        if name == "payout_method" and value in PayoutMethod.values:
            return str(PayoutMethod(value).label)
        return value

    parts = []
    for name, v in changes.items():
        try:
            label = str(Order._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            label = name.replace("_", " ")
        label = re.sub(r"(\D)(\d)$", r"\1 \2", label[:1].upper() + label[1:])  # "line 1"
        parts.append(f"{label}: {word(name, v['old'])} → {word(name, v['new'])}")
    return "; ".join(parts)
