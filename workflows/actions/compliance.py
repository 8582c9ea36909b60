"""Over 400 lines: the dealer-record actions share their helpers and read best together.

Second-hand dealer records: declaration, seller identity, hold release, police reports,
retention and erasure. The rules are settings; the predicates are in workflows.rules.compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows import crypto
from workflows.actions._common import (
    BUYER,
    SYSTEM,
    Actor,
    Operation,
    authorize,
    lock_order_devices,
    lock_trade_in,
    record_event,
    schedule,
)
from workflows.actions._identity import (
    IdentityInput,
    _describe,
    _identity_values,
    _record_identity,
)
from workflows.actions._orders import _lock_order
from workflows.documents import police_report
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    Declaration,
    Event,
    EventKind,
    HoldRelease,
    IdCapturedVia,
    IdNumberAccess,
    Order,
    PayoutDetailChange,
    PoliceReport,
    PoliceReportRow,
    PoliceReportStatus,
    PoliceRowKind,
    SellerIdentity,
    ShippingLabel,
    SideEffectKind,
    State,
    StoreCredit,
    StripeAccount,
    TradeIn,
    Unit,
)
from workflows.rules import compliance, erasure
from workflows.rules.permissions import RULES
from workflows.storage import police_report_destination

ANONYMISED = "anonymised"


# --- declaration -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeclarationInput:
    """What the buyer confirmed on the offer page. `wording` is what the page showed them."""

    confirmed: bool
    wording: str
    birth_date: date | None = None
    ip: str | None = None
    user_agent: str = ""


# --- seller identity ---------------------------------------------------------------------------
def _lock_with_order(trade_in: TradeIn) -> TradeIn:
    """Lock every device of the trade-in's order, in pk order (the lock order of every action
    that locks several devices), and return this one re-read. The seller's ID is the order's:
    recording, correcting or erasing it from two devices at once must wait for each other (else
    two "version 1"s, or two erasures that each leave the ID to the other device)."""
    return lock_order_devices(trade_in)[0]


@transaction.atomic(durable=True)
def seller_identity_record(
    *, trade_in: TradeIn, actor: Actor, data: IdentityInput, ip: str | None = None
) -> SellerIdentity:
    """Record the seller's photo ID the first time: by staff at the counter, or by the buyer
    on the signed page (actor BUYER). The number is stored only encrypted. Once an ID is
    recorded it is never overwritten: a manager corrects it (seller_identity_correct).

    The ID is the order's: given once, from any of its devices, it is every device's
    (workflows.rules.compliance.current_identity), so a second one from another device of
    the order is refused like a second one from the same device."""
    authorize(actor, Operation.RECORD_IDENTITY)
    by_buyer = actor == BUYER
    trade_in = _lock_with_order(trade_in)
    if trade_in.state not in (State.ACCEPTED, State.RECEIVED):
        raise TransitionRefused(
            _("An ID is recorded once the offer is accepted and until the payout (now: %s).")
            % trade_in.get_state_display().lower()
        )
    if compliance.current_identity(trade_in) is not None:
        if by_buyer:
            raise TransitionRefused(_("Your ID is already recorded. Contact us to correct it."))
        raise TransitionRefused(str(RULES[Operation.CORRECT_IDENTITY].refusal))
    identity = _record_identity(trade_in, actor, data, by_buyer=by_buyer, ip=ip)
    _touch_order(trade_in)
    return identity


@transaction.atomic(durable=True)
def seller_identity_correct(
    *, trade_in: TradeIn, actor: Actor, data: IdentityInput, reason: str
) -> SellerIdentity:
    """A manager corrects the recorded ID: a NEW version with the reason; the earlier ones
    stay (encrypted, revealable on the audit trail). Staff are refused and nothing changes.

    From any device of the order: the new version follows the order's current one, whichever
    device that was recorded on, and is then the current ID of every device of the order."""
    authorize(actor, Operation.CORRECT_IDENTITY)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the recorded ID is wrong (e.g. digits swapped at entry)."))
    trade_in = _lock_with_order(trade_in)
    if trade_in.anonymised_at:
        raise TransitionRefused(_("The buyer's personal data on %s was erased.") % trade_in)
    previous = compliance.current_identity(trade_in)
    if previous is None:
        raise TransitionRefused(_("No ID is recorded yet: record it first."))
    identity = SellerIdentity.objects.create(
        trade_in=trade_in,
        version=previous.version + 1,
        captured_via=IdCapturedVia.COUNTER,
        captured_by=actor,
        correction_reason=reason[:1000],
        **_identity_values(data, by_buyer=False),
    )
    _touch_order(trade_in)
    record_event(
        trade_in,
        kind=EventKind.IDENTITY_CORRECTED,
        actor=actor,
        note=_(
            "Seller's ID corrected, version %(old)d → %(new)d: %(before)s → %(after)s. "
            "Reason: %(reason)s"
        )
        % {
            "old": previous.version,
            "new": identity.version,
            "before": _describe(previous),
            "after": _describe(identity),
            "reason": reason[:1000],
        },
    )
    return identity


def _touch_order(trade_in: TradeIn) -> None:
    """The ID changed for every device of the order: each reported purchase among them gets a
    correction row (workflows.rules.compliance.police_correction compares the ID's version;
    the retention sweep looks at updated_at)."""
    trade_in.save(update_fields=["updated_at"])
    TradeIn.objects.filter(order_id=trade_in.order_id, police_report__isnull=False).exclude(
        pk=trade_in.pk
    ).update(updated_at=timezone.now())


@transaction.atomic(durable=True)
def seller_identity_reveal(
    *, identity: SellerIdentity, actor: Actor, purpose: str, trade_in: TradeIn | None = None
) -> str:
    """The unmasked ID number, for a manager; every call is on the audit trail. `trade_in`:
    the device whose page showed it (the ID is its order's, maybe recorded on another device
    of it); the timeline row goes there. By default, the device it was recorded on."""
    authorize(actor, Operation.REVEAL_ID_NUMBER)
    purpose = purpose.strip()
    if not purpose:
        raise InvalidInput(_("Say why you need to see the whole ID number."))
    identity = SellerIdentity.objects.select_related("trade_in").get(pk=identity.pk)
    shown_on = identity.trade_in if trade_in is None else trade_in
    if shown_on.order_id != identity.trade_in.order_id:
        raise InvalidInput(_("This ID is not the seller's of %s.") % shown_on)
    if identity.anonymised_at or shown_on.anonymised_at:
        raise TransitionRefused(_("This ID was erased."))
    IdNumberAccess.objects.create(identity=identity, actor=actor, purpose=purpose[:200])
    record_event(
        shown_on,
        kind=EventKind.ID_NUMBER_VIEWED,
        actor=actor,
        note=_("Whole ID number shown (version %(version)d, %(id)s): %(purpose)s")
        % {"version": identity.version, "id": identity.masked_number, "purpose": purpose[:200]},
    )
    return crypto.decrypt(identity.id_number_encrypted)


# --- hold period -------------------------------------------------------------------------------
@transaction.atomic(durable=True)
def unit_hold_release(*, unit: Unit, actor: Actor, police_reference: str) -> HoldRelease:
    """A manager ends the hold early, on the police's word (their reference is required)."""
    authorize(actor, Operation.RELEASE_HOLD)
    police_reference = police_reference.strip()
    if not police_reference:
        raise InvalidInput(_("Enter the police reference that allows the early release."))
    trade_in = lock_trade_in(unit.trade_in) if unit.trade_in_id else None
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if not compliance.unit_on_hold(unit):
        raise TransitionRefused(_("%s is not on hold.") % unit)
    release = HoldRelease.objects.create(
        unit=unit, police_reference=police_reference[:120], released_by=actor
    )
    if trade_in is not None:
        record_event(
            trade_in,
            kind=EventKind.HOLD_RELEASED,
            actor=actor,
            note=_("Released from the police hold early, police reference %s") % police_reference,
        )
    return release


