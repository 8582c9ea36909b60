"""The counter: a walk-in buyback run in one sitting by staff, and the day's cash drawer.

A counter buyback is an ordinary trade-in (the same state machine, quote, accept, receive,
payout); this row only keeps what the sitting needs beside it: who started it, the short code
a second screen opens the customer page with, what the inspection found before the customer
said yes, a manager's override, and how it ended if the customer walked away. The state is the
trade-in's, never stored twice here.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from workflows.formatting import money
from workflows.models.compliance import AppendOnly, Declaration
from workflows.models.payouts import Payout
from workflows.models.tradeins import TradeIn

# No 0/O, 1/I/L: a code read aloud across the desk is typed right the first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def new_counter_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class CounterBuyback(models.Model):
    trade_in = models.OneToOneField(
        TradeIn, verbose_name="trade-in", on_delete=models.PROTECT, related_name="counter"
    )
    # The customer page on a second device opens with this while the offer waits for them.
    code = models.CharField(max_length=CODE_LENGTH, unique=True, default=new_counter_code)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The inspection's checklist and grade, applied to the unit when the customer accepts.
    as_found = models.JSONField(default=dict, blank=True)
    grade = models.CharField(max_length=2, blank=True)
    inspection_notes = models.TextField(blank=True)
    inspected_at = models.DateTimeField(null=True, blank=True)
    # A manager's written reason to buy despite a red flag; the quote applies it (as today).
    override_reason = models.TextField(blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = "counter buyback"
        permissions = [
            ("buy_at_counter", "Can buy devices at the counter"),
            ("pay_cash_over_limit", "Can pay cash above the counter limit"),
        ]

    def __str__(self) -> str:
        return f"Counter {self.trade_in}"


class CounterSignature(AppendOnly):
    """The customer's drawn signature, stored with the declaration it signs (PNG, re-encoded)."""

    declaration = models.OneToOneField(
        Declaration, on_delete=models.PROTECT, related_name="counter_signature"
    )
    png = models.BinaryField()
    width = models.PositiveSmallIntegerField()
    height = models.PositiveSmallIntegerField()
    made_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Signature for {self.declaration}"


class CashDrawer(models.Model):
    """The day's drawer: opening float, each cash payout (CashMovement), the closing count."""

    day = models.DateField(unique=True)
    opening_float = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    # Set once, at closing: what was counted, what the drawer should have held, the difference.
    counted = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    expected = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    difference = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    closing_note = models.TextField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day"]
        verbose_name = "cash drawer"

    def __str__(self) -> str:
        return f"Cash drawer {self.day:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class CashMovement(models.Model):
    """Cash out of the drawer for one payout: one row per payout, so paying twice pays once."""

    drawer = models.ForeignKey(CashDrawer, on_delete=models.PROTECT, related_name="movements")
    payout = models.OneToOneField(Payout, on_delete=models.PROTECT, related_name="cash_movement")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    paid_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["paid_at", "pk"]

    def __str__(self) -> str:
        return f"{money(self.amount)} paid out of {self.drawer}"
