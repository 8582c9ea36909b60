"""The counter's rules: which step a buyback is at, when cash needs a manager, what the drawer
should hold, and what a drawn signature must be. Read-only; the actions in
workflows.actions.counter_buyback enforce them and the counter pages ask them."""

from __future__ import annotations

import base64
import binascii
import io
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from workflows.errors import InvalidInput
from workflows.models import CashDrawer, CounterBuyback, PayoutStatus, State
from workflows.rules.predicates import imei_check_finished
from workflows.rules.redflags import red_flags


class Step:
    CHECKING = "checking"  # the IMEI service has not answered yet
    STOPPED = "stopped"  # a red flag: no price is shown; a manager may override
    INSPECT = "inspect"
    OFFER = "offer"
    CUSTOMER = "customer"  # the offer waits for the customer's signature or no
    PAY = "pay"
    WAITING = "waiting"  # a Stripe payout link went to the customer's email
    DONE = "done"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    OTHER = "other"  # moved on outside the counter (e.g. returned): see the trade-in


# Steps at which walking away leaves nothing behind (no stock, no payout yet).
ABANDONABLE = {Step.CHECKING, Step.STOPPED, Step.INSPECT, Step.OFFER, Step.CUSTOMER}


def counter_step(buyback: CounterBuyback) -> str:
    trade_in = buyback.trade_in
    if buyback.abandoned_at:
        return Step.ABANDONED
    state = trade_in.state
    if state == State.DECLINED:
        return Step.DECLINED
    if state == State.SUBMITTED:
        if not imei_check_finished(trade_in.latest_imei_check()):
            return Step.CHECKING
        if red_flags(trade_in) and not buyback.override_reason:
            return Step.STOPPED
        return Step.OFFER if buyback.inspected_at else Step.INSPECT
    if state == State.QUOTED:
        return Step.CUSTOMER
    payout = getattr(trade_in, "payout", None)
    if state == State.CLOSED or (payout is not None and payout.status == PayoutStatus.SETTLED):
        return Step.DONE
    if state == State.RECEIVED and payout is not None and payout.status == PayoutStatus.PENDING:
        return Step.WAITING if payout.transfer_requested_at else Step.PAY
    return Step.OTHER


def cash_needs_manager(amount: Decimal) -> bool:
    """Cash above COUNTER_CASH_LIMIT needs a manager (0 or less: no limit)."""
    limit = settings.COUNTER_CASH_LIMIT
    return limit > 0 and amount > limit


def drawer_paid_out(drawer: CashDrawer) -> Decimal:
    total = drawer.movements.aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def drawer_expected(drawer: CashDrawer) -> Decimal:
    """What the drawer should hold now: the opening float less every cash payout."""
    return drawer.opening_float - drawer_paid_out(drawer)


# A signature pad at 2x density is well under this; a bigger one is not a signature.
SIGNATURE_MAX_BYTES = 400_000
SIGNATURE_MAX_PIXELS = 2000 * 1000


def clean_signature(data: bytes) -> tuple[bytes, int, int]:
    """The drawn signature as a clean PNG (re-encoded, no metadata, bounded), with its size.

    A blank canvas is no signature."""
    if not data:
        raise InvalidInput(_("Please sign in the box."))
    if len(data) > SIGNATURE_MAX_BYTES:
        raise InvalidInput(_("The signature image is too large."))
    try:
        image = Image.open(io.BytesIO(data), formats=["PNG"])
        if image.width * image.height > SIGNATURE_MAX_PIXELS:
            raise InvalidInput(_("The signature image is too large."))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(_("The signature could not be read: please sign again.")) from None
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A")
    # Ink is what is not transparent and not white: a canvas nobody drew on has none.
    ink = Image.eval(rgba.convert("L"), lambda v: 255 if v < 200 else 0)
    ink = Image.composite(ink, Image.new("L", rgba.size, 0), alpha)
    if ink.getbbox() is None:
        raise InvalidInput(_("Please sign in the box."))
    out = io.BytesIO()
    rgba.save(out, format="PNG", optimize=True)
    return out.getvalue(), rgba.width, rgba.height


def signature_bytes(data_url: str) -> bytes:
    """The signature pad's PNG from the data URL the page posts ("" if there is none)."""
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix) or len(data_url) > SIGNATURE_MAX_BYTES * 2:
        return b""
    try:
        return base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return b""


def customer_code_open(buyback: CounterBuyback | None) -> bool:
    """May the customer page be opened with this buyback's short code now? Only while its
    offer waits for the customer, and not days later."""
    from datetime import timedelta

    from django.utils import timezone

    if buyback is None or counter_step(buyback) != Step.CUSTOMER:
        return False
    return buyback.started_at > timezone.now() - timedelta(minutes=settings.COUNTER_ABANDON_MINUTES)
