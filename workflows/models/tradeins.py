"""Trade-ins, their quotes, IMEI checks and timeline events. (Over 400 lines: the trade-in's
state machine and the rows that only exist with it stay together.)"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from workflows.formatting import money
from workflows.models.catalog import Product
from workflows.models.conditions import Accessories, Battery, Body, Screen
from workflows.models.orders import (  # noqa: F401 (Fulfilment, PayoutMethod: their old home)
    ONLINE_PAYOUT_METHODS,
    PERSON_FIELDS,
    Fulfilment,
    Order,
    PayoutMethod,
)
from workflows.models.vocabulary import EventKind
from workflows.rules.permissions import Operation, transition_permission


class State(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    QUOTED = "quoted", _("Quoted")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    RECEIVED = "received", _("Received")
    REROUTED = "rerouted", _("Rerouted to returns")
    REOFFERED = "reoffered", _("Revised offer sent")
    RETURNED = "returned", _("Returned to buyer")
    RECYCLED = "recycled", _("Recycled")
    CLOSED = "closed", _("Closed")


# States in which somebody still has to do something.
OPEN_STATES = [State.SUBMITTED, State.QUOTED, State.ACCEPTED, State.RECEIVED, State.REOFFERED]
# Finished trade-ins: out of the queue's default view, in its Archive ("archived with the
# decline reason"). A rerouted one stays in the queue while its return case is open.
ARCHIVED_STATES = [
    State.DECLINED,
    State.EXPIRED,
    State.CANCELLED,
    State.RETURNED,
    State.RECYCLED,
    State.CLOSED,
]
# Everything else: the queue's default view, stored as queue_rank 0 so the queue is counted
# and paged from one index however large the archive grows.
QUEUE_STATES = [state for state in State if state not in ARCHIVED_STATES]


class ImeiCheckStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CLEAN = "clean", _("Clean")
    FLAGGED = "flagged", _("Red flag")
    UNKNOWN = "unknown", _("Unknown")
    ERROR = "error", _("Error")


class _OrderField(property):
    """A person field of the device's order, read through the device (`trade_in.buyer_email`
    is `trade_in.order.buyer_email`). Setting it on a device raises instead of being lost on
    save: the value belongs to every device of the order, so it is set on `trade_in.order`.
    A property, so Django's `TradeIn(buyer_email=...)` raises the same clear error."""

    def __init__(self, name: str) -> None:
        def fget(trade_in: TradeIn) -> object:
            return getattr(trade_in.order, name)

        fget.__name__ = name
        # The admin labels a read-only property by this: the order field's own name.
        fget.short_description = Order._meta.get_field(name).verbose_name

        def fset(trade_in: TradeIn, value: object) -> None:
            raise AttributeError(
                f"{name} is the order's, stored once for all its devices: set it on "
                f"trade_in.order (and save the order), not on the trade-in"
            )

        super().__init__(fget, fset, doc=f"The order's {name} (read-only here).")


