"""One function per email to the buyer (and one to staff). Each has text and HTML templates
in templates/workflows/emails/. They are called by the side-effect task, never directly.
(Over 400 lines: every email the shop sends in one place, so their wording and what each one
reads can be checked side by side.)"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from workflows.integrations.payments import get_provider
from workflows.links import (
    absolute,
    order_offer_url,
    payout_setup_url,
    quote_url,
    revised_offer_token,
    revised_offer_url,
    status_token,
    status_url,
)
from workflows.models import (
    Email,
    Order,
    PayoutDetailChange,
    Quote,
    RevisedOffer,
    ShippingLabel,
    State,
    StoreCredit,
    TradeIn,
)
from workflows.rules.compliance import identity_of, identity_required_before
from workflows.rules.orders import is_multi_device
from workflows.selectors import order_box_devices
from workflows.selectors.orders import order_payout, settled_together

# The outbox row this email is sent for (set by the side-effect handler around the send).
_outbox_key: ContextVar[str | None] = ContextVar("outbox_key", default=None)


@contextmanager
def for_outbox_row(key: str) -> Iterator[None]:
    """Emails sent inside get the Message-ID of this outbox row: the same on every retry."""
    token = _outbox_key.set(key)
    try:
        yield
    finally:
        _outbox_key.reset(token)


def message_id(key: str) -> str:
    """A stable Message-ID for one outbox row: a retry of a send that may have gone through
    carries the same id, so mail servers and mail programs can drop the second copy."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<tradein.{digest}@{domain}>"


def _send(
    template: Email,
    *,
    to: str,
    subject: str,
    trade_in: TradeIn,
    attachments: list[tuple[str, bytes, str]] = (),
    reference: str = "",
    **extra: Any,
) -> str:
    context = {
        "trade_in": trade_in,
        "site_name": settings.SITE_NAME,
        "status_url": status_url(trade_in),
        "shop_address": settings.SHOP_ADDRESS,
        "shop_hours": settings.SHOP_HOURS,
        "currency": settings.CURRENCY,
        **extra,
    }
    text = render_to_string(f"workflows/emails/{template}.txt", context)
    html = render_to_string(f"workflows/emails/{template}.html", context)
    key = _outbox_key.get()
    message = EmailMultiAlternatives(
        subject=f"{subject} ({reference or trade_in.reference})",
        body=text,
        to=[to],
        # Answers reach the shop, whatever address the mail is sent from.
        reply_to=[settings.SHOP_REPLY_TO],
        headers={"Message-ID": message_id(key)} if key else {},
    )
    message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(*attachment)
    message.send()
    return subject


def received(trade_in: TradeIn) -> str:
    """One email for the whole order: a basket of several devices lists each (the action
    schedules it for the first device only)."""
    devices = list(trade_in.order.devices.select_related("product").order_by("position"))
    return _send(
        Email.RECEIVED,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="We received your trade-in request",
        reference=trade_in.order.reference,
        devices=devices if len(devices) > 1 else [],
        order=trade_in.order,
    )


def quote(trade_in: TradeIn, quote: Quote, *, counter: bool = False) -> str:
    subject = "A new offer for your device" if counter else "Your trade-in offer"
    return _send(
        Email.QUOTE,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject=subject,
        quote=quote,
        quote_url=quote_url(quote),
        counter=counter,
    )


def order_offer(trade_in: TradeIn, order: Order, quote_ids: list[int]) -> str:
    """One email for an order of several devices: each quoted device's offer, the total and
    one link to answer them all (workflows.rules.orders.order_ready_to_offer)."""
    quotes = list(
        Quote.objects.filter(pk__in=quote_ids)
        .select_related("trade_in__product")
        .order_by("trade_in__position")
    )
    return _send(
        Email.ORDER_OFFER,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Your trade-in offers",
        reference=order.reference,
        order=order,
        quotes=quotes,
        total=sum((quote.amount for quote in quotes), Decimal("0")),
        valid_until=min(quote.valid_until for quote in quotes),
        offer_url=order_offer_url(order, quote_ids),
    )


def _box(trade_in: TradeIn) -> dict[str, Any]:
    """What an order of several devices sends in its one box: the accepted devices (listed
    in the label and drop-off emails) and whether some were declined (they stay home). Empty
    for an order of one, whose emails read as they always did."""
    order = trade_in.order
    if not is_multi_device(order):
        return {}
    return {
        "order": order,
        "reference": order.reference,
        "devices": order_box_devices(order.pk),
        "declined": order.devices.filter(state=State.DECLINED).exists(),
    }


def accepted_label(trade_in: TradeIn, label: ShippingLabel) -> str:
    label_url = absolute(reverse("buyer_portal:label", args=[status_token(trade_in)]))
    return _send(
        Email.ACCEPTED_LABEL,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Offer accepted: your shipping label",
        label=label,
        label_url=label_url,
        **_box(trade_in),
    )


def accepted_pickup(trade_in: TradeIn) -> str:
    return _send(
        Email.ACCEPTED_PICKUP,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Offer accepted: how to drop off your device",
        **_box(trade_in),
    )


def declined(trade_in: TradeIn) -> str:
    return _send(
        Email.DECLINED,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Your trade-in was declined",
    )


def cancelled(trade_in: TradeIn) -> str:
    return _send(
        Email.CANCELLED,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Your trade-in was cancelled",
    )


def rerouted(trade_in: TradeIn) -> str:
    return _send(
        Email.REROUTED,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="About the device you sent us",
    )


