"""The shop's IMEI blocklist. Staff add entries; only managers change or remove them.

Every write leaves a `BlockedImeiChange` row, and a line on the timeline of each open
trade-in with that IMEI. Removing an entry never clears a red flag an earlier check raised
(see workflows.rules.redflags): only a manager's written override does.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from workflows.actions._common import Actor, Operation, authorize, record_event
from workflows.errors import InvalidInput
from workflows.models import OPEN_STATES, BlockedImei, BlockedImeiChange, EventKind, TradeIn
from workflows.rules.parsers import normalize_imei

TIMELINE = {
    BlockedImeiChange.Kind.ADDED: EventKind.BLOCKLIST_ADDED,
    BlockedImeiChange.Kind.CHANGED: EventKind.BLOCKLIST_CHANGED,
    BlockedImeiChange.Kind.REMOVED: EventKind.BLOCKLIST_REMOVED,
}


def _snapshot(entry: BlockedImei) -> dict[str, str]:
    return {"imei": entry.imei, "reason": entry.reason, "note": entry.note}


def _audit(kind: str, imei: str, actor: Actor, before: dict, after: dict, note: str = "") -> None:
    BlockedImeiChange.objects.create(
        imei=imei, kind=kind, before=before, after=after, note=note, actor=actor
    )
    text = _("Blocklist entry %(kind)s: %(before)s → %(after)s") % {
        "kind": kind,
        "before": before.get("reason", "—"),
        "after": after.get("reason", "—"),
    } + (f" ({note})" if note else "")
    for trade_in in TradeIn.objects.filter(imei=imei, state__in=OPEN_STATES):
        record_event(trade_in, kind=TIMELINE[kind], actor=actor, note=text)


def _clean(reason: str, note: str) -> tuple[str, str]:
    if reason not in BlockedImei.Reason.values:
        raise InvalidInput(_("Choose why the IMEI is blocked."))
    note = note.strip()
    if len(note) > 200:
        raise InvalidInput(_("Keep the note under 200 characters."))
    return reason, note


@transaction.atomic(durable=True)
def blocked_imei_add(*, actor: Actor, imei: str, reason: str, note: str = "") -> BlockedImei:
    authorize(actor, Operation.BLOCKLIST_ADD)
    imei = normalize_imei(imei)
    reason, note = _clean(reason, note)
    try:
        with transaction.atomic():
            entry = BlockedImei.objects.create(imei=imei, reason=reason, note=note)
    except IntegrityError:
        raise InvalidInput(_("IMEI %s is already on the blocklist.") % imei) from None
    _audit(BlockedImeiChange.Kind.ADDED, imei, actor, {}, _snapshot(entry))
    return entry


@transaction.atomic(durable=True)
def blocked_imei_change(
    *, entry: BlockedImei, actor: Actor, reason: str, note: str = ""
) -> BlockedImei:
    """A manager changes why an IMEI is blocked (its IMEI stays: remove it and add another)."""
    authorize(actor, Operation.BLOCKLIST_CHANGE)
    entry = BlockedImei.objects.select_for_update().get(pk=entry.pk)
    reason, note = _clean(reason, note)
    before = _snapshot(entry)
    entry.reason, entry.note = reason, note
    if _snapshot(entry) == before:
        return entry
    entry.save(update_fields=["reason", "note"])
    _audit(BlockedImeiChange.Kind.CHANGED, entry.imei, actor, before, _snapshot(entry))
    return entry


@transaction.atomic(durable=True)
def blocked_imei_remove(*, entry: BlockedImei, actor: Actor, reason: str = "") -> None:
    """A manager takes an IMEI off the blocklist. Trade-ins it flagged stay flagged until a
    manager overrides each one with a written reason."""
    authorize(actor, Operation.BLOCKLIST_REMOVE)
    entry = BlockedImei.objects.select_for_update().filter(pk=entry.pk).first()
    if entry is None:
        return  # removed by somebody else a moment ago
    before = _snapshot(entry)
    entry.delete()
    _audit(BlockedImeiChange.Kind.REMOVED, before["imei"], actor, before, {}, reason.strip())
