"""Emails read like the site: money with its symbol and cents, times without "p.m..", and the
shop's name and address at the bottom."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core import mail
from django.utils import timezone

from workflows.formatting import money, when
from workflows.models import State


def test_it_formats_money_and_times_for_buyers(settings):
    settings.TIME_ZONE = "America/Chicago"
    assert money(Decimal("170")) == "$170.00"
    assert money("1250.5") == "$1,250.50"
    moment = timezone.make_aware(datetime(2026, 12, 3, 16, 25), timezone.get_fixed_timezone(-360))
    assert when(moment) == "Dec. 3, 2026 at 4:25 p.m."


def test_the_quote_email_reads_like_the_site(make_trade_in):
    trade_in = make_trade_in(State.QUOTED)
    message = mail.outbox[-1]
    assert message.subject.startswith("Your trade-in offer")
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "$300.00" in body and "300.00 USD" not in body
        assert "m.." not in body
        assert re.search(r"\d{4} at (\d{1,2}(:\d\d)? [ap]\.m\.|noon|midnight)", body)
        assert settings.SITE_NAME in body and settings.SHOP_ADDRESS in body
    assert trade_in.latest_quote().amount == Decimal("300.00")
