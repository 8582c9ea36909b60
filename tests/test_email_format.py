"""Emails read like the site: money with its symbol and cents, times without "p.m..", and the
shop's name and address at the bottom."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from tests.helpers import staff_client
from tests.test_inspection import revise_at_bench
from workflows.documents.receipts import purchase_receipt_pdf
from workflows.formatting import money, when
from workflows.models import State


def test_it_formats_money_and_times_for_buyers(settings):
    settings.TIME_ZONE = "America/Chicago"
    assert money(Decimal("170")) == "$170.00"
    assert money("1250.5") == "$1,250.50"
    moment = timezone.make_aware(datetime(2026, 12, 3, 16, 25), timezone.get_fixed_timezone(-360))
    assert when(moment) == "Dec 3, 2026, 4:25 PM CST"
    with timezone.override("Asia/Dubai"):  # a zone without letters for a name
        assert when(moment) == "Dec 4, 2026, 2:25 AM UTC+04:00"
    assert when(moment.replace(hour=12, minute=0)) == "Dec 3, 2026, 12:00 PM CST"
    assert money("-5") == "-$5.00"


def test_the_quote_email_reads_like_the_site(make_trade_in):
    trade_in = make_trade_in(State.QUOTED)
    message = mail.outbox[-1]
    assert message.subject.startswith("Your trade-in offer")
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "$300.00" in body and "300.00 USD" not in body
        assert "m.." not in body
        assert re.search(r"\d{4}, \d{1,2}:\d\d [AP]M UTC\b", body)
        assert settings.SITE_NAME in body and settings.SHOP_ADDRESS in body
    assert trade_in.latest_quote().amount == Decimal("300.00")


@pytest.fixture
def bench(staff):
    return staff_client(staff)


def test_the_revised_offer_email_names_the_zone_and_has_no_double_stop(
    settings,
    bench,
    make_trade_in,
    drain,
):
    settings.TIME_ZONE = "America/Chicago"
    trade_in = make_trade_in(State.ACCEPTED)
    revise_at_bench(bench, trade_in)
    drain()
    message = mail.outbox[-1]
    assert "revised offer" in message.subject
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "m.." not in body and "M.." not in body
        # The answer-by time ends the sentence: the zone is named, one full stop after it.
        assert re.search(
            r"Please answer by \w{3} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M C[SD]T\. ", body
        )
        assert "$180.00" in body and "$300.00" in body and "USD" not in body


def receipt_text(trade_in) -> str:
    """The receipt PDF's text runs (fpdf2 writes them as (...) Tj, uncompressed here)."""
    pdf = purchase_receipt_pdf(trade_in).decode("latin-1")
    return "\n".join(re.findall(r"\((.*?)\) Tj", pdf))


def test_one_money_format_on_every_page_column_and_email(make_trade_in, manager, client):
    """$300.00 everywhere: the buyer's status page, the trade-in page, the payout list, the
    payout's settle page and the emails; never 300.00 USD, never a bare 300.00."""
    trade_in = make_trade_in(State.RECEIVED)
    payout = trade_in.payout
    staff = staff_client(manager)
    pages = {
        "trade-in page": staff.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk])),
        "payout list": staff.get(reverse("admin:workflows_payout_changelist")),
        "queue": staff.get(reverse("admin:workflows_tradein_changelist") + "?view=all"),
    }
    texts = {name: page.content.decode() for name, page in pages.items()}
    texts["receipt PDF text"] = receipt_text(trade_in)
    for message in mail.outbox:
        texts[f"email {message.subject}"] = message.body + message.alternatives[0][0]
    assert any("$300.00" in text for name, text in texts.items() if name.startswith("email"))
    for name, text in texts.items():
        assert not re.search(r"\d\s*USD", text), name
        bare = re.findall(r"(?<![$\d,.])\d{1,3}(?:,\d{3})*\.\d\d(?![\d%])", strip_tags(text))
        assert bare == [], f"{name}: amounts without the money format: {bare}"
    for name in ("trade-in page", "payout list", "receipt PDF text"):
        assert "$300.00" in texts[name], name
    assert payout.amount == Decimal("300.00")
