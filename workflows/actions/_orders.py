"""Orders (workflows.models.orders), inside the caller's transaction: opened by the action that
creates their devices; offered by one email once every device is decided for quoting."""

from __future__ import annotations

import hashlib
import uuid

from django.utils import timezone

from workflows.actions._common import schedule
from workflows.models import Email, Order, SideEffect, SideEffectKind, TradeIn
from workflows.rules.orders import order_offer_quote_ids
from workflows.rules.references import order_reference


def order_open(*, submission_key: str, person: dict[str, str]) -> Order:
    """A new order, with the person's fields (`person`: PERSON_FIELDS, stored once for all its
    devices), and its reference (from its id, so a new order never takes a reference a
    trade-in already has: migration 0035 gave every older trade-in the order of its own id).
    Inside the caller's transaction; the unique key makes a second submission of the same
    form raise IntegrityError, which the caller answers with the first one's result."""
    # The id is known only after the insert: a unique placeholder until the update below.
    order = Order.objects.create(
        reference=uuid.uuid4().hex[:20], submission_key=submission_key, **person
    )
    order.reference = order_reference(order.pk)
    order.save(update_fields=["reference"])
    return order


def _save_person_fields(order: Order, names: list[str]) -> None:
    """Save a change of the order's person fields (PERSON_FIELDS): every device's record
    changed with it, so each device's updated_at moves too (the retention clock of a device
    never received, the trade-in lists' "last changed")."""
    order.save(update_fields=names)
    TradeIn.objects.filter(order_id=order.pk).update(updated_at=timezone.now())


def _lock_order(order_id: int) -> Order:
    """Lock the order row, always after its devices (lock order: devices in pk order, then
    the order). Two staff quoting two devices of one order at once: without it each would
    see the other device still "submitted" and neither would send the order's offer email."""
    return Order.objects.select_for_update().get(pk=order_id)


def _offer_order_if_ready(trade_in: TradeIn) -> SideEffect | None:
    """For an order of several devices: one offer email once every device is decided for
    quoting. The key names the quotes it offers, so the same offer is emailed once and a
    re-quote (a new quote row) emails the order again, whose older link then stops working."""
    order = _lock_order(trade_in.order_id)
    quote_ids = order_offer_quote_ids(order.devices.all())
    if quote_ids is None:
        return None
    digest = hashlib.sha256(",".join(map(str, sorted(quote_ids))).encode()).hexdigest()[:20]
    lead = order.devices.order_by("position").first()
    return schedule(
        SideEffectKind.SEND_EMAIL,
        key=f"email:order-offer:{order.pk}:{digest}",
        trade_in=lead,
        template=Email.ORDER_OFFER,
        order_id=order.pk,
        quote_ids=quote_ids,
    )
