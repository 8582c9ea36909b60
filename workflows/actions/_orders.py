"""Orders (workflows.models.orders): opened inside the action that creates their devices."""

from __future__ import annotations

import uuid

from workflows.models import Order
from workflows.rules.references import order_reference


def order_open(*, submission_key: str) -> Order:
    """A new order and its reference (from its id, so a new order never takes a reference a
    trade-in already has: migration 0035 gave every older trade-in the order of its own id).
    Inside the caller's transaction; the unique key makes a second submission of the same
    form raise IntegrityError, which the caller answers with the first one's result."""
    # The id is known only after the insert: a unique placeholder until the update below.
    order = Order.objects.create(reference=uuid.uuid4().hex[:20], submission_key=submission_key)
    order.reference = order_reference(order.pk)
    order.save(update_fields=["reference"])
    return order