class TradeIn(FSMModelMixin, models.Model):
    reference = models.CharField(max_length=20, unique=True, null=True, editable=False)
    # The order (the buyer's basket) this device came in, and its number in it, from 1. A
    # one-device order is today's trade-in (workflows.models.orders).
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="devices")
    position = models.PositiveSmallIntegerField()
    state = FSMField(default=State.SUBMITTED, choices=State.choices, protected=True, db_index=True)

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="trade_ins")
    screen = models.CharField(max_length=20, choices=Screen.choices)
    body = models.CharField(max_length=20, choices=Body.choices)
    battery = models.CharField(max_length=20, choices=Battery.choices)
    accessories = models.CharField(max_length=20, choices=Accessories.choices)
    imei = models.CharField("IMEI", max_length=15, db_index=True)

    suggested_offer = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # Copies of the latest IMEI check's status and the latest quote's amount, kept by the
    # actions, so the queue lists 100k trade-ins without a subquery per row.
    imei_status = models.CharField(
        "IMEI check",
        max_length=10,
        choices=ImeiCheckStatus.choices,
        default=ImeiCheckStatus.PENDING,
    )
    offer_amount = models.DecimalField(
        "Quoted", max_digits=10, decimal_places=2, null=True, blank=True
    )
    # The IMEI service reports another model than the buyer chose (copy of the latest check's).
    model_mismatch = models.BooleanField(default=False)
    decline_reason = models.TextField(blank=True)
    red_flag_override_reason = models.TextField(blank=True)
    red_flag_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The buyer form's one-time key: a double tap on Submit posts it twice, we keep one row.
    submission_key = models.CharField(max_length=64, unique=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # 0 while somebody still has to act, 1 after. Stored and indexed with created_at, so
    # the queue ("open work first, oldest first") reads 50 rows off an index at any size.
    queue_rank = models.GeneratedField(
        expression=Case(When(state__in=QUEUE_STATES, then=Value(0)), default=Value(1)),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    # Compliance (workflows.models.compliance): the police report this purchase went out in and
    # when it was delivered (the hold period counts from then), and when the buyer's personal
    # data was anonymised or erased.
    police_report = models.ForeignKey(
        "workflows.PoliceReport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trade_ins",
    )
    reported_at = models.DateTimeField("Reported to the police", null=True, blank=True)
    anonymised_at = models.DateTimeField("Personal data anonymised", null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "trade-in"
        verbose_name_plural = "trade-ins"
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="tradein_order_position"),
        ]
        permissions = [
            ("quote_tradein", "Can send quotes"),
            ("receive_tradein", "Can receive devices at the intake bench"),
            ("override_red_flag", "Can quote a red-flagged device"),
        ]
        indexes = [
            models.Index(fields=["state", "created_at"], name="tradein_state_idx"),
            models.Index(fields=["queue_rank", "created_at", "id"], name="tradein_queue_idx"),
            # The reports: the units received lately (police hold, stock ageing).
            models.Index(fields=["received_at"], include=["id"], name="tradein_received_idx"),
            # The reports, index-only: a week's funnel, and a unit's day of receipt (ageing).
            models.Index(
                fields=["created_at"],
                include=["id", "offer_amount", "accepted_at", "received_at"],
                name="tradein_funnel_idx",
            ),
            models.Index(
                fields=["id"],
                include=["received_at"],
                condition=models.Q(received_at__isnull=False),
                name="tradein_received_id_idx",
            ),
            # The price list's acceptance rates: each recent quote's trade-in (its product, the
            # answers its expected grade comes from, its acceptance), index-only at 1M.
            models.Index(
                fields=["id"],
                include=["product", "screen", "body", "battery", "accepted_at"],
                name="tradein_rate_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"Trade-in #{self.pk}"

    # The person's fields (buyer_name, buyer_email, ..., payout_method: PERSON_FIELDS) are the
    # order's, stored once: read-only properties below the class. Query `order__buyer_email`.
    def get_fulfilment_display(self) -> str:
        return self.order.get_fulfilment_display()

    def get_payout_method_display(self) -> str:
        return self.order.get_payout_method_display()

    # --- the state machine; the actions in workflows.actions call these -------------------------
    @transition(
        field=state,
        source=[State.SUBMITTED, State.QUOTED, State.DECLINED, State.EXPIRED],
        target=State.QUOTED,
        permission=transition_permission(Operation.QUOTE),
    )
    def quote(self) -> None:
        pass

    @transition(
        field=state,
        source=State.QUOTED,
        target=State.ACCEPTED,
        permission=transition_permission(Operation.ACCEPT),
    )
    def accept(self) -> None:
        self.accepted_at = timezone.now()

    @transition(
        field=state,
        source=[State.SUBMITTED, State.QUOTED],
        target=State.DECLINED,
        permission=transition_permission(Operation.DECLINE),
    )
    def decline(self) -> None:
        pass

    @transition(
        field=state,
        source=State.QUOTED,
        target=State.EXPIRED,
        permission=transition_permission(Operation.EXPIRE),
    )
    def expire(self) -> None:
        pass

    @transition(
        field=state,
        source=State.ACCEPTED,
        target=State.CANCELLED,
        permission=transition_permission(Operation.CANCEL),
    )
    def cancel(self) -> None:
        pass

    @transition(
        field=state,
        source=State.ACCEPTED,
        target=State.RECEIVED,
        permission=transition_permission(Operation.RECEIVE),
    )
    def receive(self) -> None:
        self.received_at = timezone.now()

    @transition(
        field=state,
        source=State.RECEIVED,
        target=State.REROUTED,
        permission=transition_permission(Operation.REROUTE),
    )
    def reroute(self) -> None:
        pass

    @transition(
        field=state,
        source=State.RECEIVED,
        target=State.CLOSED,
        permission=transition_permission(None),
    )
    def close(self) -> None:
        pass

    # After inspection: a revised offer (also a newer revision of one, and from a return case),
    # the buyer's two answers, and a return case that turned out to be no case.
    @transition(
        field=state,
        source=[State.RECEIVED, State.REROUTED, State.REOFFERED],
        target=State.REOFFERED,
        permission=transition_permission(Operation.SEND_REVISED_OFFER),
    )
    def send_revised_offer(self) -> None:
        pass

    @transition(
        field=state,
        source=State.REOFFERED,
        target=State.RECEIVED,
        permission=transition_permission(Operation.ANSWER_REVISED_OFFER),
    )
    def accept_revised_offer(self) -> None:
        pass

    @transition(
        field=state,
        source=[State.REOFFERED, State.REROUTED],
        target=State.RETURNED,
        permission=transition_permission(None),
    )
    def return_to_buyer(self) -> None:
        pass

    @transition(
        field=state,
        source=State.REROUTED,
        target=State.RECEIVED,
        permission=transition_permission(None),
    )
    def reinstate(self) -> None:
        pass

    @transition(
        field=state,
        source=State.REROUTED,
        target=State.RECYCLED,
        permission=transition_permission(None),
    )
    def recycle(self) -> None:
        pass

    # --- read helpers ----------------------------------------------------------------------------
    def condition_answers(self) -> list[tuple[str, str]]:
        return [
            (_("Screen"), self.get_screen_display()),
            (_("Body"), self.get_body_display()),
            (_("Battery"), self.get_battery_display()),
            (_("Accessories"), self.get_accessories_display()),
        ]

    @property
    def address_lines(self) -> list[str]:
        return self.order.address_lines

    def latest_quote(self) -> Quote | None:
        return self.quotes.order_by("-created_at", "-pk").first()

    def latest_imei_check(self) -> ImeiCheck | None:
        return self.imei_checks.order_by("-created_at", "-pk").first()


for _name in PERSON_FIELDS:
    setattr(TradeIn, _name, _OrderField(_name))
del _name


class Quote(models.Model):
    """One offer. A counter-quote is a new row; only the newest one can be accepted."""

    trade_in = models.ForeignKey(
        TradeIn, verbose_name="trade-in", on_delete=models.PROTECT, related_name="quotes"
    )
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    valid_until = models.DateTimeField()
    note = models.TextField(blank=True)
    # Empty when the auto-quote policy sent it (auto_quoted).
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    auto_quoted = models.BooleanField(_("sent by the auto-quote policy"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The auto-quote report counts a period's quotes.
        indexes = [
            # The auto-quote report counts a period's quotes; the price list's acceptance
            # rates read the window's quotes with their trade-in and answer, index-only.
            models.Index(
                fields=["created_at"],
                include=["id", "trade_in", "responded_at"],
                name="quote_rate_idx",
            ),
            # Whether a later quote replaced one (index-only).
            models.Index(fields=["trade_in", "id"], name="quote_later_idx"),
        ]

    def __str__(self) -> str:
        return f"{money(self.amount)} for {self.trade_in}"

    @property
    def is_lapsed(self) -> bool:
        return self.valid_until <= timezone.now()


class ImeiCheck(models.Model):
    trade_in = models.ForeignKey(
        TradeIn, verbose_name="trade-in", on_delete=models.CASCADE, related_name="imei_checks"
    )
    imei = models.CharField("IMEI", max_length=15)
    provider = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=10, choices=ImeiCheckStatus.choices, default=ImeiCheckStatus.PENDING
    )
    blacklisted = models.BooleanField(default=False)
    lost_stolen = models.BooleanField("Lost / stolen", default=False)
    finance_locked = models.BooleanField(default=False)
    carrier = models.CharField(max_length=80, blank=True)
    sim_lock = models.BooleanField(null=True, blank=True)
    activation_lock = models.BooleanField(null=True, blank=True)
    reported_model = models.CharField(max_length=120, blank=True)
    model_mismatch = models.BooleanField(default=False)
    # The reference of an earlier open trade-in (or "unit #n") holding this IMEI when the
    # check ran: one device, one live trade-in.
    duplicate_of = models.CharField(max_length=40, blank=True)
    detail = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "IMEI check"

    def __str__(self) -> str:
        return f"{self.imei}: {self.get_status_display()}"

    @property
    def red_flags(self) -> list[str]:
        flags = [
            ("blacklisted", self.blacklisted),
            ("lost/stolen", self.lost_stolen),
            ("finance-locked", self.finance_locked),
        ]
        names = [name for name, raised in flags if raised]
        if self.duplicate_of:
            names.append(f"duplicate IMEI ({self.duplicate_of})")
        return names

    @property
    def provider_flags(self) -> list[str]:
        """What the IMEI service (or the blocklist) said, without the duplicate check."""
        return [f for f in self.red_flags if not f.startswith("duplicate IMEI")]


class BlockedImei(models.Model):
    """The offline IMEI provider's blocklist, kept by staff in the admin."""

    class Reason(models.TextChoices):
        BLACKLISTED = "blacklisted", _("Blacklisted")
        LOST_STOLEN = "lost_stolen", _("Lost / stolen")
        FINANCE_LOCKED = "finance_locked", _("Finance-locked")

    imei = models.CharField("IMEI", max_length=15, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "blocked IMEI"

    def __str__(self) -> str:
        return f"{self.imei} ({self.get_reason_display()})"


class BlockedImeiChange(models.Model):
    """The blocklist's audit trail: who added, changed or removed which entry, and why.

    Kept apart from the timeline because an entry may predate every trade-in of its IMEI.
    """

    class Kind(models.TextChoices):
        ADDED = "added", _("Added")
        CHANGED = "changed", _("Changed")
        REMOVED = "removed", _("Removed")

    imei = models.CharField("IMEI", max_length=15, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "blocklist change"

    def __str__(self) -> str:
        return f"{self.imei} {self.kind}"


class Event(models.Model):
    """The timeline: one row per transition, side effect success or failure, or staff note."""

    trade_in = models.ForeignKey(
        TradeIn, verbose_name="trade-in", on_delete=models.PROTECT, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "buyer" or "system" when no staff member acted.
    actor_label = models.CharField(max_length=40, blank=True)
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    is_failure = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_state}→{self.to_state}"

    @property
    def who(self) -> str:
        return self.actor.get_username() if self.actor_id else self.actor_label

    def state_label(self, value: str) -> str:
        """A state as staff read it ("Revised offer sent", not "reoffered"): a unit's status
        for the unit's moves (kind unit_*), the trade-in's state otherwise; an unknown value
        as it was written."""
        if self.kind.startswith("unit_"):
            # The unit's statuses, read off its model (inventory imports this module).
            labels = dict(apps.get_model("workflows", "Unit")._meta.get_field("status").flatchoices)
        else:
            labels = dict(State.choices)
        return str(labels.get(value, value))

    @property
    def from_state_label(self) -> str:
        return self.state_label(self.from_state)

    @property
    def to_state_label(self) -> str:
        return self.state_label(self.to_state)