# --- police report -----------------------------------------------------------------------------
def _report_destination() -> str:
    if settings.POLICE_REPORT == "folder":
        return police_report_destination()
    return settings.POLICE_REPORT_URL


@transaction.atomic(durable=True)
def police_report_create(*, actor: Actor = SYSTEM) -> PoliceReport | None:
    """Put every received, unreported purchase into one report, with a correction row for each
    reported purchase that changed since (returned, another amount), and schedule delivery.

    The rows are written now and never changed: a retry sends the same rows."""
    authorize(actor, Operation.REPORT_TO_POLICE)
    if settings.POLICE_REPORT == "off":
        return None
    # Locked so two workers running the schedule at once do not put a purchase in two reports.
    # The order's seller ID prefetched: purchase_now asks no query per row.
    due = list(
        compliance.order_identities(compliance.purchases_due_for_report())
        .select_for_update(of=("self",))
        .select_related("payout", "unit")
        .order_by("received_at", "pk")
    )
    # Found first, then locked: PostgreSQL locks no rows of a grouped (annotated) query.
    candidates = list(compliance.correction_candidates().values_list("pk", flat=True))
    changed = list(
        compliance.order_identities(TradeIn.objects.filter(pk__in=candidates))
        .select_for_update(of=("self",))
        .select_related("payout", "unit")
        .order_by("received_at", "pk")
    )
    corrections = [(t, compliance.police_correction(t)) for t in changed]
    corrections = [(t, change) for t, change in corrections if change]
    if not due and not corrections:
        return None
    now = timezone.localtime()
    report = PoliceReport.objects.create(
        destination=_report_destination(),
        filename=f"purchases-{now:%Y%m%d-%H%M%S}.csv",
        rows=len(due) + len(corrections),
    )
    lines = [(t, PoliceRowKind.PURCHASE, "") for t in due]
    lines += [(t, PoliceRowKind.CORRECTION, change) for t, change in corrections]
    for trade_in, kind, change in lines:
        purchase = compliance.purchase_now(trade_in)
        PoliceReportRow.objects.create(
            report=report,
            trade_in=trade_in,
            kind=kind,
            bought=purchase.bought,
            amount=purchase.amount,
            currency=purchase.currency,
            grade=purchase.grade,
            id_version=purchase.id_version,
            change=change[:300],
        )
    # The first report a purchase is in (the hold counts from its delivery).
    TradeIn.objects.filter(pk__in=[t.pk for t in due]).update(police_report=report)
    schedule(
        SideEffectKind.DELIVER_POLICE_REPORT,
        key=f"police-report:{report.pk}",
        trade_in=None,
        report_id=report.pk,
    )
    return report


