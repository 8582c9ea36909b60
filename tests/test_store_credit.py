"""Store-credit codes work like cash: shown whole once, in the buyer's email; the back office
sees the last 4 and finds a credit by its whole code."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from tests.conftest import refresh
from tests.test_lifecycle_http import staff_client
from workflows.models import Event, PayoutStatus, SideEffect, State, StoreCredit
from workflows.selectors import store_credit_by_code


def issue(make_trade_in, manager, drain) -> tuple[StoreCredit, str]:
    trade_in = make_trade_in(State.RECEIVED, payout_method="store_credit")
    office = staff_client(manager)
    office.post(reverse("admin:workflows_payout_settle", args=[trade_in.payout.pk]))
    drain()
    assert refresh(trade_in.payout).status == PayoutStatus.SETTLED
    [message] = [m for m in mail.outbox if "store credit" in m.subject.lower()]
    assert message.to == [trade_in.buyer_email]
    [code] = re.findall(r"SC-[A-Z2-9]{10}", message.body)
    assert code in message.alternatives[0][0]
    return StoreCredit.objects.get(payout=trade_in.payout), code


def test_the_whole_code_is_only_in_the_buyers_email(make_trade_in, manager, drain):
    credit, code = issue(make_trade_in, manager, drain)
    assert credit.code_last4 == code[-4:]
    # Nowhere in the database as text: not the credit, the payout, the timeline, the outbox.
    row = StoreCredit.objects.filter(pk=credit.pk).values().get()
    assert code not in repr(row)
    assert code not in credit.payout.settlement_reference
    assert credit.payout.settlement_reference == f"store credit SC-…{code[-4:]}"
    assert not Event.objects.filter(note__contains=code).exists()
    assert not any(code in repr(e.payload) for e in SideEffect.objects.all())

    # A manager's pages and exports show the last 4 only.
    office = staff_client(manager)
    pages = [
        office.get(reverse("admin:workflows_storecredit_changelist")),
        office.get(reverse("admin:workflows_storecredit_change", args=[credit.pk])),
        office.get(reverse("admin:workflows_payout_changelist")),
        office.get(reverse("admin:workflows_payout_change", args=[credit.payout.pk])),
        office.get(reverse("admin:workflows_tradein_change", args=[credit.payout.trade_in.pk])),
        office.post(reverse("admin:workflows_payout_export"), {"format": "0", "resource": "0"}),
    ]
    for response in pages:
        assert response.status_code == 200
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode()
        assert code not in body
    listing = pages[0].content.decode()
    assert f"SC-…{code[-4:]}" in listing


def test_a_credit_is_found_by_its_whole_code(make_trade_in, manager, drain):
    credit, code = issue(make_trade_in, manager, drain)
    typed = f" {code.lower().replace('-', ' ')} "
    assert store_credit_by_code(code) == credit
    assert store_credit_by_code(typed) == credit
    assert store_credit_by_code(code[:-1] + ("A" if code[-1] != "A" else "B")) is None
    assert store_credit_by_code(code[-4:]) is None  # the last 4 alone find nothing

    page = staff_client(manager).get(
        reverse("admin:workflows_storecredit_changelist"), {"q": typed}
    )
    assert f"SC-…{code[-4:]}" in page.content.decode()
    assert "1 result" in page.content.decode() or page.context["cl"].result_count == 1


def test_staff_cannot_see_store_credits_or_payouts(make_trade_in, manager, staff, drain):
    credit, _code = issue(make_trade_in, manager, drain)
    desk = staff_client(staff)
    for url in (
        reverse("admin:workflows_storecredit_changelist"),
        reverse("admin:workflows_storecredit_change", args=[credit.pk]),
        reverse("admin:workflows_payout_changelist"),
        reverse("admin:workflows_payout_change", args=[credit.payout.pk]),
    ):
        assert desk.get(url).status_code == 403, url
    home = desk.get("/dashboard/").content.decode()
    assert "Pending payout liability" not in home
