"""Business sellers (issue 20): a device list becomes one order, and an order is quoted in bulk.

The list is read and checked by workflows.rules.device_list (writing nothing); the seller (or
staff for a business customer) then sends its good rows here. Each device is written by the
same private steps as a buyer's basket (workflows.actions.submission), in bulk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from workflows.actions._common import Actor, Operation, authorize
from workflows.actions._lifecycle import _quote
from workflows.actions._orders import order_open
from workflows.actions.submission import Submission, _create_devices, _fields, person_fields
from workflows.errors import DomainError, InvalidInput
from workflows.models import Order, State, TradeIn
from workflows.rules.basket import repeated_imei, repeated_imei_message
from workflows.rules.device_list import DeviceRow
from workflows.rules.redflags import live_imei_holders


@dataclass(frozen=True, kw_only=True)
class SellerDetails:
    """What a device list's order asks once: the seller, their address, ship or drop-off and
    how they are paid (the buyer form's fields of the same names)."""

    buyer_name: str
    buyer_email: str
    buyer_phone: str = ""
    fulfilment: str
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postcode: str = ""
    country: str = ""
    payout_method: str

    def submission(self, device: DeviceRow) -> Submission:
        return Submission(
            product=device.product, imei=device.imei, **device.answers(), **asdict(self)
        )


def order_submit_list(
    *,
    devices: Sequence[DeviceRow],
    details: SellerDetails,
    submission_key: str,
    actor: Actor,
) -> Order:
    """One order of the list's devices, numbered 1..N in the list's order, each checked as a
    single submission is and its IMEI check scheduled. All or nothing: a device whose IMEI is
    held by an open trade-in or a stocked unit (checked again inside the transaction, after
    the list was read) refuses the whole order, naming its line. The same key twice gives the
    first order. At most DEVICE_LIST_MAX_ROWS devices.

    Queries: about 12 (catalog rows come with the list), however many devices."""
    authorize(actor, Operation.SUBMIT_DEVICE_LIST)
    if not devices:
        raise InvalidInput(_("The list has no device we can take."))
    limit = settings.DEVICE_LIST_MAX_ROWS
    if len(devices) > limit:
        raise InvalidInput(
            _("One order takes up to %(limit)d devices; this one has %(count)d.")
            % {"limit": limit, "count": len(devices)}
        )
    # The seller's details once, without a line number; then each device by its line.
    _fields(details.submission(devices[0]))
    rows: list[dict] = []
    for device in devices:
        try:
            rows.append(_fields(details.submission(device)))
        except InvalidInput as exc:
            raise InvalidInput(
                _("Line %(line)d: %(error)s") % {"line": device.line, "error": exc.message}
            ) from None
    if repeated := repeated_imei([row["imei"] for row in rows]):
        raise InvalidInput(repeated_imei_message(*repeated))
    try:
        with transaction.atomic(durable=True):
            if sent := Order.objects.filter(submission_key=submission_key).first():
                return sent  # sent before (a reload of the POST): its IMEIs are its own
            # The list was checked when it was read; another order may have taken one of its
            # IMEIs since (the review page waits for a person). One device, one live trade-in.
            holders = live_imei_holders({row["imei"] for row in rows})
            taken = [device.line for device in devices if device.imei in holders]
            if taken:
                raise InvalidInput(
                    _(
                        "Since the list was read, another trade-in took the IMEI on line "
                        "%(lines)s. Nothing was sent: please remove that line and upload the "
                        "list again."
                    )
                    % {"lines": ", ".join(str(n) for n in taken)}
                )
            order = order_open(submission_key=submission_key, person=person_fields(rows[0]))
            _create_devices(order, rows, actor=actor)
    except IntegrityError:
        # Sent twice (a double click, a reload of the POST): the first order is the answer.
        return Order.objects.get(submission_key=submission_key)
    return order


@dataclass(frozen=True)
class BulkQuote:
    quoted: list[TradeIn]
    skipped: list[tuple[TradeIn, str]]  # the device and why it was not quoted


@transaction.atomic(durable=True)
def order_quote_suggested(*, order: Order, actor: Actor) -> BulkQuote:
    """Quote every new device of the order at its suggested offer, each by the quote step a
    staff member's quote takes (its checks, its timeline row, its email). A device that cannot
    be quoted (no price, IMEI check not finished, a red flag, above the manager's threshold,
    already quoted) is skipped with the reason; the others are quoted."""
    authorize(actor, Operation.QUOTE)
    # Every device locked in one query, in position order (the order two staff would meet),
    # so a buyer's answer or a second bulk quote waits for this one.
    devices = list(TradeIn.objects.select_for_update().filter(order=order).order_by("position"))
    quoted: list[TradeIn] = []
    skipped: list[tuple[TradeIn, str]] = []
    for trade_in in devices:
        if trade_in.state != State.SUBMITTED:
            skipped.append((trade_in, _("not new (%s)") % trade_in.get_state_display().lower()))
            continue
        if trade_in.suggested_offer is None:
            skipped.append((trade_in, _("no price in the price list")))
            continue
        try:
            with transaction.atomic():  # a refused device leaves nothing behind
                _quote(trade_in=trade_in, actor=actor, amount=trade_in.suggested_offer)
        except DomainError as exc:
            skipped.append((trade_in, exc.message))
        else:
            quoted.append(trade_in)
    return BulkQuote(quoted=quoted, skipped=skipped)
