"""Staff throughput: the auto-quote policy, the bulk quote, and the traps that cost money."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import valid_imei
from tests.helpers import refresh, staff_client, submit_and_check, workflow
from tests.integrations.conftest import imei_service  # noqa: F401 (a fixture)
from tests.integrations.test_imei_service import answer, expect_check
from workflows import actions
from workflows.errors import NeedsConfirmation, TransitionRefused
from workflows.models import Event, Quote, QuotePolicy, State, TradeIn

POLICY_URL = "/dashboard/workflows/quotepolicy/1/change/"


def policy_form(**changes) -> dict:
    data = {
        "auto_quote": "on",
        "auto_quote_cap": "500.00",
        "confirm_ratio": "1.50",
        "manager_ratio": "2.00",
        "manager_amount": "1500.00",
        "_save": "Save",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def policy_on(manager):
    return actions.quote_policy_update(
        actor=manager, changes={"auto_quote": True, "auto_quote_cap": Decimal("500")}
    )


# --- the auto-quote policy -------------------------------------------------------------------
def test_it_is_off_by_default_and_everything_waits_for_staff(make_trade_in):
    trade_in = make_trade_in(State.SUBMITTED)
    assert not QuotePolicy.current().auto_quote
    assert trade_in.state == State.SUBMITTED and not trade_in.quotes.exists()


def test_it_lets_a_manager_turn_it_on_in_the_admin_and_refuses_staff(
    client, manager, staff, drain, product
):
    assert staff_client(staff).post(POLICY_URL, policy_form()).status_code == 403
    assert not QuotePolicy.current().auto_quote

    response = staff_client(manager).post(POLICY_URL, policy_form(), follow=True)
    assert "Quoting policy saved." in response.content.decode()
    policy = QuotePolicy.current()
    assert policy.auto_quote and policy.auto_quote_cap == Decimal("500.00")
    assert policy.updated_by == manager

    # A clean submission from the buyer form is now quoted with no click at all.
    trade_in = submit_and_check(client, product, drain)
    assert trade_in.state == State.QUOTED
    quote = trade_in.latest_quote()
    assert quote.amount == trade_in.suggested_offer == Decimal("435.00")
    assert quote.auto_quoted and quote.sent_by is None
    event = trade_in.events.get(kind="quoted")
    assert event.who == actions.AUTO_QUOTE
    # ... by the action that recorded the clean check, right when it answered.
    assert quote.created_at >= trade_in.latest_imei_check().checked_at


def test_it_refuses_a_policy_that_makes_no_sense(manager):
    response = staff_client(manager).post(
        POLICY_URL, policy_form(confirm_ratio="3.00"), follow=True
    )
    assert "at most the manager ratio" in response.content.decode()
    assert not QuotePolicy.objects.exists()


def test_it_leaves_a_red_flagged_submission_to_staff_and_says_why(policy_on, make_trade_in):
    trade_in = make_trade_in(State.SUBMITTED, flagged=True)
    assert trade_in.state == State.SUBMITTED and not trade_in.quotes.exists()
    skipped = trade_in.events.get(kind="auto_quote_skipped")
    assert "red flag: blacklisted" in skipped.note


def test_it_leaves_an_offer_above_the_cap_to_staff(manager, make_trade_in):
    actions.quote_policy_update(
        actor=manager, changes={"auto_quote": True, "auto_quote_cap": Decimal("400")}
    )
    trade_in = make_trade_in(State.SUBMITTED)
    assert trade_in.state == State.SUBMITTED
    assert "above the auto-quote cap" in trade_in.events.get(kind="auto_quote_skipped").note


def test_it_leaves_a_product_without_a_price_to_staff(policy_on, make_trade_in, product):
    product.base_price = Decimal("0")
    product.save()
    trade_in = make_trade_in(State.SUBMITTED)
    assert trade_in.state == State.SUBMITTED and trade_in.suggested_offer is None
    assert "no price-list entry" in trade_in.events.get(kind="auto_quote_skipped").note


def test_it_leaves_a_model_mismatch_to_staff(policy_on, imei_service, make_trade_in):  # noqa: F811
    imei = valid_imei()
    expect_check(imei_service, imei).respond_with_json(
        answer(imei, deviceName="iPhone 13 Pro Max 256GB Gold [A2484]"), status=201
    )
    trade_in = make_trade_in(State.SUBMITTED, imei=imei)
    assert trade_in.model_mismatch and trade_in.state == State.SUBMITTED
    assert "another model" in trade_in.events.get(kind="auto_quote_skipped").note


def test_it_quotes_only_on_the_latest_check(policy_on, make_trade_in, staff, drain):
    trade_in = make_trade_in(State.SUBMITTED, flagged=True)
    assert trade_in.state == State.SUBMITTED
    # A re-run on a still-flagged IMEI changes nothing either.
    actions.imei_check_rerun(trade_in=trade_in, actor=staff)
    drain()
    assert refresh(trade_in).state == State.SUBMITTED


def test_the_policy_cannot_be_changed_by_a_direct_call_from_staff(staff):
    with pytest.raises(TransitionRefused):
        actions.quote_policy_update(actor=staff, changes={"auto_quote": True})


# --- bulk quote from the queue ---------------------------------------------------------------
def test_it_bulk_quotes_at_the_suggested_offer_and_refuses_red_flags_row_by_row(
    make_trade_in, staff
):
    clean = [make_trade_in(State.SUBMITTED) for _ in range(2)]
    flagged = make_trade_in(State.SUBMITTED, flagged=True)
    response = staff_client(staff).post(
        reverse("admin:workflows_tradein_changelist"),
        {
            "action": "quote_at_suggested",
            "_selected_action": [t.pk for t in [*clean, flagged]],
            "index": 0,
        },
        follow=True,
    )
    page = response.content.decode()
    assert "2 quotes sent at the suggested offer." in page
    assert f"{flagged.reference}: The IMEI check raised a red flag (blacklisted)" in page
    for trade_in in clean:
        trade_in = refresh(trade_in)
        assert trade_in.state == State.QUOTED
        assert trade_in.latest_quote().amount == trade_in.suggested_offer
        assert trade_in.latest_quote().sent_by == staff
    assert refresh(flagged).state == State.SUBMITTED


def test_the_queue_shows_the_buyer_and_the_accessories_and_offers_the_bulk_quote(
    make_trade_in, staff
):
    trade_in = make_trade_in(State.SUBMITTED, buyer_name="Grace Hopper")
    page = staff_client(staff).get(reverse("admin:workflows_tradein_changelist")).content.decode()
    assert "Grace Hopper" in page
    assert "Box only" in page or trade_in.get_accessories_display() in page
    assert "Quote at the suggested offer" in page
    assert f'name="_selected_action" value="{trade_in.pk}"' in page
    # The reference links to this trade-in's own page (one URL reversed, the key put in).
    change = reverse("admin:workflows_tradein_change", args=[trade_in.pk])
    assert f'<a href="{change}" class="text-primary-600' in page


# --- over-limit offers -----------------------------------------------------------------------
def test_it_asks_to_confirm_an_offer_far_above_the_suggested_one(make_trade_in, staff):
    trade_in = make_trade_in(State.SUBMITTED)  # suggested 435.00
    client = staff_client(staff)

    page = workflow(client, trade_in, "quote", amount="700", valid_days=14).content.decode()
    assert "Please confirm this offer: 700.00 is 1.6× the suggested offer of 435.00." in page
    assert not Quote.objects.filter(trade_in=trade_in).exists()
    # The form comes back with the typed offer and a box to tick.
    assert 'value="700"' in page and 'name="confirmed"' in page

    assert 'name="confirmed_amount" value="700"' in page
    workflow(
        client,
        trade_in,
        "quote",
        amount="700",
        valid_days=14,
        confirmed="on",
        confirmed_amount="700",
    )
    trade_in = refresh(trade_in)
    assert trade_in.state == State.QUOTED and trade_in.latest_quote().amount == Decimal("700.00")
    assert "confirmed above the usual range" in trade_in.events.get(kind="quoted").note


def test_a_typo_of_ten_times_the_offer_needs_a_manager(make_trade_in, staff, manager):
    trade_in = make_trade_in(State.SUBMITTED)
    page = workflow(
        staff_client(staff), trade_in, "quote", amount="4350", valid_days=14, confirmed="on"
    ).content.decode()
    assert "Only a manager can send this offer" in page
    assert 'value="4350"' in page  # not discarded
    assert refresh(trade_in).state == State.SUBMITTED

    with pytest.raises(NeedsConfirmation):
        actions.trade_in_quote(trade_in=trade_in, actor=manager, amount="1000")
    actions.trade_in_quote(trade_in=trade_in, actor=manager, amount="1000", confirmed_amount="1000")
    assert refresh(trade_in).state == State.QUOTED


def test_a_yes_to_one_amount_is_no_yes_to_another(make_trade_in, staff):
    trade_in = make_trade_in(State.SUBMITTED)  # suggested 435.00
    client = staff_client(staff)
    page = workflow(client, trade_in, "quote", amount="700", valid_days=14).content.decode()
    assert "700.00 is 1.6×" in page
    # The box was ticked for 700, then the amount changed to 800 before Send Quote.
    page = workflow(
        client,
        trade_in,
        "quote",
        amount="800",
        valid_days=14,
        confirmed="on",
        confirmed_amount="700",
    ).content.decode()
    assert not Quote.objects.filter(trade_in=trade_in).exists()
    assert "Please confirm this offer: 800.00 is 1.8× the suggested offer of 435.00." in page
    assert 'name="confirmed_amount" value="800"' in page
    with pytest.raises(NeedsConfirmation):
        actions.trade_in_quote(trade_in=trade_in, actor=staff, amount="800", confirmed_amount="700")
    # Changed down to an ordinary amount: no yes needed, none carried over.
    workflow(client, trade_in, "quote", amount="440", valid_days=14, confirmed_amount="700")
    assert refresh(trade_in).latest_quote().amount == Decimal("440.00")


def test_any_offer_above_the_manager_amount_needs_a_manager(make_trade_in, staff, product):
    product.base_price = Decimal("0")
    product.save()
    trade_in = make_trade_in(State.SUBMITTED)
    with pytest.raises(TransitionRefused, match="above the manager threshold of 1500.00"):
        actions.trade_in_quote(
            trade_in=trade_in, actor=staff, amount="1600", confirmed_amount="1600"
        )
    actions.trade_in_quote(trade_in=trade_in, actor=staff, amount="1400")


# --- the Save trap ---------------------------------------------------------------------------
def test_the_buyer_details_save_says_what_it_saves_and_never_claims_an_offer(make_trade_in, staff):
    trade_in = make_trade_in(State.SUBMITTED)
    client = staff_client(staff)
    url = reverse("admin:workflows_tradein_change", args=[trade_in.pk])
    page = client.get(url).content.decode()
    assert "Save buyer details" in page and "data-quote-form" in page
    assert "unsent_offer.js" in page
    form = {
        name: getattr(trade_in, name)
        for name in (
            "buyer_name",
            "buyer_email",
            "buyer_phone",
            "fulfilment",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postcode",
            "country",
        )
    }
    # Typing an offer does not reach this form; pressing save with nothing changed says so.
    for prefix in re.findall(r'name="([\w-]+)-TOTAL_FORMS"', page):  # the read-only inlines
        form.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = client.post(url, {**form, "_continue": "1", "amount": "300"}, follow=True)
    page = response.content.decode()
    assert "Nothing to save: the buyer details are unchanged." in page
    assert "was changed successfully" not in page
    assert refresh(trade_in).state == State.SUBMITTED
    assert not Event.objects.filter(trade_in=trade_in, kind="details_changed").exists()
    assert TradeIn.objects.get(pk=trade_in.pk).offer_amount is None


# --- what a counter needs --------------------------------------------------------------------
def test_staff_add_an_internal_note_to_the_timeline(make_trade_in, staff):
    trade_in = make_trade_in(State.SUBMITTED)
    client = staff_client(staff)
    page = workflow(client, trade_in, "note", note="Buyer called: box is dented").content.decode()
    assert "Note added to the timeline." in page and "Buyer called: box is dented" in page
    event = trade_in.events.get(kind="note_added")
    assert (event.actor, event.note) == (staff, "Buyer called: box is dented")
    page = workflow(client, trade_in, "note", note="   ").content.decode()
    assert trade_in.events.filter(kind="note_added").count() == 1


def test_staff_resend_a_buyer_email_through_the_outbox(make_trade_in, staff, drain):
    from django.core import mail

    trade_in = make_trade_in(State.QUOTED)
    client = staff_client(staff)
    page = client.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    page = page.content.decode()
    assert "Emails to the buyer" in page and "Re-send" in page
    quote_email = trade_in.side_effects.get(payload__template="quote")
    sent_before = len(mail.outbox)

    page = workflow(client, trade_in, "resend", email=quote_email.pk).content.decode()
    assert "The email is on its way again." in page
    drain()
    assert len(mail.outbox) == sent_before + 1
    assert mail.outbox[-1].subject == mail.outbox[sent_before - 1].subject
    assert mail.outbox[-1].subject.startswith("Your trade-in offer")
    assert trade_in.events.filter(kind="email_resent", actor=staff).exists()
    # Draining again sends nothing more: one row, one email.
    drain()
    assert len(mail.outbox) == sent_before + 1


def test_it_refuses_to_resend_an_email_of_another_trade_in(make_trade_in, staff):
    mine, other = make_trade_in(State.QUOTED), make_trade_in(State.QUOTED)
    email = other.side_effects.filter(payload__template="quote").get()
    with pytest.raises(Exception, match="cannot be re-sent"):
        actions.email_resend(trade_in=mine, actor=staff, side_effect_id=email.pk)


def test_staff_open_the_shipping_label_pdf(make_trade_in, staff, client):
    trade_in = make_trade_in(State.ACCEPTED)
    staff_page = staff_client(staff)
    page = staff_page.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    url = reverse("admin:workflows_tradein_label", args=[trade_in.pk])
    assert url in page.content.decode()
    response = staff_page.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert bytes(response.content).startswith(b"%PDF")
    assert client.get(url).status_code == 302  # not signed in: to the login page


def test_it_offers_the_purchase_receipt_next_to_the_label(make_trade_in, staff):
    # Issue 13 item 4: at the counter the label and the receipt print from the same row.
    trade_in = make_trade_in(State.ACCEPTED)
    staff_page = staff_client(staff)
    page = staff_page.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    html = page.content.decode()
    label_url = reverse("admin:workflows_tradein_label", args=[trade_in.pk])
    receipt_url = reverse("admin:purchase_receipt", args=[trade_in.pk])
    label_row = html[html.index(label_url) :]
    label_row = label_row[: label_row.index("</div>")]
    assert receipt_url in label_row
    receipt = staff_page.get(receipt_url)
    assert receipt.status_code == 200 and bytes(receipt.content).startswith(b"%PDF")


def test_payouts_are_a_managers_page_and_staff_are_told_so_plainly(make_trade_in, staff):
    # Payouts are the managers' (README: roles): staff who follow a link are told why.
    trade_in = make_trade_in(State.RECEIVED)
    client = staff_client(staff)
    for url in (
        reverse("admin:workflows_payout_change", args=[trade_in.payout.pk]),
        reverse("admin:workflows_payout_changelist"),
    ):
        page = client.get(url)
        assert page.status_code == 403
        text = page.content.decode()
        assert "This page is not open to your account" in text
        assert "Settling and exporting payouts is a manager&#x27;s job" in text
        assert 'href="/dashboard/"' in text


def test_a_search_for_the_rows_placeholder_keeps_its_words_in_the_back_link(make_trade_in, staff):
    # The queue reverses one row URL with a placeholder key; a search term that happens to be
    # that placeholder must stay in the preserved filters, not become a primary key.
    trade_in = make_trade_in(State.SUBMITTED, buyer_name="Pkplaceholder Smith")
    page = staff_client(staff).get(
        reverse("admin:workflows_tradein_changelist"), {"q": "pkplaceholder"}
    )
    change = reverse("admin:workflows_tradein_change", args=[trade_in.pk])
    assert f'href="{change}?_changelist_filters=q%3Dpkplaceholder"' in page.content.decode()