@transaction.atomic(durable=True)
def police_report_delivered(*, report: PoliceReport, sha256: str) -> PoliceReport:
    """The police (folder or endpoint) has the file: stamp each purchase "reported at"."""
    report = PoliceReport.objects.select_for_update().get(pk=report.pk)
    if report.status == PoliceReportStatus.SENT:
        return report
    now = timezone.now()
    report.status, report.sent_at, report.sha256, report.last_error = (
        PoliceReportStatus.SENT,
        now,
        sha256,
        "",
    )
    report.save()
    for line in report.lines.select_related("trade_in").order_by("pk"):
        trade_in = line.trade_in
        if line.kind == PoliceRowKind.PURCHASE:
            # A queryset update: the row's own delivery is not a change of the trade-in
            # (updated_at is what compliance.correction_candidates compares).
            TradeIn.objects.filter(pk=trade_in.pk, reported_at__isnull=True).update(reported_at=now)
            note = _("Purchase reported to the police in %s") % report.filename
        else:
            note = _("Correction reported to the police in %(file)s: %(change)s") % {
                "file": report.filename,
                "change": line.change,
            }
        record_event(
            trade_in,
            kind=EventKind.REPORTED_TO_POLICE
            if line.kind == PoliceRowKind.PURCHASE
            else EventKind.POLICE_CORRECTION,
            actor=SYSTEM,
            note=note,
        )
    return report


