"""Second-hand dealer records: declaration, seller identity, hold release, police reports,
retention and erasure. The rules are settings; the predicates are in workflows.compliance."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows import compliance, crypto
from workflows.actions._common import (
    BUYER,
    SYSTEM,
    Actor,
    Operation,
    authorize,
    lock_trade_in,
    record_event,
    schedule,
)
from workflows.errors import InvalidInput, TransitionRefused
from workflows.models import (
    Declaration,
    EventKind,
    HoldRelease,
    IdCapturedVia,
    IdNumberAccess,
    IdType,
    PoliceReport,
    PoliceReportStatus,
    Quote,
    SellerIdentity,
    SideEffectKind,
    State,
    StoreCredit,
    TradeIn,
    Unit,
)

ID_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9 -]{2,39}$")
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


def check_declaration(declaration: DeclarationInput | None) -> None:
    """Raise if the settings require a declaration and this one does not do."""
    if not settings.DECLARATION_REQUIRED:
        return
    if declaration is None or not declaration.confirmed:
        raise InvalidInput(_("Please confirm the declaration to accept the offer."))
    if declaration.wording != compliance.declaration_text():
        raise InvalidInput(
            _("The declaration's wording has changed since the page opened: read it again.")
        )
    problem = compliance.birth_date_problem(
        declaration.birth_date, required=settings.DECLARATION_ASKS_BIRTH_DATE
    )
    if problem:
        raise InvalidInput(_(problem))


def record_declaration(
    trade_in: TradeIn, quote: Quote | None, declaration: DeclarationInput | None, actor: Actor
) -> Declaration | None:
    """Check and store the declaration inside the caller's accepting transaction.

    Called by every action that completes a purchase (accepting an offer or a revised offer).
    """
    check_declaration(declaration)
    if declaration is None or not declaration.confirmed:
        return None  # not required, and not given
    row = Declaration.objects.create(
        trade_in=trade_in,
        quote=quote,
        wording=declaration.wording,
        birth_date=declaration.birth_date,
        ip=declaration.ip or None,
        user_agent=declaration.user_agent[:300],
    )
    record_event(
        trade_in,
        kind=EventKind.DECLARED,
        actor=actor,
        note=_("The seller declared ownership and lawful age: “%s”") % declaration.wording,
    )
    return row


# --- seller identity ---------------------------------------------------------------------------
@dataclass(frozen=True)
class IdentityInput:
    id_type: str
    id_number: str
    issuer: str
    birth_date: date | None
    expires_on: date | None
    signature: str = ""


def _clean_identity(data: IdentityInput, *, by_buyer: bool) -> tuple[str, str]:
    if data.id_type not in IdType.values:
        raise InvalidInput(_("Choose the type of ID."))
    number = re.sub(r"\s+", " ", data.id_number.strip().upper())
    if not number:
        raise InvalidInput(_("Enter the ID number."))
    if not ID_NUMBER.match(number):
        raise InvalidInput(
            _("The ID number is 3 to 40 letters, digits, spaces or dashes, as printed on the ID.")
        )
    issuer = data.issuer.strip()
    if not issuer:
        raise InvalidInput(_("Enter the state or country that issued the ID."))
    if len(issuer) > 80:
        raise InvalidInput(_("The issuing state or country is at most 80 characters."))
    problem = compliance.birth_date_problem(data.birth_date, required=True)
    if problem:
        raise InvalidInput(_(problem))
    if data.expires_on is None:
        raise InvalidInput(_("Enter the ID's expiry date."))
    if data.expires_on < timezone.localdate():
        raise InvalidInput(
            _("This ID expired on %s: we need an ID that is still valid.")
            % data.expires_on.strftime("%Y-%m-%d")
        )
    if by_buyer and not data.signature.strip():
        raise InvalidInput(_("Type your full name to sign."))
    return number, issuer


@transaction.atomic(durable=True)
def seller_identity_record(
    *, trade_in: TradeIn, actor: Actor, data: IdentityInput, ip: str | None = None
) -> SellerIdentity:
    """Record the seller's photo ID: by staff at the counter, or by the buyer on the signed
    page (actor BUYER). The number is stored only encrypted."""
    authorize(actor, Operation.RECORD_IDENTITY)
    by_buyer = actor == BUYER
    trade_in = lock_trade_in(trade_in)
    if trade_in.state not in (State.ACCEPTED, State.RECEIVED):
        raise TransitionRefused(
            _("An ID is recorded once the offer is accepted and until the payout (now: %s).")
            % trade_in.get_state_display().lower()
        )
    existing = SellerIdentity.objects.filter(trade_in=trade_in).first()
    if existing is not None and by_buyer:
        raise TransitionRefused(_("Your ID is already recorded. Contact us to correct it."))
    number, issuer = _clean_identity(data, by_buyer=by_buyer)
    values = dict(
        id_type=data.id_type,
        id_number_encrypted=crypto.encrypt(number),
        id_number_last4=number.replace(" ", "").replace("-", "")[-4:],
        issuer=issuer,
        birth_date=data.birth_date,
        expires_on=data.expires_on,
        captured_via=IdCapturedVia.BUYER if by_buyer else IdCapturedVia.COUNTER,
        captured_by=None if by_buyer else actor,
        signature=data.signature.strip()[:120],
        ip=ip or None,
        captured_at=timezone.now(),
        anonymised_at=None,
    )
    identity, created = SellerIdentity.objects.update_or_create(trade_in=trade_in, defaults=values)
    record_event(
        trade_in,
        kind=EventKind.IDENTITY_RECORDED,
        actor=actor,
        note=(_("Seller's ID recorded: %s") if created else _("Seller's ID corrected: %s"))
        % f"{identity.get_id_type_display()} {identity.masked_number}, {issuer}",
    )
    return identity


@transaction.atomic(durable=True)
def seller_identity_reveal(*, identity: SellerIdentity, actor: Actor, purpose: str) -> str:
    """The unmasked ID number, for a manager; every call is on the audit trail."""
    authorize(actor, Operation.REVEAL_ID_NUMBER)
    purpose = purpose.strip()
    if not purpose:
        raise InvalidInput(_("Say why you need to see the whole ID number."))
    identity = SellerIdentity.objects.select_related("trade_in").get(pk=identity.pk)
    if identity.anonymised_at:
        raise TransitionRefused(_("This ID was erased."))
    IdNumberAccess.objects.create(identity=identity, actor=actor, purpose=purpose[:200])
    record_event(
        identity.trade_in,
        kind=EventKind.ID_NUMBER_VIEWED,
        actor=actor,
        note=_("Whole ID number shown: %s") % purpose[:200],
    )
    return crypto.decrypt(identity.id_number_encrypted)


# --- hold period -------------------------------------------------------------------------------
def refuse_if_on_hold(unit: Unit, transition: str = "sell") -> None:
    """Raise if the police hold refuses this Unit transition. `move_unit`, the one helper every
    unit move goes through, calls it inside its transaction, so no path skips it."""
    refusal = compliance.hold_refusal(unit, transition)
    if refusal:
        raise TransitionRefused(refusal)


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
        return str(settings.POLICE_REPORT_DIR)
    return settings.POLICE_REPORT_URL


@transaction.atomic(durable=True)
def police_report_create(*, actor: Actor = SYSTEM) -> PoliceReport | None:
    """Put every received, unreported purchase into one report and schedule its delivery."""
    authorize(actor, Operation.REPORT_TO_POLICE)
    if settings.POLICE_REPORT == "off":
        return None
    # Locked so two workers running the schedule at once do not put a purchase in two reports.
    due = list(compliance.purchases_due_for_report().select_for_update().order_by("received_at"))
    if not due:
        return None
    now = timezone.localtime()
    report = PoliceReport.objects.create(
        destination=_report_destination(),
        filename=f"purchases-{now:%Y%m%d-%H%M%S}.csv",
        rows=len(due),
    )
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
    for trade_in in TradeIn.objects.filter(police_report=report).select_for_update():
        trade_in.reported_at = now
        trade_in.save(update_fields=["reported_at", "updated_at"])
        record_event(
            trade_in,
            kind=EventKind.REPORTED_TO_POLICE,
            actor=SYSTEM,
            note=_("Purchase reported to the police in %s") % report.filename,
        )
    return report


def police_report_failed(*, report: PoliceReport, error: str, gave_up: bool) -> None:
    """Visible on the dashboard and the report's page; the outbox retries it."""
    PoliceReport.objects.filter(pk=report.pk).exclude(status=PoliceReportStatus.SENT).update(
        last_error=error[:2000],
        status=PoliceReportStatus.FAILED if gave_up else PoliceReportStatus.PENDING,
    )


