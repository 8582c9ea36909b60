"""Every action checks who is acting, itself: called directly (not through the admin, which
hides the buttons) by someone without the permission, it refuses and changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group, User

from tests.helpers import declared, refresh
from workflows import actions
from workflows.errors import TransitionRefused
from workflows.models import BlockedImei, Event, PayoutDetailChange, SideEffect, State, TradeIn
from workflows.rules.inspection import checklist_as_disclosed
from workflows.rules.permissions import RULES


@pytest.fixture
def nobody(db) -> User:
    """Signed in to the dashboard, but in no role."""
    return User.objects.create_user("nobody", "nobody@shop.example", "x", is_staff=True)


@pytest.fixture
def staff_only(staff) -> User:
    """Staff, but not a manager: no settling, no overriding, no outbox."""
    assert not staff.has_perm("workflows.settle_payout")
    return staff


# Each: (state to build, who tries, what they try). "who" names a fixture or BUYER/SYSTEM.
CASES = {
    "quote": (State.SUBMITTED, "nobody", lambda t, a: actions.trade_in_quote(
        trade_in=t, actor=a, amount="100")),
    "quote_by_the_system": (State.SUBMITTED, actions.SYSTEM, lambda t, a: actions.trade_in_quote(
        trade_in=t, actor=a, amount="100")),
    "override_red_flag": ("flagged", "staff_only", lambda t, a: actions.trade_in_quote(
        trade_in=t, actor=a, amount="100", override_reason="Trust me")),
    "accept_by_staff": (State.QUOTED, "staff_only", lambda t, a: actions.trade_in_accept(
        quote=t.latest_quote(), actor=a)),
    "decline": (State.QUOTED, "nobody", lambda t, a: actions.trade_in_decline(
        trade_in=t, actor=a, reason="No")),
    "decline_by_a_buyer_without_the_link": (State.QUOTED, actions.BUYER,
        lambda t, a: actions.trade_in_decline(trade_in=t, actor=a, reason="No")),
    "cancel": (State.ACCEPTED, "nobody", lambda t, a: actions.trade_in_cancel(
        trade_in=t, actor=a, reason="Never came")),
    "cancel_by_the_buyer": (State.ACCEPTED, actions.BUYER, lambda t, a: actions.trade_in_cancel(
        trade_in=t, actor=a, reason="Never came")),
    "receive": (State.ACCEPTED, "nobody", lambda t, a: actions.trade_in_intake(
        trade_in=t, scanned_imei=t.imei, actor=a, checklist=checklist_as_disclosed(t),
        outcome="grade", grade="A")),
    "intake": (State.ACCEPTED, "nobody", lambda t, a: actions.trade_in_intake(
        trade_in=t, scanned_imei=t.imei, actor=a, checklist=checklist_as_disclosed(t),
        outcome="reroute", grade="A", notes="Bent")),
    "receive_without_a_matching_scan": (State.ACCEPTED, "staff_only",
        lambda t, a: actions.trade_in_intake(
            trade_in=t, actor=a, checklist=checklist_as_disclosed(t), outcome="grade", grade="A",
            scanned_imei="", imei_note="Unreadable")),
    "send_revised_offer": (State.RECEIVED, "nobody", lambda t, a: actions.revised_offer_send(
        trade_in=t, actor=a, amount="100", grade="C", note="Battery")),
    "accept_revised_offer_by_staff": (State.REOFFERED, "staff_only",
        lambda t, a: actions.revised_offer_accept(
            offer=t.revised_offers.get(), actor=a, declaration=declared()
        )),
    "return_revised_offer_by_staff": (State.REOFFERED, "staff_only",
        lambda t, a: actions.revised_offer_decline(offer=t.revised_offers.get(), actor=a)),
    "move_unit": (State.RECEIVED, "nobody", lambda t, a: actions.unit_change_status(
        unit=t.unit, actor=a, operation="sell", price="420", channel="storefront")),
    "reroute": (State.RECEIVED, "nobody", lambda t, a: actions.trade_in_reroute(
        trade_in=t, actor=a, reason="Bent")),
    "update_details": (State.SUBMITTED, "nobody", lambda t, a: actions.trade_in_update_details(
        trade_in=t, actor=a, changes={"buyer_name": "Eve"})),
    "regrade": (State.RECEIVED, "nobody", lambda t, a: actions.unit_regrade(
        unit=t.unit, actor=a, grade="C", notes="")),
    "retry_label": (State.ACCEPTED, "nobody", lambda t, a: actions.shipping_label_retry(
        trade_in=t, actor=a, address={"postcode": "60602"})),
    "rerun_imei_check": (State.SUBMITTED, "nobody", lambda t, a: actions.imei_check_rerun(
        trade_in=t, actor=a)),
    "settle_check": (State.RECEIVED, "staff_only", lambda t, a: actions.payout_settle_check(
        payout=t.payout, actor=a, check_number="9", check_date=date.today())),
    "issue_store_credit": (State.RECEIVED, "staff_only",
        lambda t, a: actions.payout_issue_store_credit(payout=t.payout, actor=a)),
    "send_stripe": (State.RECEIVED, "staff_only", lambda t, a: actions.payout_send_stripe(
        payout=t.payout, actor=a)),
    "resolve_return": (State.REROUTED, "nobody", lambda t, a: actions.return_case_resolve(
        case=t.return_case, actor=a, resolution="returned")),
    "reject_return": (State.REROUTED, "nobody", lambda t, a: actions.return_case_reject(
        case=t.return_case, actor=a, note="No", grade="B")),
    "retry_side_effects": (State.SUBMITTED, "staff_only", lambda t, a: actions.side_effect_retry(
        effects=SideEffect.objects.filter(trade_in=t), actor=a)),
    "add_to_blocklist": (State.SUBMITTED, "nobody", lambda t, a: actions.blocked_imei_add(
        actor=a, imei=t.imei, reason="blacklisted")),
    "change_a_blocklist_entry": ("flagged", "staff_only",
        lambda t, a: actions.blocked_imei_change(
            entry=BlockedImei.objects.get(imei=t.imei), actor=a, reason="finance_locked")),
    "remove_a_blocklist_entry": ("flagged", "staff_only", lambda t, a: actions.blocked_imei_remove(
        entry=BlockedImei.objects.get(imei=t.imei), actor=a)),
    "request_a_payout_details_change": (State.RECEIVED, "nobody",
        lambda t, a: actions.payout_details_change_request(
            trade_in=t, actor=a, changes={"buyer_name": "Eve"}, reason="Asked")),
    "approve_a_payout_details_change": (State.RECEIVED, "staff_only",
        lambda t, a: actions.payout_details_change_approve(change=_change(t), actor=a)),
    "reject_a_payout_details_change": (State.RECEIVED, "staff_only",
        lambda t, a: actions.payout_details_change_reject(change=_change(t), actor=a, note="No")),
    "confirm_a_payee_as_staff": (State.RECEIVED, "staff_only",
        lambda t, a: actions.payout_confirm_payee(payout=t.payout, email=t.buyer_email, actor=a)),
    # second-hand dealer records (workflows.actions.compliance)
    "record_identity": (State.ACCEPTED, "nobody", lambda t, a: actions.seller_identity_record(
        trade_in=t, actor=a, data=actions.IdentityInput("passport", "X1234567", "US",
        date(1990, 1, 1), date(2099, 1, 1)))),
    "record_identity_by_the_system": (State.ACCEPTED, actions.SYSTEM,
        lambda t, a: actions.seller_identity_record(trade_in=t, actor=a, data=None)),
    "release_hold": (State.RECEIVED, "staff_only", lambda t, a: actions.unit_hold_release(
        unit=t.unit, actor=a, police_reference="MCPD-1")),
    "erase_buyer": (State.DECLINED, "staff_only", lambda t, a: actions.buyer_erase(
        trade_in=t, actor=a, reason="Asked by email")),
    "anonymise_by_the_buyer": (State.DECLINED, actions.BUYER,
        lambda t, a: actions.trade_in_anonymise_expired(trade_in=t, actor=a)),
    "police_report_by_staff": (State.RECEIVED, "staff_only",
        lambda t, a: actions.police_report_create(actor=a)),
}  # fmt: skip


def _change(trade_in: TradeIn) -> PayoutDetailChange:
    """A change asked for by another staff member (made before the snapshot is compared)."""
    return PayoutDetailChange.objects.get(trade_in=trade_in)


def snapshot(trade_in: TradeIn) -> tuple:
    trade_in = refresh(trade_in)
    payout = getattr(trade_in, "payout", None)
    return (
        trade_in.state,
        trade_in.buyer_name,
        trade_in.postcode,
        payout.status if payout else None,
        Event.objects.filter(trade_in=trade_in).count(),
        SideEffect.objects.filter(trade_in=trade_in).count(),
        list(SideEffect.objects.filter(trade_in=trade_in).values_list("status", flat=True)),
    )


@pytest.mark.parametrize("case", CASES)
def test_it_refuses_an_action_called_directly_without_the_permission(case, make_trade_in, request):
    state, who, attempt = CASES[case]
    if state == "flagged":
        trade_in = make_trade_in(State.SUBMITTED, flagged=True)
    else:
        payout_method = {"issue_store_credit": "store_credit", "send_stripe": "stripe"}
        trade_in = make_trade_in(state, payout_method=payout_method.get(case, "check"))
    actor = who if who in (actions.BUYER, actions.SYSTEM) else request.getfixturevalue(who)
    if "payout_details_change" in case and not case.startswith("request"):
        asker = User.objects.create_user("asker", "asker@shop.example", "x", is_staff=True)
        asker.groups.add(Group.objects.get(name="Staff"))
        actions.payout_details_change_request(
            trade_in=trade_in, actor=asker, changes={"buyer_name": "Eve"}, reason="Asked"
        )
    before = snapshot(trade_in)
    with pytest.raises(TransitionRefused) as refused:
        attempt(refresh(trade_in), actor)
    # Refused for who is acting (one of the permission table's answers), not for the state.
    refusals = {str(rule.refusal) for rule in RULES.values()}
    assert refused.value.message in refusals | {"A buyer declines from the offer's link."}
    assert snapshot(trade_in) == before


def test_the_same_calls_succeed_for_someone_with_the_permission(make_trade_in, staff, manager):
    """The refusals above are about who, not about the state they were tried in."""
    assert (
        refresh(
            actions.trade_in_cancel(
                trade_in=make_trade_in(State.ACCEPTED), actor=staff, reason="Never came"
            )
        ).state
        == State.CANCELLED
    )
    accepted = make_trade_in(State.ACCEPTED)
    received = actions.trade_in_intake(
        trade_in=accepted,
        scanned_imei=accepted.imei,
        actor=staff,
        checklist=checklist_as_disclosed(accepted),
        outcome="grade",
        grade="A",
    )
    assert refresh(received).state == State.RECEIVED
    case = actions.trade_in_reroute(
        trade_in=make_trade_in(State.RECEIVED), actor=staff, reason="Bent"
    )
    assert case.trade_in.state == State.REROUTED
    manager.groups.add(Group.objects.get(name="Manager"))
    actions.side_effect_retry(effects=SideEffect.objects.all(), actor=manager)


@pytest.mark.parametrize("label", ["system", "System", "sytem", "auto-quote policy"])
def test_a_plain_string_is_nobody_even_when_it_spells_a_label(label, make_trade_in):
    """Issue 19: actors were strings accepted by membership, so "system" typed by hand
    authorized the scheduled task's operations. Only the typed labels act without a login."""
    from workflows.rules.permissions import ActorLabel, Operation, allowed

    assert not allowed(label, Operation.CANCEL)
    assert not allowed(label, Operation.AUTO_QUOTE)
    assert allowed(ActorLabel.SYSTEM, Operation.CANCEL)
    trade_in = make_trade_in(State.ACCEPTED)
    before = snapshot(trade_in)
    with pytest.raises(TransitionRefused, match="You cannot cancel trade-ins"):
        actions.trade_in_cancel(trade_in=trade_in, actor=label, reason="Never came")
    assert snapshot(trade_in) == before
    actions.trade_in_cancel(trade_in=trade_in, actor=actions.SYSTEM, reason="Never came")
    assert Event.objects.filter(trade_in=trade_in, actor_label="system").exists()
