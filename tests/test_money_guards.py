"""Issue 18: guards no test caught (each test here fails when its guard is removed), the
store-credit code throttle, pending payout-detail changes shown to managers, and the money
records that are read-only in the admin."""

from __future__ import annotations

import runpy
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from tests.conftest import refresh
from tests.helpers import staff_client
from tests.test_security import sign_in
from workflows import actions
from workflows.errors import LinkInvalid, TransitionRefused
from workflows.models import (
    ChangeStatus,
    Payout,
    PayoutDetailChange,
    PayoutStatus,
    ShippingLabel,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    StoreCredit,
    StoreCreditRedemption,
    StripeAccount,
)
from workflows.models.payouts import CODE_ALPHABET

PRODUCTION_SETTINGS = Path(django_settings.BASE_DIR) / "backoffice" / "settings.py"


def production_default(name: str, monkeypatch, *env: str):
    """A setting as backoffice/settings.py gives it with nothing in the environment."""
    for variable in env:
        monkeypatch.delenv(variable, raising=False)
    return runpy.run_path(str(PRODUCTION_SETTINGS))[name]


# --- no payout-detail change while a Stripe transfer is in flight ----------------------------
def stripe_payout_ready_to_transfer(make_trade_in, manager, drain) -> Payout:
    """A Stripe payout whose transfer is scheduled (the outbox has not run it yet)."""
    trade_in = make_trade_in(State.RECEIVED, payout_method="stripe")
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()  # the buyer's connected account is made and the setup link emailed
    payout = refresh(trade_in.payout)
    actions.payout_confirm_payee(payout=payout, email=trade_in.buyer_email)
    account = StripeAccount.objects.get(email=trade_in.buyer_email)
    actions.stripe_account_update(
        account_id=account.account_id, payouts_enabled=True, details_submitted=True
    )
    assert SideEffect.objects.filter(
        kind=SideEffectKind.MAKE_STRIPE_TRANSFER, status=SideEffectStatus.PENDING
    ).exists()
    return refresh(payout)


def test_payout_details_cannot_change_while_a_stripe_transfer_is_in_flight(
    make_trade_in, staff, manager, admin_user, drain
):
    payout = stripe_payout_ready_to_transfer(make_trade_in, manager, drain)
    trade_in = payout.trade_in
    change = actions.payout_details_change_request(
        trade_in=trade_in,
        actor=staff,
        changes={"payout_method": "check"},
        reason="The buyer called: a check instead",
    )
    with pytest.raises(TransitionRefused, match="wait for its outcome"):
        actions.payout_details_change_approve(change=change, actor=admin_user)
    assert refresh(change).status == ChangeStatus.PENDING
    assert refresh(trade_in).payout_method == "stripe"
    assert refresh(payout).method == "stripe" and refresh(payout).payee_account is not None


# --- the payout-setup link dies with the email: inside the action too -------------------------
def test_confirming_the_payee_for_an_address_no_longer_on_the_trade_in_is_refused(
    make_trade_in, staff, manager, admin_user, drain
):
    trade_in = make_trade_in(State.RECEIVED, payout_method="stripe")
    old_email = trade_in.buyer_email
    actions.payout_send_stripe(payout=trade_in.payout, actor=manager)
    drain()  # a connected account exists for the old address
    assert StripeAccount.objects.filter(email=old_email).exists()
    change = actions.payout_details_change_request(
        trade_in=trade_in,
        actor=staff,
        changes={"buyer_email": "ada@new.example"},
        reason="Buyer called from their number on file",
    )
    actions.payout_details_change_approve(change=change, actor=admin_user)

    # The old link's address, straight to the action (not through the link's own check).
    with pytest.raises(LinkInvalid, match="no longer on your trade-in"):
        actions.payout_confirm_payee(payout=refresh(trade_in.payout), email=old_email)
    assert refresh(trade_in.payout).payee_account is None