def revised_offer(trade_in: TradeIn, offer: RevisedOffer) -> str:
    token = revised_offer_token(offer)
    photo_urls = [
        absolute(reverse("buyer_portal:revised_offer_photo", args=[token, photo.pk]))
        for photo in trade_in.photos.all()
    ]
    return _send(
        Email.REVISED_OFFER,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="We checked your device: a revised offer",
        offer=offer,
        offer_url=revised_offer_url(offer),
        photo_urls=photo_urls,
        default_is_accept=settings.REVISED_OFFER_DEFAULT == "accept",
    )


def revised_offer_accepted(trade_in: TradeIn, offer: RevisedOffer) -> str:
    return _send(
        Email.REVISED_OFFER_ACCEPTED,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Revised offer accepted",
        offer=offer,
    )


def return_label(trade_in: TradeIn, label: ShippingLabel) -> str:
    return _send(
        Email.RETURN_LABEL,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Your device is on its way back",
        label=label,
    )


def return_pickup(trade_in: TradeIn) -> str:
    return _send(
        Email.RETURN_PICKUP,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Your device is ready to collect",
    )


def _paid_with(payout) -> dict[str, Any]:
    """The devices one payment paid, or is about to pay (several for an order's one payout),
    and their sum; `reference` is the subject's (the order's, for several devices)."""
    lines = settled_together(payout) if payout.settlement_reference else order_payout(payout).lines
    return {
        "lines": lines if len(lines) > 1 else [],
        "total": sum((line.amount for line in lines), Decimal("0")),
        "reference": payout.trade_in.order.reference if len(lines) > 1 else "",
    }


def payout_sent(trade_in: TradeIn) -> str:
    return _send(
        Email.PAYOUT_SENT,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Your payment is on its way",
        payout=trade_in.payout,
        **_paid_with(trade_in.payout),
    )


def stripe_onboarding(trade_in: TradeIn) -> str:
    setup_url = payout_setup_url(trade_in.payout)
    return _send(
        Email.STRIPE_ONBOARDING,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Set up your payout",
        setup_url=setup_url,
        demo=get_provider().is_demo,
        **_paid_with(trade_in.payout),
    )


def store_credit(trade_in: TradeIn, credit: StoreCredit) -> str:
    return _send(
        Email.STORE_CREDIT,
        to=credit.email,
        trade_in=trade_in,
        subject="Your store credit code",
        credit=credit,
        **_paid_with(credit.payout),
        code=credit.code_for_buyer(),
    )


def payout_details_changed(
    trade_in: TradeIn, change: PayoutDetailChange, device_ids: list[int] | None = None
) -> str:
    """Told at the address the buyer had before: if they did not ask, they can stop it. For
    an order of several devices, one email under the order's reference listing the devices
    the change was written onto (`device_ids`)."""
    old_email = change.changes.get("buyer_email", {}).get("old") or trade_in.buyer_email
    devices = (
        list(
            TradeIn.objects.filter(pk__in=device_ids).select_related("product").order_by("position")
        )
        if device_ids
        else []
    )
    return _send(
        Email.PAYOUT_DETAILS_CHANGED,
        to=old_email,
        trade_in=trade_in,
        subject="Your payout details were changed",
        reference=trade_in.order.reference if devices else "",
        devices=devices,
        change=change,
        lines=[
            (name.replace("_", " ").capitalize(), v["old"] or "—", v["new"] or "—")
            for name, v in change.changes.items()
        ],
    )


def email_changed(trade_in: TradeIn, *, old_email: str, new_email: str) -> str:
    return _send(
        Email.PAYOUT_DETAILS_CHANGED,
        to=old_email,
        trade_in=trade_in,
        subject="Your contact email was changed",
        change=None,
        lines=[("Email", old_email, new_email)],
    )


def staff_new_submission(trade_in: TradeIn) -> str:
    admin_url = absolute(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    return _send(
        Email.STAFF_NEW_SUBMISSION,
        to=settings.STAFF_NOTIFY_EMAIL,
        trade_in=trade_in,
        subject=f"New trade-in: {trade_in.product}",
        admin_url=admin_url,
    )


def _identity_link(trade_in: TradeIn) -> dict[str, Any]:
    """Where the seller adds their photo ID, when the law asks for it before paying."""
    identity_url = ""
    if identity_required_before("payout") and identity_of(trade_in) is None:
        identity_url = absolute(reverse("buyer_portal:identity", args=[status_token(trade_in)]))
    return {"identity_url": identity_url, "id_at_dropoff": identity_required_before("dropoff")}


def order_receipt(trade_in: TradeIn, order: Order) -> str:
    """An order of several devices: one receipt for what the buyer sold us in it (the order's
    PDF), sent when they answer the order's offers. `trade_in` is its first accepted device."""
    from workflows.documents.receipts import (
        order_purchase,
        order_receipt_filename,
        order_receipt_pdf,
    )

    purchase = order_purchase(order)
    return _send(
        Email.ORDER_RECEIPT,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Your purchase receipt",
        reference=order.reference,
        attachments=[
            (
                order_receipt_filename(order),
                order_receipt_pdf(order, purchase),
                "application/pdf",
            )
        ],
        order=order,
        purchase=purchase,
        **_identity_link(trade_in),
    )


def purchase_receipt(trade_in: TradeIn) -> str:
    """The purchase record, as a PDF attachment, at acceptance (workflows.documents.receipts)."""
    # Deferred: the PDF library (fpdf) loads only when a receipt is sent.
    from workflows.documents.receipts import purchase_receipt_pdf, receipt_filename

    return _send(
        Email.PURCHASE_RECEIPT,
        to=trade_in.buyer_email,
        trade_in=trade_in,
        subject="Your purchase receipt",
        attachments=[
            (receipt_filename(trade_in), purchase_receipt_pdf(trade_in), "application/pdf")
        ],
        **_identity_link(trade_in),
    )
