"""The seller's photo ID as the actions record it, inside the caller's transaction: shared by
the dealer-record actions (workflows.actions.compliance) and the counter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from workflows import crypto
from workflows.actions._common import BUYER, Actor, record_event
from workflows.errors import InvalidInput
from workflows.models import EventKind, IdCapturedVia, IdType, SellerIdentity, TradeIn
from workflows.rules import compliance

ID_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9 -]{2,39}$")


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


def _identity_values(data: IdentityInput, *, by_buyer: bool) -> dict:
    number, issuer = _clean_identity(data, by_buyer=by_buyer)
    return dict(
        id_type=data.id_type,
        id_number_encrypted=crypto.encrypt(number),
        id_number_last4=number.replace(" ", "").replace("-", "")[-4:],
        issuer=issuer,
        birth_date=data.birth_date,
        expires_on=data.expires_on,
        signature=data.signature.strip()[:120],
    )


def _describe(identity: SellerIdentity) -> str:
    return f"{identity.get_id_type_display()} {identity.masked_number}, {identity.issuer}"


def _record_identity(
    trade_in: TradeIn, actor: Actor, data: IdentityInput, *, by_buyer: bool, ip: str | None = None
) -> SellerIdentity:
    """Version 1 of the seller's ID, encrypted, with its timeline row. The caller checked
    that none is recorded yet on any device of the order and authorized the actor."""
    identity = SellerIdentity.objects.create(
        trade_in=trade_in,
        version=1,
        captured_via=IdCapturedVia.BUYER if by_buyer else IdCapturedVia.COUNTER,
        captured_by=None if actor == BUYER else actor,
        ip=ip or None,
        **_identity_values(data, by_buyer=by_buyer),
    )
    record_event(
        trade_in,
        kind=EventKind.IDENTITY_RECORDED,
        actor=actor,
        note=_("Seller's ID recorded (%(via)s): %(id)s")
        % {"via": identity.get_captured_via_display(), "id": _describe(identity)},
    )
    return identity
