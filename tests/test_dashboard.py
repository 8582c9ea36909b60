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


def test_the_charts_and_the_throughput_numbers_match_the_database(make_trade_in, staff, manager):
    import json

    from workflows import actions

    actions.quote_policy_update(
        actor=manager, changes={"auto_quote": True, "auto_quote_cap": Decimal("500")}
    )
    auto = [make_trade_in(State.SUBMITTED) for _ in range(2)]  # quoted by the policy
    actions.quote_policy_update(actor=manager, changes={"auto_quote": False})
    waiting = make_trade_in(State.SUBMITTED)
    accepted = make_trade_in(State.ACCEPTED)
    received = make_trade_in(State.RECEIVED)
    # One submission a week ago, quoted 10 hours later and accepted.
    week_ago = make_trade_in(State.ACCEPTED)
    first = Quote.objects.get(trade_in=week_ago)
    Quote.objects.filter(pk=first.pk).update(created_at=first.created_at - timedelta(days=7))
    TradeIn.objects.filter(pk=week_ago.pk).update(
        created_at=first.created_at - timedelta(days=7, hours=10),
        accepted_at=first.created_at - timedelta(days=6),
    )

    stats = dashboard_stats()
    today = timezone.localdate()
    index = {day: i for i, day in enumerate(stats.days)}
    assert stats.auto_quoted_30d == Quote.objects.filter(auto_quoted=True).count() == 2
    assert all(t.quotes.get().auto_quoted for t in auto)
    for series, rows, field in [
        (stats.submissions_per_day, TradeIn.objects.all(), "created_at"),
        (stats.quotes_per_day, Quote.objects.all(), "created_at"),
        (stats.acceptances_per_day, TradeIn.objects.exclude(accepted_at=None), "accepted_at"),
        (stats.receipts_per_day, TradeIn.objects.exclude(received_at=None), "received_at"),
    ]:
        expected = [0] * len(stats.days)
        for value in rows.values_list(field, flat=True):
            expected[index[timezone.localdate(value)]] += 1
        assert series == expected, field
    assert sum(stats.submissions_per_day) == 6 and stats.submissions_per_day[-1] == 5
    week_day = index[today - timedelta(days=7)]
    assert stats.median_hours_to_quote_per_day[week_day] == 10.0
    assert stats.acceptance_rate_per_day[week_day] == 100.0
    # Today: two auto-quoted (waiting for the buyer), two accepted or further → 50 % accepted.
    assert stats.acceptance_rate_per_day[-1] == 50.0
    assert stats.p90_time_to_quote == timedelta(hours=10)
    assert waiting.state == State.SUBMITTED and received.state == State.RECEIVED
    assert accepted.state == State.ACCEPTED

    # The page hands the same numbers to Unfold's chart component.
    page = staff_client(staff).get("/dashboard/").content.decode()
    assert 'data-type="bar"' in page and 'data-type="line"' in page
    assert "Quoted automatically, 30 days" in page
    from html import unescape

    start = page.index('data-type="bar" data-value="') + len('data-type="bar" data-value="')
    chart = json.loads(unescape(page[start : page.index('"', start)]))
    assert [d["label"] for d in chart["datasets"]] == [
        "Submissions",
        "Quotes",
        "Acceptances",
        "Received",
    ]
    assert chart["datasets"][0]["data"] == stats.submissions_per_day
    assert chart["datasets"][1]["data"] == stats.quotes_per_day
    assert len(chart["labels"]) == 30


def test_it_counts_both_sidebar_badges_in_one_query(make_trade_in, django_assert_num_queries):
    from workflows.selectors import sidebar_counts

    assert sidebar_counts().new_submissions == 0
    make_trade_in(State.SUBMITTED)
    make_trade_in(State.SUBMITTED)
    make_trade_in(State.QUOTED)
    with django_assert_num_queries(1):
        counts = sidebar_counts()
    assert counts.new_submissions == TradeIn.objects.filter(state=State.SUBMITTED).count() == 2
    assert counts.open_ship_backs == 0
