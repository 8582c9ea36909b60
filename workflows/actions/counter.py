"""What the counter needs besides the transitions: notes on the timeline, re-sent emails."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from workflows.actions._common import Operation, authorize, lock_trade_in, record_event, schedule
from workflows.errors import InvalidInput
from workflows.models import EventKind, SideEffect, SideEffectKind, TradeIn
from workflows.selectors import resendable_emails

NOTE_MAX = 2000


@transaction.atomic(durable=True)
def trade_in_add_note(*, trade_in: TradeIn, actor: AbstractBaseUser, note: str) -> TradeIn:
    """An internal note on the timeline (never shown to the buyer)."""
    authorize(actor, Operation.ADD_NOTE)
    note = note.strip()
    if not note:
        raise InvalidInput(_("Write the note first."))
    if len(note) > NOTE_MAX:
        raise InvalidInput(_("Please keep a note under %d characters.") % NOTE_MAX)
    trade_in = lock_trade_in(trade_in)
    record_event(trade_in, kind=EventKind.NOTE_ADDED, actor=actor, note=note)
    return trade_in


@transaction.atomic(durable=True)
def email_resend(*, trade_in: TradeIn, actor: AbstractBaseUser, side_effect_id: int) -> SideEffect:
    """Send one of the buyer's emails again, through the outbox like the first time.

    The copy is a new outbox row with its own key (so it is sent once, however often the
    worker runs) and the same template and payload as the original.
    """
    authorize(actor, Operation.RESEND_EMAIL)
    trade_in = lock_trade_in(trade_in)
    original = next((e for e in resendable_emails(trade_in) if e.pk == side_effect_id), None)
    if original is None:
        raise InvalidInput(_("That email was not sent for this trade-in, so it cannot be re-sent."))
    event = record_event(
        trade_in,
        kind=EventKind.EMAIL_RESENT,
        actor=actor,
        note=_("Re-sending %(email)s") % {"email": original.payload["template"]},
    )
    return schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"{original.key}:resend:{event.pk}",
        trade_in=trade_in,
        **{**original.payload, "resend_of": original.pk},
    )
