from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from workflows.formatting import money
from workflows.models.inventory import Grade
from workflows.models.tradeins import TradeIn


class RevisedOfferStatus(models.TextChoices):
    SENT = "sent", _("Waiting for the buyer")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Buyer asked for the device back")
    SUPERSEDED = "superseded", _("Replaced by a newer revision")


class Answer(models.TextChoices):
    BUYER = "buyer", _("the buyer")
    DEFAULT = "default", _("the shop's default (no answer in time)")


class RevisedOffer(FSMModelMixin, models.Model):
    """After inspection: a lower offer for a device that differs from what was disclosed.

    The buyer accepts it (the payout becomes this amount) or asks for the device back. Only
    the newest revision of a trade-in can be answered, once, before `respond_by`.
    """

    trade_in = models.ForeignKey(
        TradeIn, verbose_name="trade-in", on_delete=models.PROTECT, related_name="revised_offers"
    )
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    original_amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    # The grade the unit gets if the buyer accepts.
    grade = models.CharField(max_length=1, choices=Grade.choices)
    # [{"item", "label", "disclosed", "found"}], from the intake checklist.
    differences = models.JSONField(default=list)
    note = models.TextField(blank=True)
    # Why a manager revised an amount the buyer had already accepted (empty otherwise).
    revision_reason = models.TextField(blank=True)
    status = FSMField(
        default=RevisedOfferStatus.SENT, choices=RevisedOfferStatus.choices, protected=True
    )
    answered_by = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    respond_by = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "revised offer"

    def __str__(self) -> str:
        return f"Revised offer {money(self.amount)} for {self.trade_in}"

    @property
    def is_lapsed(self) -> bool:
        return self.respond_by <= timezone.now()

    @transition(field=status, source=RevisedOfferStatus.SENT, target=RevisedOfferStatus.ACCEPTED)
    def accept(self) -> None:
        self.responded_at = timezone.now()

    @transition(field=status, source=RevisedOfferStatus.SENT, target=RevisedOfferStatus.RETURNED)
    def send_back(self) -> None:
        self.responded_at = timezone.now()

    @transition(field=status, source=RevisedOfferStatus.SENT, target=RevisedOfferStatus.SUPERSEDED)
    def supersede(self) -> None:
        pass