def police_report_failed(*, report: PoliceReport, error: str, gave_up: bool) -> None:
    """Visible on the dashboard and the report's page; the outbox retries it."""
    PoliceReport.objects.filter(pk=report.pk).exclude(status=PoliceReportStatus.SENT).update(
        last_error=error[:2000],
        status=PoliceReportStatus.FAILED if gave_up else PoliceReportStatus.PENDING,
    )


def _record_id_numbers_shown(
    shown: list[tuple[TradeIn, SellerIdentity]], *, actor: Actor, purpose: str, timeline: bool
) -> None:
    """The audit trail of a file that shows whole ID numbers: one row per row of the file that
    shows one, and (when a person took the file) one timeline row on the trade-in of that row,
    like a reveal on its page (an order's one ID shows in each of its devices' rows)."""
    user = None if isinstance(actor, str) else actor
    IdNumberAccess.objects.bulk_create(
        IdNumberAccess(
            identity=identity,
            actor=user,
            actor_label=str(actor) if user is None else "",
            purpose=purpose[:200],
        )
        for _trade_in, identity in shown
    )
    if not timeline:
        return
    for trade_in, identity in shown:
        record_event(
            trade_in,
            kind=EventKind.ID_NUMBER_VIEWED,
            actor=actor,
            note=_("Whole ID number exported (version %(version)d, %(id)s): %(purpose)s")
            % {"version": identity.version, "id": identity.masked_number, "purpose": purpose},
        )


@transaction.atomic(durable=True)
def police_daily_export(*, day: date, actor: Actor) -> bytes:
    """One day's purchases as the police report's CSV, for a manager. Every whole ID number in
    it goes on the audit trail and on its trade-in's timeline, with who exported it."""
    authorize(actor, Operation.EXPORT_POLICE_DAY)
    data, shown = police_report.rows(police_report.day_lines(day))
    _record_id_numbers_shown(
        shown, actor=actor, purpose=f"daily police CSV for {day:%Y-%m-%d}", timeline=True
    )
    return police_report.render_csv(data)


@transaction.atomic(durable=True)
def police_report_render(*, report: PoliceReport, actor: Actor = SYSTEM) -> tuple[bytes, int]:
    """The batch's file as it is delivered now (the scheduled task), its ID numbers on the
    audit trail. Returns the CSV and its number of rows."""
    authorize(actor, Operation.REPORT_TO_POLICE)
    data, shown = police_report.rows(police_report.report_lines(report))
    _record_id_numbers_shown(
        shown, actor=actor, purpose=f"police report {report.filename}", timeline=False
    )
    return police_report.render_csv(data), len(data)


# --- retention and erasure ---------------------------------------------------------------------
def _lock_order_devices(trade_in: TradeIn) -> tuple[TradeIn, list[TradeIn]]:
    """The trade-in and every device of its order not yet anonymised, under row locks in pk
    order (workflows.actions._common.lock_order_devices), then the order.
    Prevents a device of the order being accepted or paid while its person's data is being
    erased."""
    trade_in, devices = lock_order_devices(trade_in)
    order = _lock_order(trade_in.order_id)
    for device in devices:
        device.order = order
    return trade_in, [d for d in devices if d.pk == trade_in.pk or d.anonymised_at is None]


