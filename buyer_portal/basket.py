"""The buyer's basket, kept server-side in the session (works without JavaScript): the devices
chosen so far, each as the form's device answers, before one submission sends them all as one
order (workflows.actions.order_submit). The rules (the same IMEI twice, the cap) are
workflows.rules.basket's; this module only keeps the list."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest

from workflows.models import QUESTIONS, Product
from workflows.rules.basket import DEVICE_FIELDS
from workflows.rules.pricing import suggested_offer

SESSION_KEY = "basket"
# The buyer's own answers carried from one device's page to the next (asked once).
CONTACT_FIELDS = (
    "buyer_name",
    "buyer_email",
    "buyer_phone",
    "fulfilment",
    "postcode",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "country",
    "payout_method",
)


@dataclass(frozen=True)
class Line:
    position: int
    product: Product
    answers: dict[str, str]
    imei: str
    estimate: Decimal | None


def _state(request: HttpRequest) -> dict:
    return request.session.get(SESSION_KEY) or {"devices": [], "contact": {}, "current": None}


def _save(request: HttpRequest, state: dict) -> None:
    request.session[SESSION_KEY] = state


def devices(request: HttpRequest) -> list[dict]:
    """The devices in the basket, as stored: product pk, the four answers and the IMEI."""
    return list(_state(request)["devices"])


def add(request: HttpRequest, cleaned: dict, contact: dict) -> None:
    state = _state(request)
    device = {name: cleaned[name] for name in DEVICE_FIELDS}
    device["product"] = cleaned["product"].pk
    state["devices"].append(device)
    state["contact"] = {name: contact.get(name, "") for name in CONTACT_FIELDS}
    state["current"] = None
    _save(request, state)


def take_out(request: HttpRequest, position: int, *, to_edit: bool = False) -> dict | None:
    """Device `position` (from 1) leaves the basket; to edit, it becomes the device on the
    form (its page opens filled in; adding or sending puts it back)."""
    state = _state(request)
    if not 1 <= position <= len(state["devices"]):
        return None
    device = state["devices"].pop(position - 1)
    if to_edit:
        state["current"] = device
    _save(request, state)
    return device


def current(request: HttpRequest) -> dict | None:
    """The device being edited, if any."""
    return _state(request)["current"]


def put_back(request: HttpRequest) -> None:
    """The buyer left the page of the device they were editing: it goes back at the end."""
    state = _state(request)
    if state["current"] is not None:
        state["devices"].append(state["current"])
        state["current"] = None
        _save(request, state)


def contact(request: HttpRequest) -> dict:
    return dict(_state(request)["contact"])


def clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def lines(stored: list[dict]) -> list[Line]:
    """Each stored device with its product and estimate, in one query. A product gone from
    the catalog since it was added drops out (the buyer sees the basket without it)."""
    products = Product.objects.select_related("device_model__make").in_bulk(
        {d["product"] for d in stored}
    )
    found = []
    for position, device in enumerate(stored, start=1):
        product = products.get(device["product"])
        if product is None:
            continue
        answers = {q: device[q] for q in QUESTIONS}
        found.append(
            Line(
                position=position,
                product=product,
                answers=answers,
                imei=device["imei"],
                estimate=suggested_offer(product, answers),
            )
        )
    return found
