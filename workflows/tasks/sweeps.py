"""The periodic sweeps (scheduled by migrations 0002, 0007 and 0010): lapsed quotes, devices
that never arrived, parcel tracking, and revised offers nobody answered."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from workflows.actions import SYSTEM, revised_offer_lapse, trade_in_cancel, trade_in_expire
from workflows.actions.answers import (
    shipping_label_tracking_failed,
    shipping_label_tracking_record,
)
from workflows.errors import DomainError
from workflows.integrations import shipping as shipping_integration
from workflows.integrations.http import IntegrationError, TemporaryError
from workflows.models import (
    Direction,
    RevisedOffer,
    RevisedOfferStatus,
    ShipBackStatus,
    ShippingLabel,
    State,
    TradeIn,
)

log = logging.getLogger("workflows")


def expire_lapsed_quotes() -> int:
    count = 0
    for trade_in in TradeIn.objects.filter(state=State.QUOTED):
        quote = trade_in.latest_quote()
        if quote and quote.is_lapsed:
            try:
                trade_in_expire(trade_in=trade_in)
                count += 1
            except DomainError:  # answered by the buyer a moment ago
                pass
    return count


def apply_revised_offer_defaults() -> int:
    """Revised offers nobody answered in time get the shop's default (return or accept)."""
    count = 0
    lapsed = RevisedOffer.objects.filter(
        status=RevisedOfferStatus.SENT, respond_by__lte=timezone.now()
    )
    for offer in lapsed.select_related("trade_in"):
        try:
            revised_offer_lapse(offer=offer)
            count += 1
        except DomainError:  # answered by the buyer a moment ago
            pass
    return count


def cancel_unarrived_devices() -> int:
    cutoff = timezone.now() - timedelta(days=settings.ARRIVAL_WINDOW_DAYS)
    count = 0
    for trade_in in TradeIn.objects.filter(state=State.ACCEPTED, accepted_at__lt=cutoff):
        try:
            trade_in_cancel(
                trade_in=trade_in,
                actor=SYSTEM,
                reason=f"Device did not arrive within {settings.ARRIVAL_WINDOW_DAYS} days",
            )
            count += 1
        except DomainError:  # received at the bench a moment ago
            pass
    return count


def poll_tracking(limit: int = 500) -> int:
    """Ask the carrier where each parcel on its way to us, or back to a buyer, is; changes go
    on the timeline, and a delivered return parcel leaves the "To ship back" list."""
    provider = shipping_integration.get_provider()
    labels = (
        ShippingLabel.objects.filter(provider=provider.name, voided_at__isnull=True)
        .filter(
            Q(direction=Direction.TO_SHOP, trade_in__state=State.ACCEPTED)
            | Q(direction=Direction.TO_BUYER, trade_in__ship_back__status=ShipBackStatus.SHIPPED)
        )
        # Delivered (DE), or to a collection point (SP): the intake bench takes it from here.
        .exclude(tracking_status__in=shipping_integration.FINAL_TRACKING)
        # Never-polled labels first, then the longest unasked: each parcel gets its turn.
        .select_related("trade_in")
        .order_by(F("tracking_updated_at").asc(nulls_first=True), "pk")[:limit]
    )
    changed = 0
    for label in labels:
        try:
            tracking = provider.track(label.label_id)
        except IntegrationError as exc:
            log.warning("tracking %s failed: %s", label.label_id, exc.safe)
            shipping_label_tracking_failed(label=label, error=str(exc))
            if isinstance(exc, TemporaryError):
                # The carrier is down or slow: waiting out its timeout for every parcel would
                # run past the task's time limit. The next hourly poll tries again.
                break
            continue
        if tracking is None:
            continue
        if shipping_label_tracking_record(
            label=label, status_code=tracking.status_code, description=tracking.description
        ):
            changed += 1
    return changed