# --- the production sign-in failure limit ------------------------------------------------------
def test_the_production_sign_in_limit_locks_the_sixth_attempt(staff, settings, monkeypatch):
    limit = production_default(
        "AXES_FAILURE_LIMIT", monkeypatch, "LOGIN_FAILURE_LIMIT", "AXES_FAILURE_LIMIT"
    )
    assert limit == 5
    settings.AXES_FAILURE_LIMIT = limit  # what production runs with, not a test's own value

    for _ in range(4):
        sign_in(Client(), "staff", "wrong")
    assert sign_in(Client(), "staff", "tradein-demo").status_code == 302  # 5th: still open
    for _ in range(5):
        sign_in(Client(), "staff", "wrong")
    sixth = Client()
    refused = sign_in(sixth, "staff", "tradein-demo")
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in sixth.session


# --- store-credit code look-ups are throttled ---------------------------------------------------
@pytest.fixture
def credit(make_trade_in, manager, drain) -> StoreCredit:
    trade_in = make_trade_in(State.RECEIVED, payout_method="store_credit")
    credit = actions.payout_issue_store_credit(payout=trade_in.payout, actor=manager)
    drain()
    return credit


def wrong_code(i: int) -> str:
    """A code shaped like a real one (10 letters of the code alphabet) that is nobody's."""
    return "SC-ABCDEFGH" + CODE_ALPHABET[i // 32] + CODE_ALPHABET[i % 32]


def guess(client: Client, n: int, ip: str = "127.0.0.1") -> None:
    for i in range(n):
        client.get(reverse("admin:store_credit_counter"), {"code": wrong_code(i)}, REMOTE_ADDR=ip)


def test_the_limit_of_wrong_codes_is_ten_in_ten_minutes(monkeypatch):
    assert (
        production_default("STORE_CREDIT_CODE_FAILURES", monkeypatch, "STORE_CREDIT_CODE_FAILURES")
        == "10/10m"
    )


def test_wrong_codes_at_the_counter_pause_look_ups_for_that_login_and_that_address(
    credit, staff, manager
):
    code = credit.code_for_buyer()
    counter = reverse("admin:store_credit_counter")
    desk = staff_client(staff)
    guess(desk, 10)
    paused = desk.get(counter, {"code": code}, REMOTE_ADDR="127.0.0.1")
    assert paused.status_code == 429
    page = paused.content.decode()
    assert "Too many wrong store-credit codes" in page
    assert credit.masked_code not in page and "300.00" not in page  # nothing was checked
    # Redeeming is paused too: nothing is spent.
    spent = desk.post(counter, {"code": code, "amount": "10.00"}, follow=True)
    assert "Too many wrong store-credit codes" in spent.content.decode()
    assert refresh(credit).balance == Decimal("300.00")
    assert not StoreCreditRedemption.objects.exists()
    # The same login from another address is paused (per login)...
    assert desk.get(counter, {"code": code}, REMOTE_ADDR="10.0.0.9").status_code == 429
    # ...and another login from the same address (per address); elsewhere, it works.
    office = staff_client(manager)
    assert office.get(counter, {"code": code}, REMOTE_ADDR="127.0.0.1").status_code == 429
    found = office.get(counter, {"code": code}, REMOTE_ADDR="10.0.0.9")
    assert found.status_code == 200 and "300.00" in found.content.decode()


def test_nine_wrong_codes_do_not_pause_the_counter(credit, staff):
    desk = staff_client(staff)
    guess(desk, 9)
    page = desk.get(reverse("admin:store_credit_counter"), {"code": credit.code_for_buyer()})
    assert page.status_code == 200 and "300.00" in page.content.decode()


def test_wrong_codes_in_the_managers_search_are_throttled_too(credit, manager):
    office = staff_client(manager)
    changelist = reverse("admin:workflows_storecredit_changelist")
    for i in range(10):
        office.get(changelist, {"q": wrong_code(i)})
    page = office.get(changelist, {"q": credit.code_for_buyer()}).content.decode()
    assert "Too many wrong store-credit codes" in page
    assert credit.masked_code not in page
    # A search for an email is no code look-up: it still works.
    assert credit.masked_code in office.get(changelist, {"q": credit.email}).content.decode()


# --- pending payout-detail changes on the managers' dashboard, in words -------------------------
def test_managers_see_pending_detail_changes_in_words_and_staff_do_not(
    make_trade_in, staff, manager
):
    trade_in = make_trade_in(State.RECEIVED, payout_method="check")
    actions.payout_details_change_request(
        trade_in=trade_in,
        actor=staff,
        changes={"payout_method": "store_credit"},
        reason="Buyer asked at the counter",
    )
    assert PayoutDetailChange.objects.get().describe() == "Payout method: Check → Store credit"
    office = staff_client(manager).get(reverse("admin:index")).content.decode()
    assert "Payout detail changes to approve" in office
    assert "Payout method: Check → Store credit" in office
    assert "store_credit" not in office.split("Payout detail changes to approve")[1][:400]
    changes_url = reverse("admin:workflows_payoutdetailchange_changelist")
    assert changes_url in office  # the sidebar link, with its badge
    from backoffice.money_cards import detail_changes_badge

    class Asking:
        user = manager

    assert detail_changes_badge(Asking()) == "1"
    Asking.user = staff
    assert detail_changes_badge(Asking()) is None
    desk = staff_client(staff).get(reverse("admin:index")).content.decode()
    assert "Payout detail changes to approve" not in desk and changes_url not in desk


# --- money rows are read-only in the admin ------------------------------------------------------
def test_the_payout_page_has_no_save_and_a_post_changes_nothing(make_trade_in, manager):
    trade_in = make_trade_in(State.RECEIVED, payout_method="check")
    payout = trade_in.payout
    office = staff_client(manager)
    url = reverse("admin:workflows_payout_change", args=[payout.pk])
    page = office.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "Record check" in html or "settle" in html  # the panel's actions stay
    before = Payout.objects.filter(pk=payout.pk).values().get()
    posted = office.post(url, {"amount": "1.00", "status": "settled", "method": "stripe"})
    assert posted.status_code == 403
    assert Payout.objects.filter(pk=payout.pk).values().get() == before


def test_settling_from_the_payout_page_still_works(make_trade_in, manager):
    trade_in = make_trade_in(State.RECEIVED, payout_method="check")
    office = staff_client(manager)
    office.post(
        reverse("admin:workflows_payout_settle", args=[trade_in.payout.pk]),
        {"check_number": "1042", "check_date": "2026-01-05"},
    )
    assert refresh(trade_in.payout).status == PayoutStatus.SETTLED


def test_side_effects_and_labels_have_no_save_and_a_post_changes_nothing(
    make_trade_in, manager, admin_user
):
    make_trade_in(State.ACCEPTED)  # a label and emails in the outbox
    effect = SideEffect.objects.order_by("pk").first()
    for user in (manager, admin_user):
        office = staff_client(user)
        url = reverse("admin:workflows_sideeffect_change", args=[effect.pk])
        assert 'name="_save"' not in office.get(url).content.decode()
        before = SideEffect.objects.filter(pk=effect.pk).values().get()
        assert office.post(url, {"status": "done", "attempts": "0"}).status_code == 403
        assert SideEffect.objects.filter(pk=effect.pk).values().get() == before
    label = ShippingLabel.objects.get()
    office = staff_client(admin_user)
    admin_user.is_superuser = True  # even the superuser, who has every permission
    admin_user.save()
    url = reverse("admin:workflows_shippinglabel_change", args=[label.pk])
    assert 'name="_save"' not in office.get(url).content.decode()
    before = ShippingLabel.objects.filter(pk=label.pk).values().get()
    assert office.post(url, {"tracking_number": "1Z-FORGED"}).status_code == 403
    assert ShippingLabel.objects.filter(pk=label.pk).values().get() == before


def test_retry_now_still_works_for_a_manager(make_trade_in, manager):
    make_trade_in(State.ACCEPTED)
    effect = SideEffect.objects.order_by("pk").first()
    SideEffect.objects.filter(pk=effect.pk).update(status=SideEffectStatus.FAILED)
    office = staff_client(manager)
    page = office.post(
        reverse("admin:workflows_sideeffect_changelist"),
        {"action": "retry_now", "_selected_action": [effect.pk]},
        follow=True,
    ).content.decode()
    assert "queued again" in page
    assert refresh(effect).status == SideEffectStatus.PENDING
