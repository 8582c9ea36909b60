"""The police hold (issue 18, item 2): every way a unit leaves stock or changes what it is asks
one predicate, through the unit page, the units list's bulk actions, return cases and direct
action calls; the pages show the hold instead of a button that would be refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.helpers import refresh, staff_client
from workflows import actions
from workflows.errors import TransitionRefused
from workflows.links import revised_offer_token
from workflows.models import Event, State, TradeIn, Unit, UnitStatus
from workflows.rules import compliance
from workflows.rules.inspection import checklist_as_disclosed


@pytest.fixture
def hold(settings):
    settings.HOLD_DAYS = 21
    settings.POLICE_REPORT = "off"  # the hold counts from receipt
    return timezone.localdate() + timedelta(days=21)


def _end_hold(trade_in: TradeIn) -> None:
    TradeIn.objects.filter(pk=trade_in.pk).update(received_at=timezone.now() - timedelta(days=22))


def _snapshot(unit: Unit) -> tuple:
    unit = refresh(unit)
    return (
        unit.status,
        refresh(unit.product).stock,
        Unit.objects.filter(
            imei=unit.imei, status__in=[UnitStatus.RECEIVED, UnitStatus.GRADED, UnitStatus.LISTED]
        ).count(),
    )


def test_it_refuses_recycling_from_the_unit_page_during_the_hold(make_trade_in, staff, hold):
    unit = make_trade_in(State.RECEIVED).unit
    before = _snapshot(unit)
    assert before[0] == UnitStatus.GRADED and before[2] == 1
    client = staff_client(staff)
    page = client.post(
        reverse("admin:workflows_unit_life", args=[unit.pk, "recycle"]), follow=True
    ).content.decode()
    assert f"on the police hold until {hold:%Y-%m-%d}" in page
    assert _snapshot(unit) == before  # still graded, still counted, IMEI still taken
    assert not Event.objects.filter(trade_in=unit.trade_in, kind="unit_recycled").exists()


def test_it_refuses_the_bulk_parts_action_row_by_row(make_trade_in, staff, hold):
    held = make_trade_in(State.RECEIVED).unit
    free = make_trade_in(State.RECEIVED).unit
    _end_hold(free.trade_in)
    status, stock, imei_taken = _snapshot(held)
    page = (
        staff_client(staff)
        .post(
            reverse("admin:workflows_unit_changelist"),
            {"action": "parts_selected", "_selected_action": [held.pk, free.pk]},
            follow=True,
        )
        .content.decode()
    )
    assert _snapshot(held) == (status, stock - 1, imei_taken)  # only the free unit left stock
    assert refresh(free).status == UnitStatus.PARTS  # the others proceed
    assert "1 unit(s) used for parts" in page
    assert "1 refused" in page and held.imei in page and "police hold until" in page


def test_every_unit_move_asks_the_hold_even_called_directly(make_trade_in, staff, hold):
    unit = make_trade_in(State.RECEIVED).unit
    for operation in ("list", "sell", "recycle", "parts"):
        with pytest.raises(TransitionRefused, match="police hold"):
            actions.unit_change_status(unit=unit, actor=staff, operation=operation)
    assert refresh(unit).status == UnitStatus.GRADED
    # A return case cannot recycle a held device either.
    rerouted = make_trade_in(State.REROUTED)
    case = rerouted.return_case
    with pytest.raises(TransitionRefused, match="police hold"):
        actions.return_case_resolve(case=case, actor=staff, resolution="recycled", note="x")
    assert refresh(rerouted.unit).status == UnitStatus.RETURNS
    assert refresh(rerouted).state == State.REROUTED


def test_a_held_unit_shows_the_hold_and_no_button_that_would_be_refused(
    make_trade_in, staff, manager, hold
):
    unit = make_trade_in(State.RECEIVED).unit
    client = staff_client(staff)
    page = client.get(reverse("admin:workflows_unit_change", args=[unit.pk])).content.decode()
    assert f"On police hold until {hold:%Y-%m-%d}" in page
    assert "Graded, sellable" not in page
    for name in ("list", "sell", "recycle", "parts"):
        assert reverse("admin:workflows_unit_life", args=[unit.pk, name]) not in page
    listing = client.get(reverse("admin:workflows_unit_changelist")).content.decode()
    start = listing.index('id="result_list"')
    results = listing[start : listing.index("</table>", start)]
    assert f"On police hold until {hold:%Y-%m-%d}" in results
    assert "Graded, sellable" not in results

    # A manager releases it early with a police reference: the buttons are back.
    actions.unit_hold_release(unit=unit, actor=manager, police_reference="MCPD 24-0931")
    page = client.get(reverse("admin:workflows_unit_change", args=[unit.pk])).content.decode()
    assert "On police hold" not in page
    for name in ("list", "sell", "recycle", "parts"):
        assert reverse("admin:workflows_unit_life", args=[unit.pk, name]) in page
    client.post(reverse("admin:workflows_unit_life", args=[unit.pk, "list"]))
    assert refresh(unit).status == UnitStatus.LISTED


def test_the_buttons_come_back_when_the_hold_ends(make_trade_in, staff, hold):
    unit = make_trade_in(State.RECEIVED).unit
    _end_hold(unit.trade_in)
    client = staff_client(staff)
    page = client.get(reverse("admin:workflows_unit_change", args=[unit.pk])).content.decode()
    assert "On police hold" not in page
    assert reverse("admin:workflows_unit_life", args=[unit.pk, "sell"]) in page
    client.post(reverse("admin:workflows_unit_life", args=[unit.pk, "recycle"]))
    assert refresh(unit).status == UnitStatus.RECYCLED
    assert refresh(unit.product).stock == 0


def test_a_device_whose_revised_offer_the_buyer_declines_goes_back_during_the_hold(
    make_trade_in, client, hold
):
    """The choice (workflows.rules.compliance.hold_refusal): the hold protects what the shop bought.
    A buyer who declines a revised offer never sold the device; it goes back to them (their ID
    and address are on record), hold or not. A device the shop did buy stays."""
    trade_in = make_trade_in(State.REOFFERED)  # revised at intake, never graded at a price
    unit = trade_in.unit
    assert compliance.unit_on_hold(unit)
    offer = trade_in.revised_offers.get()
    page = client.get(f"/trade-in/revised-offer/{revised_offer_token(offer)}/").content.decode()
    assert 'id="send-back"' in page
    actions.revised_offer_decline(offer=offer)
    assert refresh(trade_in).state == State.RETURNED
    assert refresh(unit).status == UnitStatus.RETURNED
    # ... and a bought one does not: the predicate refuses returning it.
    bought = make_trade_in(State.RECEIVED).unit
    assert "police hold" in compliance.hold_refusal(bought, "return_to_buyer")
    assert compliance.hold_refusal(bought, "unlist") == ""


def test_the_return_case_page_offers_only_what_the_hold_allows(make_trade_in, staff, hold):
    client = staff_client(staff)
    # Bought (graded), then rerouted: neither returning nor recycling it during the hold.
    case = make_trade_in(State.REROUTED).return_case
    url = reverse("admin:workflows_returncase_change", args=[case.pk])
    page = client.get(url).content.decode()
    assert "police hold until" in page
    assert 'value="recycled"' not in page and 'value="returned"' not in page
    _end_hold(case.trade_in)
    page = client.get(url).content.decode()
    assert 'value="recycled"' in page and 'value="returned"' in page
    # Rerouted at intake (never bought): it may go back, not be recycled.
    trade_in = make_trade_in(State.ACCEPTED)
    actions.trade_in_intake(
        trade_in=trade_in,
        scanned_imei=trade_in.imei,
        actor=staff,
        checklist=checklist_as_disclosed(trade_in),
        outcome="reroute",
        notes="Back glass shattered, not disclosed",
    )
    url = reverse("admin:workflows_returncase_change", args=[refresh(trade_in).return_case.pk])
    page = client.get(url).content.decode()
    assert 'value="recycled"' not in page and 'value="returned"' in page


def test_the_product_page_shows_the_hold_too(make_trade_in, staff, manager, hold):
    unit = make_trade_in(State.RECEIVED).unit
    url = reverse("admin:workflows_product_change", args=[unit.product_id])
    page = staff_client(manager).get(url).content.decode()
    assert f"On police hold until {hold:%Y-%m-%d}" in page


def test_a_bought_device_cannot_be_rerouted_out_of_the_shop_during_the_hold(
    make_trade_in, staff, drain, hold
):
    """Graded at the offer, the device was bought: a reroute then "returned to buyer" is not a
    way around the hold. The case waits (or a manager releases the hold with a reference)."""
    trade_in = make_trade_in(State.REROUTED)  # graded B at intake, rerouted afterwards
    assert refresh(trade_in.unit).graded_at is not None
    case = trade_in.return_case
    with pytest.raises(TransitionRefused, match="police hold"):
        actions.return_case_resolve(case=case, actor=staff, resolution="returned", note="x")
    assert refresh(trade_in).state == State.REROUTED
    assert refresh(trade_in.unit).status == UnitStatus.RETURNS
    _end_hold(trade_in)
    actions.return_case_resolve(case=case, actor=staff, resolution="returned", note="x")
    assert refresh(trade_in.unit).status == UnitStatus.RETURNED


def test_a_device_rerouted_at_intake_goes_back_during_the_hold(make_trade_in, staff, hold):
    trade_in = make_trade_in(State.ACCEPTED)
    actions.trade_in_intake(
        trade_in=trade_in,
        scanned_imei=trade_in.imei,
        actor=staff,
        checklist=checklist_as_disclosed(trade_in),
        outcome="reroute",
        notes="Back glass shattered, not disclosed",
    )
    case = refresh(trade_in).return_case
    actions.return_case_resolve(case=case, actor=staff, resolution="returned", note="")
    assert refresh(trade_in.unit).status == UnitStatus.RETURNED


def test_a_bought_device_re_priced_during_the_hold_is_not_offered_back_yet(
    make_trade_in, staff, client, hold
):
    trade_in = make_trade_in(State.RECEIVED)  # graded at the offer: bought
    offer = actions.revised_offer_send(
        trade_in=trade_in, actor=staff, amount="150.00", grade="C", note="Battery fails"
    )
    url = f"/trade-in/revised-offer/{revised_offer_token(offer)}/"
    page = client.get(url).content.decode()
    assert 'id="send-back"' not in page and 'id="send-back-held"' in page
    with pytest.raises(TransitionRefused, match="police hold"):
        actions.revised_offer_decline(offer=offer)
    assert refresh(trade_in).state == State.REOFFERED
    assert refresh(trade_in.unit).status == UnitStatus.GRADED