def _anonymise(trade_in: TradeIn, devices: list[TradeIn], *, actor: Actor, note: str) -> TradeIn:
    """Remove the buyer's personal data: once on the order (it is every device's), the order's
    seller ID (every version, whichever device it was recorded on: it is the order's too),
    each device's own records of the person (declaration, store-credit address, shipping labels'
    PDFs) and the buyer's values wherever the timeline or a payout-detail change wrote them
    (workflows.rules.erasure); keep the devices, the money and the timeline. The callers
    checked every device may lose it."""
    order = trade_in.order
    ids = [device.pk for device in devices]
    values = _erase_written_values(order, ids)
    note = erasure.erase_values(note, values)  # the reason may quote them too
    order.buyer_name = ANONYMISED
    order.buyer_email = f"anonymised-{order.pk}@invalid.example"
    order.buyer_phone = ""
    for name in ("address_line1", "address_line2", "city", "region", "postcode"):
        setattr(order, name, "")
    order.save()
    now = timezone.now()
    for device in devices:
        device.anonymised_at = now
        device.save(update_fields=["anonymised_at", "updated_at"])
    SellerIdentity.objects.filter(trade_in__order_id=order.pk).update(
        id_number_encrypted="",
        id_number_last4="",
        issuer="",
        birth_date=None,
        expires_on=None,
        signature="",
        ip=None,
        anonymised_at=now,
    )
    Declaration.objects.filter(trade_in__in=ids).update(birth_date=None, ip=None, user_agent="")
    # The store credit stays (it is money owed); only the address it was sent to goes.
    StoreCredit.objects.filter(payout__trade_in__in=ids).update(email=order.buyer_email)
    for device in devices:
        record_event(device, kind=EventKind.ANONYMISED, actor=actor, note=note)
    return trade_in


def _erase_written_values(order: Order, ids: list[int]) -> set[str]:
    """The buyer's values where they were written down: the timeline's notes and each
    payout-detail change (what changed stays, not to what), the shipping labels, whose PDFs
    print the address (the label's tracking and cost stay), and the email a Stripe account
    is found by, unless another order of the buyer still uses it (the account and what it
    was paid stay). Returns the values it looked for."""
    changes = list(PayoutDetailChange.objects.filter(trade_in__in=ids))
    emails = {order.buyer_email.lower()} | {
        value.lower()
        for change in changes
        for value in change.changes.get("buyer_email", {}).values()
    }
    for account in StripeAccount.objects.filter(email__in=emails):
        if (
            not Order.objects.exclude(pk=order.pk)
            .filter(buyer_email__iexact=account.email)
            .exists()
        ):
            account.email = f"anonymised-{account.pk}@invalid.example"
            account.save(update_fields=["email", "updated_at"])
    events = list(Event.objects.filter(trade_in__in=ids).exclude(note="").only("note"))
    values = erasure.identifying_values(
        order, (c.changes for c in changes), (e.note for e in events)
    )
    for change in changes:
        change.changes = erasure.erased_changes(change.changes)
    PayoutDetailChange.objects.bulk_update(changes, ["changes"])
    erased = []
    for event in events:
        note = erasure.erase_values(event.note, values)
        if note != event.note:
            event.note = note
            erased.append(event)
    Event.objects.bulk_update(erased, ["note"], batch_size=500)
    ShippingLabel.objects.filter(trade_in__in=ids).update(pdf=b"")
    return values


@transaction.atomic(durable=True)
def trade_in_anonymise_expired(*, trade_in: TradeIn, actor: Actor = SYSTEM) -> TradeIn:
    """The scheduled retention task: the record's retention period is over, for every device
    of its order (their personal data is the order's: anonymised for all at once)."""
    authorize(actor, Operation.ANONYMISE_EXPIRED)
    trade_in, devices = _lock_order_devices(trade_in)
    refusal = compliance.retention_refusal(trade_in)
    if refusal is not None:
        raise TransitionRefused(refusal.message)
    return _anonymise(
        trade_in,
        devices,
        actor=SYSTEM,
        note=_("Retention period of %s days over: personal data anonymised")
        % settings.RETENTION_DAYS,
    )


@transaction.atomic(durable=True)
def buyer_erase(*, trade_in: TradeIn, actor: Actor, reason: str) -> TradeIn:
    """A manager erases the buyer's personal data on their request, where the law allows: for
    every device of the order, once every one of them allows it."""
    authorize(actor, Operation.ERASE_BUYER)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say who asked for the erasure and how (e.g. email of 3 May)."))
    trade_in, devices = _lock_order_devices(trade_in)
    refusal = compliance.erasure_refusal(trade_in)
    if refusal:
        raise TransitionRefused(refusal)
    return _anonymise(trade_in, devices, actor=actor, note=_("Erased on request: %s") % reason)
