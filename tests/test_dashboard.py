"""The dashboard home's numbers, and the sidebar badge that notifies staff of new work."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from tests.helpers import staff_client
from workflows.models import Quote, State, TradeIn
from workflows.selectors import dashboard_stats


def test_it_counts_the_work_and_the_money(make_trade_in):
    for _ in range(2):
        make_trade_in(State.SUBMITTED)
    quoted = make_trade_in(State.QUOTED)
    accepted = make_trade_in(State.ACCEPTED)
    received = make_trade_in(State.RECEIVED)
    make_trade_in(State.DECLINED)
    # Known waits between submission and first quote: 1 h, 2 h and 3 h.
    for hours, trade_in in zip((1, 2, 3), (quoted, accepted, received), strict=True):
        first = Quote.objects.filter(trade_in=trade_in).earliest("created_at").created_at
        TradeIn.objects.filter(pk=trade_in.pk).update(created_at=first - timedelta(hours=hours))

    stats = dashboard_stats()
    assert stats.awaiting_quote == 2
    assert stats.awaiting_buyer == 1
    assert stats.awaiting_arrival == 1
    assert stats.received_this_week == 1
    assert stats.payout_liability == Decimal("600.00")  # two accepted offers of 300
    assert stats.acceptance_rate_30d == 2 / 3
    assert stats.median_time_to_quote == timedelta(hours=2)
    assert sum(stats.submissions_per_day) == 6  # all within the 30-day window
    assert sum(stats.acceptances_per_day) == 2
    assert stats.days[-1] == timezone.localdate()
    assert stats.top_models[0][1] == 6


def test_the_sidebar_badge_and_the_home_page_show_new_submissions(make_trade_in, staff):
    new = make_trade_in(State.SUBMITTED)
    make_trade_in(State.QUOTED)
    page = staff_client(staff).get("/dashboard/").content.decode()
    assert new.reference in page
    assert "Awaiting quote" in page and "Median time to quote" in page
    assert 'data-type="bar"' in page
