"""Staff pages show labels, not the codes stored underneath ("Quoted", not "quoted")."""

from __future__ import annotations

import html as html_lib
import re

from django.urls import reverse

from tests.helpers import staff_client
from workflows.models import Event, EventKind, State


def cells(html: str, field: str) -> list[str]:
    """The text of each cell of one column of an admin inline table."""
    found = re.findall(rf'<td class="[^"]*\bfield-{field}\b[^"]*"[^>]*>(.*?)</td>', html, re.S)
    return [html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in found]


def test_the_trade_in_timeline_shows_state_labels(make_trade_in, staff):
    trade_in = make_trade_in(State.QUOTED)
    html = (
        staff_client(staff)
        .get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
        .content.decode()
    )
    to_states = cells(html, r"to_state(?:_label)?")
    assert "Submitted" in to_states and "Quoted" in to_states, to_states
    assert not {"submitted", "quoted"} & set(to_states), to_states
    assert "Submitted" in cells(html, r"from_state(?:_label)?")


def order_timeline(trade_in, staff) -> str:
    """The order page of the trade-in's order, from its timeline on."""
    html = (
        staff_client(staff)
        .get(reverse("admin:workflows_order_change", args=[trade_in.order_id]))
        .content.decode()
    )
    return html[html.index('id="order-timeline"') :]


def test_the_order_timeline_shows_state_labels(make_trade_in, staff):
    trade_in = make_trade_in(State.QUOTED)
    timeline = order_timeline(trade_in, staff)
    assert "Submitted→Quoted" in timeline
    assert "submitted→quoted" not in timeline


def test_a_units_moves_read_as_unit_statuses():
    listed = Event(kind=EventKind.UNIT_LISTED, from_state="graded", to_state="listed")
    assert (listed.from_state_label, listed.to_state_label) == (
        "Graded, sellable",
        "Listed for sale",
    )
    reoffered = Event(
        kind=EventKind.REVISED_OFFER_SENT, from_state="received", to_state="reoffered"
    )
    assert reoffered.to_state_label == "Revised offer sent"
    assert (
        Event(kind=EventKind.DETAILS_CHANGED, to_state="no-such-state").to_state_label
        == "no-such-state"
    )


def test_the_buyer_details_on_a_devices_page_are_styled_inputs(make_trade_in, staff):
    """They were Django's bare inputs: no border (staff could not tell they are editable) and,
    three to a row, the postcode ran 119 px past a 1280 px window."""
    trade_in = make_trade_in(State.SUBMITTED)
    html = (
        staff_client(staff)
        .get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
        .content.decode()
    )
    for name in ("buyer_name", "buyer_email", "address_line1", "city", "region", "postcode"):
        tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', html)
        assert tag, name
        assert re.search(r'class="[^"]*\bborder\b[^"]*\bw-full\b', tag.group(0)), tag.group(0)
    select = re.search(r'<select [^>]*name="fulfilment"[^>]*>', html)
    assert select and re.search(r'class="[^"]*\bborder\b', select.group(0)), select


def test_condition_deductions_read_as_the_buyer_form_asks_them(staff, manager):
    """The price list showed "like_new", "service", "none" and titled a row
    "body=like_new: -0.00%"."""
    from tests.factories import load_deductions
    from workflows.models import ConditionDeduction

    load_deductions()
    row = ConditionDeduction.objects.get(question="body", answer="like_new")
    assert row.answer_label == "Like new"
    assert str(row) == "Body: Like new (-0.00%)"
    assert ConditionDeduction(question="body", answer="gone").answer_label == "gone"
    html = (
        staff_client(manager)
        .get(reverse("admin:workflows_conditiondeduction_changelist"))
        .content.decode()
    )
    answers = cells(html, r"answer(?:_label)?")
    assert "Like new" in answers and "Needs service / won't hold charge" in answers, answers
    assert not {"like_new", "service", "none"} & set(answers), answers


def test_an_empty_list_says_why_and_offers_only_what_works(manager, make_trade_in):
    """Unfold's empty list said "This page yielded into no results. Create a new item or reset
    your filters." with a Reset filters button, on lists nobody can add to, no filter on."""
    client = staff_client(manager)
    html = client.get(reverse("admin:workflows_returncase_changelist")).content.decode()
    empty = html[html.index('id="empty-results"') :]
    assert "yielded" not in html
    assert "No return cases yet" in empty
    assert "Reroute and decline payout" in empty  # where return cases come from
    assert "Reset filters" not in empty and "Add return case" not in empty

    make_trade_in(State.SUBMITTED)
    html = client.get(
        reverse("admin:workflows_tradein_changelist"), {"q": "no-such-buyer"}
    ).content.decode()
    empty = html[html.index('id="empty-results"') :]
    assert "Nothing matches these filters or this search." in empty
    assert "Reset filters" in empty


def test_the_buyer_address_on_a_devices_page_is_worded_for_people(make_trade_in, staff):
    trade_in = make_trade_in(State.SUBMITTED)
    html = (
        staff_client(staff)
        .get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
        .content.decode()
    )
    assert "Address line1" not in html and "Address line2" not in html
    assert re.search(r'<label[^>]*for="id_address_line1"[^>]*>\s*Street', html)
    assert re.search(r'<label[^>]*for="id_address_line2"[^>]*>\s*Apartment, suite', html)


def test_a_payouts_title_writes_its_amount_as_money(make_trade_in, manager):
    """The payout's page was titled "9.00 USD · TI-000008"; every amount on it read "$9.00"."""
    from workflows.models import Payout

    trade_in = make_trade_in(State.ACCEPTED)
    quote = trade_in.quotes.get()
    assert str(quote) == f"$300.00 for {trade_in}"
    payout = Payout.objects.get(trade_in=trade_in)
    assert str(payout) == f"${payout.amount:,.2f} · {trade_in}"
    html = (
        staff_client(manager)
        .get(reverse("admin:workflows_payout_change", args=[payout.pk]))
        .content.decode()
    )
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert f"${payout.amount:,.2f} · {trade_in}" in html_lib.unescape(title)
    assert " USD · " not in html


def test_the_order_timeline_does_not_repeat_a_first_state(make_trade_in, staff):
    """The submission read "Submitted →Submitted" (no state before it, the kind's label again)."""
    trade_in = make_trade_in(State.SUBMITTED)
    timeline = order_timeline(trade_in, staff)
    assert "→Submitted" not in timeline
    assert "Submitted · buyer" in timeline
