"""An agreed price is not raised behind the buyer's and the manager's backs (issue 18, item 3):
once the buyer accepted a revised amount, any further revision is a manager's, with a written
reason on the offer and the timeline. End to end through the trade-in page staff use."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.helpers import declared, refresh, staff_client, workflow
from workflows import actions
from workflows.errors import InvalidInput
from workflows.models import Event, EventKind, RevisedOffer, State


def _agreed(make_trade_in):
    """Quote 300 → accepted → revised 200 at intake → the buyer accepts 200."""
    trade_in = make_trade_in(State.REOFFERED)
    actions.revised_offer_accept(offer=trade_in.revised_offers.get(), declaration=declared())
    trade_in = refresh(trade_in)
    assert trade_in.state == State.RECEIVED and trade_in.payout.amount == Decimal("200.00")
    return trade_in


def test_staff_cannot_revise_a_price_the_buyer_accepted(make_trade_in, staff):
    trade_in = _agreed(make_trade_in)
    client = staff_client(staff)
    page = client.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    page = page.content.decode()
    # No form that would be refused; the page says why.
    assert reverse("admin:workflows_tradein_workflow", args=[trade_in.pk, "revise"]) not in page
    assert "only a manager can revise it again" in page
    events = Event.objects.count()
    answer = workflow(client, trade_in, "revise", amount="299.00", grade="B", note="Battery fine")
    assert "only a manager can revise it again" in answer.content.decode()
    assert RevisedOffer.objects.filter(trade_in=trade_in).count() == 1
    assert refresh(trade_in).state == State.RECEIVED
    assert refresh(trade_in).payout.amount == Decimal("200.00")
    assert Event.objects.count() == events


def test_a_manager_revises_it_again_only_with_a_written_reason(make_trade_in, manager):
    trade_in = _agreed(make_trade_in)
    client = staff_client(manager)
    page = client.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    assert "Why the accepted 200.00 is revised again" in page.content.decode()
    answer = workflow(client, trade_in, "revise", amount="299.00", grade="B", note="Battery ok")
    assert "This field is required" in answer.content.decode()
    assert RevisedOffer.objects.filter(trade_in=trade_in).count() == 1
    # A direct call without a reason is refused too.
    with pytest.raises(InvalidInput, match="revised again"):
        actions.revised_offer_send(
            trade_in=trade_in, actor=manager, amount="299.00", grade="B", note="x"
        )
    workflow(
        client,
        trade_in,
        "revise",
        amount="299.00",
        grade="B",
        note="The battery passed the second test",
        reason="Bench misread the battery; retested by Sam",
    )
    offer = RevisedOffer.objects.filter(trade_in=trade_in).first()
    assert offer.amount == Decimal("299.00")
    assert offer.revision_reason == "Bench misread the battery; retested by Sam"
    event = Event.objects.filter(trade_in=trade_in, kind=EventKind.REVISED_OFFER_SENT).last()
    assert event.actor == manager and "Bench misread the battery" in event.note
    actions.revised_offer_accept(offer=offer, declaration=declared())
    assert refresh(trade_in).payout.amount == Decimal("299.00")


def test_staff_cannot_revise_it_from_a_return_case_either(make_trade_in, staff):
    trade_in = _agreed(make_trade_in)
    case = actions.trade_in_reroute(trade_in=trade_in, actor=staff, reason="Back glass cracked")
    client = staff_client(staff)
    page = client.get(reverse("admin:workflows_returncase_change", args=[case.pk]))
    page = page.content.decode()
    assert reverse("admin:workflows_returncase_close", args=[case.pk, "revise"]) not in page
    assert "only a manager can revise it again" in page
    client.post(
        reverse("admin:workflows_returncase_close", args=[case.pk, "revise"]),
        {"amount": "150.00", "grade": "C"},
    )
    assert RevisedOffer.objects.filter(trade_in=trade_in).count() == 1
