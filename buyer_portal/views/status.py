"""The buyer's status page (from any of our emails), their shipping label and the receipt of
an order of several devices."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseGone
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from buyer_portal.views.links import trade_in_or_invalid
from buyer_portal.views.submission import order_devices
from workflows.documents import receipts
from workflows.links import order_offer_token, quote_token, revised_offer_token
from workflows.models import LABEL_ERASED, Direction, State, TradeIn
from workflows.rules.compliance import identity_missing
from workflows.rules.orders import is_multi_device, order_offer_quote_ids
from workflows.rules.predicates import wants_pickup
from workflows.selectors import box_label

# The buyer's journey, in their words; each trade-in state sits at one of these steps.
JOURNEY = [
    gettext_lazy("Request sent"),
    gettext_lazy("Offer"),
    gettext_lazy("Send the device"),
    gettext_lazy("We check it"),
    gettext_lazy("Paid"),
]
JOURNEY_STEP = {
    State.SUBMITTED: 1,
    State.QUOTED: 1,
    State.DECLINED: 1,
    State.EXPIRED: 1,
    State.ACCEPTED: 2,
    State.CANCELLED: 2,
    State.RECEIVED: 3,
    State.REROUTED: 3,
    State.REOFFERED: 3,
    State.RETURNED: 3,
    State.RECYCLED: 3,
    State.CLOSED: 5,
}
STOPPED = {
    State.DECLINED,
    State.EXPIRED,
    State.CANCELLED,
    State.REROUTED,
    State.RETURNED,
    State.RECYCLED,
}


def status(request: HttpRequest, token: str) -> HttpResponse:
    trade_in, invalid = trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    quote = trade_in.latest_quote()
    devices = order_devices(trade_in)
    current = JOURNEY_STEP[trade_in.state]
    here = "stopped" if trade_in.state in STOPPED else "current"
    journey = [
        {"label": label, "state": "done" if i < current else here if i == current else "todo"}
        for i, label in enumerate(JOURNEY)
    ]
    return render(
        request,
        "buyer_portal/status.html",
        {
            "trade_in": trade_in,
            "order_devices": devices,
            "quote": quote,
            "offer_url": _offer_url(trade_in, quote),
            **_after_inspection(trade_in),
            "journey": journey,
            "pickup": wants_pickup(trade_in),
            "has_label": box_label(trade_in) is not None,
            # An order of several devices, something accepted: its one receipt (the view says
            # whether anything is still bought). An order of one has its emailed receipt.
            "order_receipt": len(devices) > 1 and any(d["trade_in"].accepted_at for d in devices),
            "identity_needed": identity_missing(trade_in, "payout")
            and trade_in.state in (State.ACCEPTED, State.RECEIVED),
            "status_token": token,
            "shop_address": settings.SHOP_ADDRESS,
            "shop_hours": settings.SHOP_HOURS,
        },
    )


def _offer_url(trade_in: TradeIn, quote) -> str:
    """Where the buyer answers this device's offer: its own link, or for an order of several
    devices the order's page, once every device is decided ("" until then)."""
    if not quote or trade_in.state != State.QUOTED:
        return ""
    if not is_multi_device(trade_in.order):
        return reverse("buyer_portal:quote", args=[quote_token(quote)])
    quote_ids = order_offer_quote_ids(trade_in.order.devices.all())
    if quote_ids is None:
        return ""
    return reverse("buyer_portal:order_offer", args=[order_offer_token(trade_in.order, quote_ids)])


def _after_inspection(trade_in: TradeIn) -> dict:
    """A revised offer to answer, or the way the device comes back."""
    if trade_in.state not in (State.REOFFERED, State.RETURNED, State.RECEIVED, State.CLOSED):
        return {}
    offer = trade_in.revised_offers.first()
    return {
        "revised_offer": offer,
        "revised_offer_token": revised_offer_token(offer)
        if offer and trade_in.state == State.REOFFERED
        else "",
        "return_label": trade_in.labels.filter(
            direction=Direction.TO_BUYER, voided_at__isnull=True
        ).first(),
    }


def label_pdf(request: HttpRequest, token: str) -> HttpResponse:
    trade_in, invalid = trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    # The buyer's own label to us; a return label is the shop's to print.
    label = box_label(trade_in)  # an order's one label serves every device in the box
    if label is None:
        raise Http404(_("No shipping label yet."))
    if label.erased:
        return HttpResponseGone(LABEL_ERASED, content_type="text/plain; charset=utf-8")
    response = HttpResponse(bytes(label.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-{trade_in.reference}.pdf"'
    return response


def order_receipt(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    """The receipt of the order named in the address, for the holder of the status link of one
    of its devices (the label's rule); a link of another order's device is refused."""
    trade_in, invalid = trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    order = trade_in.order
    if order.reference != reference or not is_multi_device(order):
        raise Http404(_("No receipt here."))
    purchase = receipts.order_purchase(order)
    if not purchase.bought:
        raise Http404(_("There is no purchase yet: no offer was accepted."))
    response = HttpResponse(
        receipts.order_receipt_pdf(order, purchase), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{receipts.order_receipt_filename(order)}"'
    return response