# --- retention and erasure ---------------------------------------------------------------------
def _anonymise(trade_in: TradeIn, *, actor: Actor, note: str) -> TradeIn:
    """Remove the buyer's personal data; keep the device, the money and the timeline."""
    trade_in.buyer_name = ANONYMISED
    trade_in.buyer_email = f"anonymised-{trade_in.pk}@invalid.example"
    trade_in.buyer_phone = ""
    for name in ("address_line1", "address_line2", "city", "region", "postcode"):
        setattr(trade_in, name, "")
    trade_in.anonymised_at = timezone.now()
    trade_in.save()
    SellerIdentity.objects.filter(trade_in=trade_in).update(
        id_number_encrypted="",
        id_number_last4="",
        issuer="",
        birth_date=None,
        expires_on=None,
        signature="",
        ip=None,
        anonymised_at=trade_in.anonymised_at,
    )
    Declaration.objects.filter(trade_in=trade_in).update(birth_date=None, ip=None, user_agent="")
    # The store credit stays (it is money owed); only the address it was sent to goes.
    StoreCredit.objects.filter(payout__trade_in=trade_in).update(email=trade_in.buyer_email)
    record_event(trade_in, kind=EventKind.ANONYMISED, actor=actor, note=note)
    return trade_in


@transaction.atomic(durable=True)
def trade_in_anonymise_expired(*, trade_in: TradeIn, actor: Actor = SYSTEM) -> TradeIn:
    """The scheduled retention task: the record's retention period is over."""
    authorize(actor, Operation.ANONYMISE_EXPIRED)
    trade_in = lock_trade_in(trade_in)
    if trade_in.anonymised_at or trade_in.state in (State.SUBMITTED, State.QUOTED, State.ACCEPTED):
        raise TransitionRefused(_("%s is open or already anonymised.") % trade_in)
    if timezone.now() < compliance.retention_ends(trade_in):
        raise TransitionRefused(_("%s is still within its retention period.") % trade_in)
    return _anonymise(
        trade_in,
        actor=SYSTEM,
        note=_("Retention period of %s days over: personal data anonymised")
        % settings.RETENTION_DAYS,
    )


@transaction.atomic(durable=True)
def buyer_erase(*, trade_in: TradeIn, actor: Actor, reason: str) -> TradeIn:
    """A manager erases the buyer's personal data on their request, where the law allows."""
    authorize(actor, Operation.ERASE_BUYER)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say who asked for the erasure and how (e.g. email of 3 May)."))
    trade_in = lock_trade_in(trade_in)
    refusal = compliance.erasure_refusal(trade_in)
    if refusal:
        raise TransitionRefused(refusal)
    return _anonymise(trade_in, actor=actor, note=_("Erased on request: %s") % reason)
