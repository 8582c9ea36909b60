"""The references a buyer reads over the phone: one per order, numbered per device."""

from __future__ import annotations


def order_reference(order_id: int) -> str:
    return f"TI-{order_id:06d}"


def device_reference(order_reference: str, *, position: int, count: int) -> str:
    """A basket of one looks exactly like a trade-in always did: the order's reference.
    The devices of a larger basket are numbered from 1: "TI-000123-1", "TI-000123-2"."""
    if count == 1:
        return order_reference
    return f"{order_reference}-{position}"
