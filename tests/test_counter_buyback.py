"""The counter's actions (issue 21): the sitting runs the trade-in's own transitions, paid on
the spot, with the day's cash drawer; permissions, the cash limit, the drawer's arithmetic,
and every action run twice does its work once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.conftest import refresh
from tests.counter_helpers import CLEAN, accepted, quoted, signature_png, signed, start
from tests.factories import valid_imei
from workflows.actions import counter_buyback as counter
from workflows.errors import InvalidInput, NeedsConfirmation, TransitionRefused
from workflows.models import (
    BlockedImei,
    CashMovement,
    CounterSignature,
    Declaration,
    EventKind,
    PayoutStatus,
    SideEffect,
    State,
    StoreCredit,
    UnitStatus,
)
from workflows.rules.counter import Step, counter_step

pytestmark = pytest.mark.django_db


def kinds(trade_in) -> list[str]:
    return list(trade_in.events.values_list("kind", flat=True))


def test_it_runs_a_clean_phone_from_start_to_cash_in_one_sitting(staff, product):
    drawer = counter.cash_drawer_open(actor=staff, opening_float="200.00")
    buyback = start(staff, product)
    assert counter_step(buyback) == Step.INSPECT
    trade_in = counter.counter_buyback_inspect(
        buyback=buyback, actor=staff, checklist=CLEAN, grade="A"
    )
    assert trade_in.suggested_offer == Decimal("500.00")  # the price list, nothing deducted
    counter.counter_buyback_offer(
        buyback=buyback, actor=staff, amount="450.00", payout_method="cash"
    )
    trade_in = counter.counter_buyback_accept(
        buyback=refresh(buyback), actor=staff, declaration=signed(), signature_png=signature_png()
    )
    assert trade_in.state == State.RECEIVED
    unit = refresh(trade_in).unit
    assert (unit.status, unit.grade, unit.as_found) == (UnitStatus.GRADED, "A", CLEAN)
    assert refresh(product).stock == 1
    declaration = Declaration.objects.get(trade_in=trade_in)
    assert CounterSignature.objects.get(declaration=declaration).png.startswith(b"\x89PNG")
    paid = counter.counter_buyback_pay(buyback=refresh(buyback), actor=staff)
    assert paid.payout.status == PayoutStatus.SETTLED
    assert refresh(trade_in).state == State.CLOSED
    assert CashMovement.objects.get(payout=paid.payout).drawer == drawer
    assert kinds(trade_in) == [
        EventKind.SUBMITTED,
        EventKind.IMEI_CHECKED,
        EventKind.COUNTER_INSPECTED,
        EventKind.QUOTED,
        EventKind.DECLARED,
        EventKind.ACCEPTED,
        EventKind.RECEIVED,
        EventKind.PAYOUT_SETTLED,
        EventKind.CLOSED,
    ]
    # Nobody standing at the desk is sent the offer by email; the receipt goes (email given).
    templates = [e.payload.get("template") for e in SideEffect.objects.filter(trade_in=trade_in)]
    assert "quote" not in templates and "purchase_receipt" in templates


def test_a_red_flag_stops_the_sale_before_a_price_and_only_a_manager_goes_on(
    staff, manager, product
):
    imei = valid_imei()
    BlockedImei.objects.create(imei=imei, reason=BlockedImei.Reason.LOST_STOLEN)
    buyback = start(staff, product, imei=imei)
    assert counter_step(buyback) == Step.STOPPED
    with pytest.raises(TransitionRefused):
        counter.counter_buyback_inspect(buyback=buyback, actor=staff, checklist=CLEAN, grade="A")
    with pytest.raises(TransitionRefused, match="manager"):
        counter.counter_buyback_override(buyback=buyback, actor=staff, reason="ok")
    counter.counter_buyback_override(
        buyback=buyback, actor=manager, reason="Owner showed police letter"
    )
    counter.counter_buyback_inspect(buyback=buyback, actor=manager, checklist=CLEAN, grade="A")
    counter.counter_buyback_offer(
        buyback=buyback, actor=manager, amount="300.00", payout_method="cash"
    )
    assert EventKind.RED_FLAG_OVERRIDDEN in kinds(buyback.trade_in)


def test_activation_lock_cannot_be_graded_sellable(staff, product):
    buyback = start(staff, product)
    locked = {**CLEAN, "activation_lock": "on"}
    with pytest.raises(InvalidInput, match="cannot be graded sellable"):
        counter.counter_buyback_inspect(buyback=buyback, actor=staff, checklist=locked, grade="A")


def test_the_offer_limits_and_the_manager_cap_apply(staff, manager, product):
    buyback = start(staff, product)
    counter.counter_buyback_inspect(buyback=buyback, actor=staff, checklist=CLEAN, grade="A")
    with pytest.raises(NeedsConfirmation):
        counter.counter_buyback_offer(
            buyback=buyback, actor=staff, amount="800.00", payout_method="cash"
        )
    with pytest.raises(TransitionRefused, match="manager"):
        counter.counter_buyback_offer(
            buyback=buyback,
            actor=staff,
            amount="5000.00",
            payout_method="cash",
            confirmed_amount="5000.00",
        )
    counter.counter_buyback_offer(
        buyback=buyback,
        actor=staff,
        amount="800.00",
        payout_method="cash",
        confirmed_amount="800.00",
    )


def test_a_declined_offer_and_an_abandoned_one_change_no_stock(staff, product):
    declined = quoted(staff, product)
    counter.counter_buyback_decline(buyback=declined, actor=staff)
    counter.counter_buyback_decline(buyback=declined, actor=staff)  # twice: once
    assert refresh(declined.trade_in).state == State.DECLINED
    assert kinds(declined.trade_in).count(EventKind.DECLINED) == 1

    left = quoted(staff, product)
    counter.counter_buyback_abandon(buyback=left, actor=staff)
    counter.counter_buyback_abandon(buyback=left, actor=staff)
    assert counter_step(refresh(left)) == Step.ABANDONED
    assert kinds(left.trade_in).count(EventKind.COUNTER_ABANDONED) == 1
    assert refresh(product).stock == 0
    # Signed already: walking away now is not "nothing left behind".
    bought = accepted(staff, product)
    with pytest.raises(TransitionRefused):
        counter.counter_buyback_abandon(buyback=bought, actor=staff)


def test_the_sweep_abandons_what_nobody_finished(staff, product, settings):
    from workflows.tasks.counter import abandon_stale_counter_buybacks

    buyback = start(staff, product)
    settings.COUNTER_ABANDON_MINUTES = 0
    assert abandon_stale_counter_buybacks() == 1
    event = buyback.trade_in.events.get(kind=EventKind.COUNTER_ABANDONED)
    assert event.actor_label == "system"


def test_signing_twice_accepts_once_and_a_blank_signature_is_refused(staff, product):
    buyback = quoted(staff, product)
    with pytest.raises(InvalidInput, match="sign"):
        counter.counter_buyback_accept(
            buyback=buyback, actor=staff, declaration=signed(), signature_png=signature_png(True)
        )
    for _ in range(2):
        counter.counter_buyback_accept(
            buyback=refresh(buyback),
            actor=staff,
            declaration=signed(),
            signature_png=signature_png(),
        )
    assert refresh(product).stock == 1
    assert Declaration.objects.filter(trade_in=buyback.trade_in).count() == 1


def test_the_customer_answers_by_code_as_buyer_but_cannot_start(staff, product):
    buyback = quoted(staff, product)
    counter.counter_buyback_accept(
        buyback=buyback, actor=counter.BUYER, declaration=signed(), signature_png=signature_png()
    )
    with pytest.raises(TransitionRefused):
        start("buyer", product)


def test_cash_above_the_limit_needs_a_manager(staff, manager, product, settings):
    settings.COUNTER_CASH_LIMIT = Decimal("250")
    counter.cash_drawer_open(actor=staff, opening_float="1000")
    buyback = accepted(staff, product, amount="300.00")
    with pytest.raises(TransitionRefused, match="manager"):
        counter.counter_buyback_pay(buyback=buyback, actor=staff)
    assert refresh(buyback.trade_in.payout).status == PayoutStatus.PENDING
    paid = counter.counter_buyback_pay(buyback=buyback, actor=manager)
    again = counter.counter_buyback_pay(buyback=buyback, actor=manager)  # twice: paid once
    assert paid.payout.pk == again.payout.pk
    assert CashMovement.objects.count() == 1


def test_cash_needs_an_open_drawer(staff, product):
    buyback = accepted(staff, product)
    with pytest.raises(TransitionRefused, match="drawer"):
        counter.counter_buyback_pay(buyback=buyback, actor=staff)


def test_the_drawer_arithmetic_and_a_difference_needs_a_note(staff, product):
    drawer = counter.cash_drawer_open(actor=staff, opening_float="500.00")
    assert counter.cash_drawer_open(actor=staff, opening_float="500.00") == drawer
    with pytest.raises(TransitionRefused, match="already open"):
        counter.cash_drawer_open(actor=staff, opening_float="400.00")
    for amount in ("120.00", "80.50"):
        counter.counter_buyback_pay(buyback=accepted(staff, product, amount=amount), actor=staff)
    with pytest.raises(InvalidInput, match="299.50"):
        counter.cash_drawer_close(drawer=drawer, actor=staff, counted="290.00")
    closed = counter.cash_drawer_close(
        drawer=drawer, actor=staff, counted="290.00", note="Gave 9.50 too much change"
    )
    assert (closed.expected, closed.difference) == (Decimal("299.50"), Decimal("-9.50"))
    assert counter.cash_drawer_close(drawer=drawer, actor=staff, counted="290.00") == closed
    with pytest.raises(TransitionRefused, match="drawer"):
        counter.counter_buyback_pay(buyback=accepted(staff, product), actor=staff)


def test_check_store_credit_and_stripe_payouts(staff, product):
    check = accepted(staff, product, method="check")
    with pytest.raises(InvalidInput):
        counter.counter_buyback_pay(buyback=check, actor=staff)
    counter.counter_buyback_pay(buyback=check, actor=staff, check_number="1042")
    assert "check 1042" in refresh(check.trade_in.payout).settlement_reference

    credit = accepted(staff, product, method="store_credit", email="")
    paid = counter.counter_buyback_pay(buyback=credit, actor=staff)
    assert paid.store_credit.code_for_buyer()
    assert StoreCredit.objects.get().balance == Decimal("300.00")
    # No email given: no email scheduled; the code is on the printed receipt.
    assert not SideEffect.objects.filter(
        trade_in=credit.trade_in, payload__template="store_credit"
    ).exists()

    stripe = accepted(staff, product, method="stripe")
    counter.counter_buyback_pay(buyback=stripe, actor=staff)
    counter.counter_buyback_pay(buyback=stripe, actor=staff)
    assert counter_step(refresh(stripe)) == Step.WAITING
    assert (
        SideEffect.objects.filter(trade_in=stripe.trade_in, kind="send_stripe_setup").count() == 1
    )


def test_a_check_is_settled_alike_at_the_counter_and_by_a_manager(
    staff, manager, product, make_trade_in
):
    """One rule for a check (its number required; number and date are the reference),
    whether staff pay at the counter or a manager settles a mailed-in device."""
    from workflows import actions

    mailed = make_trade_in(State.RECEIVED)
    walk_in = accepted(staff, product, method="check")
    day = date(2026, 3, 9)
    with pytest.raises(InvalidInput, match="check number"):
        actions.payout_settle_check(
            payout=mailed.payout, actor=manager, check_number="  ", check_date=day
        )
    with pytest.raises(InvalidInput, match="check number"):
        counter.counter_buyback_pay(buyback=walk_in, actor=staff, check_number=" ", check_date=day)
    assert refresh(mailed.payout).status == refresh(walk_in.trade_in.payout).status == "pending"
    actions.payout_settle_check(
        payout=mailed.payout, actor=manager, check_number=" 1043 ", check_date=day
    )
    counter.counter_buyback_pay(buyback=walk_in, actor=staff, check_number=" 1044 ", check_date=day)
    assert refresh(mailed.payout).settlement_reference == "check 1043 dated 2026-03-09"
    assert refresh(walk_in.trade_in.payout).settlement_reference == "check 1044 dated 2026-03-09"


def test_a_stripe_payout_needs_an_email(staff, product):
    buyback = start(staff, product, email="")
    counter.counter_buyback_inspect(buyback=buyback, actor=staff, checklist=CLEAN, grade="A")
    with pytest.raises(InvalidInput, match="email"):
        counter.counter_buyback_offer(
            buyback=buyback, actor=staff, amount="100", payout_method="stripe"
        )


def test_starting_twice_with_one_key_starts_one(staff, product):
    first = start(staff, product, key="k1")
    second = start(staff, product, key="k1")
    assert first.pk == second.pk


def test_the_seller_id_is_taken_at_the_offer_when_the_rules_ask(staff, product, settings):
    from datetime import date

    from workflows.actions import IdentityInput

    settings.SELLER_ID_REQUIRED = "dropoff"
    buyback = start(staff, product)
    counter.counter_buyback_inspect(buyback=buyback, actor=staff, checklist=CLEAN, grade="A")
    with pytest.raises(InvalidInput, match="ID"):
        counter.counter_buyback_offer(
            buyback=buyback, actor=staff, amount="100", payout_method="cash"
        )
    identity = IdentityInput(
        id_type="drivers_license",
        id_number="D1234567",
        issuer="CA",
        birth_date=date(1990, 1, 1),
        expires_on=date(2099, 1, 1),
    )
    counter.counter_buyback_offer(
        buyback=buyback, actor=staff, amount="100", payout_method="cash", identity=identity
    )
    ident = buyback.trade_in.seller_identities.get()
    assert ident.id_number_last4 == "4567" and "D1234567" not in ident.id_number_encrypted


def test_people_without_the_counter_permission_are_refused(product, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    with pytest.raises(TransitionRefused):
        start(clerk, product)
    with pytest.raises(TransitionRefused):
        counter.cash_drawer_open(actor=clerk, opening_float="100")


def test_the_police_hold_and_report_apply_as_for_a_mailed_device(staff, product, settings):
    from workflows import actions
    from workflows.rules.compliance import unit_on_hold

    settings.HOLD_DAYS = 21
    settings.POLICE_REPORT = "off"  # the hold counts from receipt
    unit = refresh(accepted(staff, product).trade_in).unit
    assert unit_on_hold(unit)
    with pytest.raises(TransitionRefused, match="hold"):
        actions.unit_change_status(unit=unit, actor=staff, operation="list")
    assert refresh(unit).status == UnitStatus.GRADED


def test_the_receipt_names_the_device_the_price_and_the_declaration(staff, product):
    from workflows.documents.receipts import purchase_receipt_pdf
    from workflows.rules.compliance import declaration_text

    trade_in = accepted(staff, product).trade_in
    pdf = purchase_receipt_pdf(refresh(trade_in)).decode("latin-1")
    assert trade_in.imei in pdf and "300.00" in pdf
    assert declaration_text()[:40] in pdf
    assert "/Subtype /Image" in pdf  # the drawn signature, beside the declaration


def test_an_unanswered_check_waits_with_a_retry_and_no_price(staff, product):
    from workflows.tasks.counter import check_imei_now

    buyback = counter.counter_buyback_start(
        actor=staff,
        customer=counter.Customer(name="Walk In"),
        product=product,
        imei=valid_imei(),
    )
    # The service has not answered (a worker holds the row, or it timed out): no price yet.
    assert counter_step(buyback) == Step.CHECKING
    with pytest.raises(TransitionRefused):
        counter.counter_buyback_inspect(buyback=buyback, actor=staff, checklist=CLEAN, grade="A")
    counter.counter_buyback_check_again(buyback=buyback, actor=staff)
    check_imei_now(buyback.trade_in)
    assert counter_step(refresh(buyback)) == Step.INSPECT
    effect = SideEffect.objects.filter(trade_in=buyback.trade_in, kind="check_imei").first()
    assert effect.payload["timeout"] == 4.0  # COUNTER_IMEI_TIMEOUT: the customer waits


def test_the_http_provider_takes_the_counters_shorter_timeout(settings):
    from workflows.integrations.imei import get_provider

    settings.IMEI_CHECK_URL, settings.IMEI_CHECK_API_KEY = "https://imei.example", "k"
    settings.IMEI_CHECK_TIMEOUT = 10
    assert get_provider().timeout == 10
    assert get_provider(timeout=4).timeout == 4


def test_the_auto_quote_policy_leaves_a_counter_buyback_to_staff(staff, manager, product):
    from workflows import actions

    actions.quote_policy_update(actor=manager, changes={"auto_quote": True})
    buyback = start(staff, product)
    assert counter_step(buyback) == Step.INSPECT
    skipped = buyback.trade_in.events.get(kind=EventKind.AUTO_QUOTE_SKIPPED)
    assert "counter" in skipped.note


def test_the_counter_schedules_the_submissions_imei_check_with_its_short_timeout(
    staff, product, make_trade_in
):
    """One way to schedule an IMEI check: the counter's differs only by its timeout."""
    mailed = make_trade_in(State.SUBMITTED)
    walk_in = start(staff, product).trade_in
    checks = SideEffect.objects.filter(kind="check_imei")
    assert checks.get(trade_in=mailed).payload == {
        "check_id": mailed.imei_checks.get().pk,
        "force": False,
    }
    assert checks.get(trade_in=walk_in).payload == {
        "check_id": walk_in.imei_checks.get().pk,
        "force": False,
        "timeout": 4.0,
    }


def test_the_counter_pays_no_one_whose_id_the_rules_still_ask_for(staff, product, settings):
    """The same settle rule as a manager's payout: the rule changed to "ID before payout"
    after the offer was signed, so the counter refuses to pay until the ID is recorded."""
    counter.cash_drawer_open(actor=staff, opening_float="1000.00")
    settings.SELLER_ID_REQUIRED = "off"
    buyback = accepted(staff, product)
    settings.SELLER_ID_REQUIRED = "payout"
    with pytest.raises(TransitionRefused, match="photo ID is required"):
        counter.counter_buyback_pay(buyback=buyback, actor=staff)
    assert refresh(buyback.trade_in.payout).status == PayoutStatus.PENDING
    assert not CashMovement.objects.exists()
