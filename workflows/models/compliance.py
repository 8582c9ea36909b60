"""Second-hand dealer records: the seller's declaration and identity, the police report, the
hold on a bought unit and the audit trail of who saw an ID number. The rules are settings
(backoffice/settings.py, "Compliance"); the actions in workflows.actions.compliance write these."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflows.models.inventory import Unit
from workflows.models.tradeins import Quote, TradeIn


class AppendOnlyQuerySet(models.QuerySet):
    def delete(self):
        raise ValueError(f"{self.model.__name__} is append-only: it is never deleted.")


class AppendOnly(models.Model):
    """A record the dealer's licence rests on: written once, never changed or deleted here.

    `save()` on a stored row and `delete()` (of a row or a queryset) refuse; the only change
    ever made to one is the erasure of personal data (a queryset update in
    workflows.actions.compliance._anonymise).
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} is append-only: add a new row instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} is append-only: it is never deleted.")


class Declaration(AppendOnly):
    """The buyer's confirmation of ownership and age, as they saw it, one per acceptance.
    Append-only: a new acceptance adds a row; none is ever updated or deleted."""

    trade_in = models.ForeignKey(
        TradeIn, verbose_name="trade-in", on_delete=models.PROTECT, related_name="declarations"
    )
    quote = models.ForeignKey(
        Quote, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The exact wording shown: the setting may change later, the record must not.
    wording = models.TextField()
    birth_date = models.DateField(null=True, blank=True)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-made_at", "-pk"]

    def __str__(self) -> str:
        return f"Declaration for {self.trade_in} at {self.made_at:%Y-%m-%d %H:%M}"


class IdType(models.TextChoices):
    DRIVERS_LICENSE = "drivers_license", _("Driver's license")
    STATE_ID = "state_id", _("State ID card")
    PASSPORT = "passport", _("Passport")
    MILITARY_ID = "military_id", _("Military ID")
    OTHER = "other_government", _("Other government photo ID")


class IdCapturedVia(models.TextChoices):
    COUNTER = "counter", _("Staff, at the counter")
    BUYER = "buyer", _("Buyer, on the signed page")


class SellerIdentity(AppendOnly):
    """The seller's government ID. The number is stored only encrypted (workflows.crypto); the
    last four characters stay readable so staff can compare an ID card without unmasking.

    Versions, append-only: a trade-in has one row per version of its seller's ID. The first
    capture (the buyer on the signed page, or staff at the counter) is version 1; a correction
    is a new row with the next version number, made by a manager with a written reason
    (`correction_reason`). No row is ever updated or deleted (only erased: every version's
    personal data goes together), so each earlier number stays encrypted and can be revealed,
    on the ID audit trail, like the current one.

    The ID is the ORDER's (one seller for every device in the box): a row hangs on the device
    it was recorded or corrected from, and versions count up across the order's devices. "The"
    identity of a trade-in is its order's highest version, whichever device holds it
    (workflows.rules.compliance.current_identity). It is erased with the order's personal
    data, for every device at once (workflows.actions.compliance._anonymise).
    """

    trade_in = models.ForeignKey(
        TradeIn,
        verbose_name="trade-in",
        on_delete=models.PROTECT,
        related_name="seller_identities",
    )
    version = models.PositiveSmallIntegerField(default=1, editable=False)
    correction_reason = models.TextField(blank=True)
    id_type = models.CharField("ID type", max_length=20, choices=IdType.choices)
    id_number_encrypted = models.TextField(editable=False)
    id_number_last4 = models.CharField(max_length=4, editable=False)
    issuer = models.CharField("Issuing state or country", max_length=80)
    birth_date = models.DateField(null=True, blank=True)
    expires_on = models.DateField("Expiry date", null=True, blank=True)
    captured_via = models.CharField(max_length=10, choices=IdCapturedVia.choices)
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The buyer's typed full name on the signed page: their signature.
    signature = models.CharField(max_length=120, blank=True)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    captured_at = models.DateTimeField(default=timezone.now)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "seller identity"
        verbose_name_plural = "seller identities"
        ordering = ["trade_in", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["trade_in", "version"], name="selleridentity_one_row_per_version"
            )
        ]
        permissions = [
            ("view_id_number", "Can see unmasked ID numbers (audited)"),
            ("erase_buyer", "Can erase a buyer's personal data on request"),
            ("correct_selleridentity", "Can correct a recorded seller ID (a new version)"),
        ]

    def __str__(self) -> str:
        text = f"{self.get_id_type_display()} {self.masked_number}"
        return text if self.version == 1 else f"{text} (version {self.version})"

    @property
    def masked_number(self) -> str:
        if self.anonymised_at:
            return "(erased)"
        return "•••• " + self.id_number_last4


class IdNumberAccess(models.Model):
    """Audit trail: every time an ID number was shown or exported unmasked, and to whom."""

    identity = models.ForeignKey(SellerIdentity, on_delete=models.PROTECT, related_name="accesses")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=40, blank=True)
    purpose = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "ID number access"

    def __str__(self) -> str:
        who = self.actor.get_username() if self.actor_id else self.actor_label
        return f"{who} saw {self.identity} ({self.purpose})"


class PoliceReportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be delivered")
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Delivery failed")


class PoliceReport(models.Model):
    """One batch of purchases delivered to the police (a CSV file or an HTTP POST).

    The trade-ins in it point here (TradeIn.police_report), so a retry sends the same rows.
    The file itself is not kept: it holds plaintext ID numbers.
    """

    status = models.CharField(
        max_length=10, choices=PoliceReportStatus.choices, default=PoliceReportStatus.PENDING
    )
    destination = models.CharField(max_length=300)
    filename = models.CharField(max_length=100)
    rows = models.PositiveIntegerField(default=0)
    sha256 = models.CharField("SHA-256 of the delivered file", max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "police report"

    def __str__(self) -> str:
        return self.filename


class PoliceRowKind(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    CORRECTION = "correction", _("Correction")


class PoliceReportRow(AppendOnly):
    """One line of a police report, written once when its batch is made (append-only).

    A purchase row says what the shop bought, at the amount owed and with its grade at that
    moment. When that changes after the report (the device went back to the buyer, a revised
    offer or a rejected return changed the amount, the seller's ID was recorded or corrected),
    the next batch carries a correction row with the new values and what changed. The seller's
    details and ID are read when the file is built (the ID number is never stored in plaintext).
    """

    report = models.ForeignKey(PoliceReport, on_delete=models.PROTECT, related_name="lines")
    trade_in = models.ForeignKey(
        TradeIn, on_delete=models.PROTECT, related_name="police_report_rows"
    )
    kind = models.CharField(max_length=10, choices=PoliceRowKind.choices)
    # False: the shop no longer holds this purchase (returned to the buyer): only a correction.
    bought = models.BooleanField(default=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    grade = models.CharField(max_length=1, blank=True)
    # The version of the seller's ID current when the row was written (None: none recorded).
    id_version = models.PositiveSmallIntegerField("ID version", null=True, blank=True)
    change = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "pk"]
        verbose_name = "police report row"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.trade_in} in {self.report}"


class HoldRelease(models.Model):
    """A manager let a unit go before its hold period ended, on the police's word."""

    unit = models.OneToOneField(Unit, on_delete=models.PROTECT, related_name="hold_release")
    police_reference = models.CharField(max_length=120)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.unit} released ({self.police_reference})"
