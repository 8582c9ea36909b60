"""Inspection decides: the enforced intake checklist, revised offers end to end (staff bench,
buyer's signed link), returns that finish, and bad input that changes nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from PIL import Image

from tests.conftest import assert_books_balance, intake_data, links_in_last_mail, refresh
from tests.helpers import declaration_post, declared
from tests.test_lifecycle_http import staff_client
from workflows import actions
from workflows.errors import DomainError, InvalidInput, TransitionRefused
from workflows.models import (
    Direction,
    Event,
    EventKind,
    InspectionPhoto,
    Payout,
    PayoutStatus,
    Product,
    ReturnCase,
    ReturnStatus,
    RevisedOffer,
    RevisedOfferStatus,
    SideEffect,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)
from workflows.rules.inspection import checklist_as_disclosed


def png(name: str = "crack.png") -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(data, "PNG")
    data.seek(0)
    data.name = name
    return data


def snapshot() -> tuple:
    """Every row an intake or an answer could touch, to prove a refusal changed nothing."""
    return (
        list(TradeIn.objects.order_by("pk").values_list("pk", "state")),
        list(Unit.objects.order_by("pk").values_list("pk", "status", "grade", "as_found")),
        list(Payout.objects.order_by("pk").values_list("pk", "status", "amount")),
        list(Product.objects.order_by("pk").values_list("pk", "stock")),
        Event.objects.count(),
        RevisedOffer.objects.count(),
        InspectionPhoto.objects.count(),
        SideEffect.objects.count(),
    )


@pytest.fixture
def bench(staff):
    return staff_client(staff)


def revise_at_bench(bench, trade_in, *, amount="180.00", photos=(), **found):
    found = found or {"screen": "cracked", "battery": "service"}
    data = {
        **intake_data(trade_in, outcome="revise", grade="C", **found),
        "amount": amount,
        "notes": "Crack across the top left corner",
    }
    if photos:
        data["photos"] = list(photos)
    return bench.post(reverse("admin:intake_bench"), data, follow=True)


# --- the checklist is enforced --------------------------------------------------------------------
@pytest.mark.parametrize("missing", ["powers_on", "activation_lock", "screen", "accessories"])
def test_it_refuses_a_checklist_with_an_item_missing(bench, make_trade_in, missing):
    trade_in = make_trade_in(State.ACCEPTED)
    data = intake_data(trade_in)
    del data[f"check_{missing}"]
    before = snapshot()
    page = bench.post(reverse("admin:intake_bench"), data, follow=True).content.decode()
    assert "Answer this checklist item." in page
    assert snapshot() == before


def as_disclosed_post(trade_in, **fields) -> dict:
    """The bench's POST when the person leaves the checklist and presses Receive as disclosed."""
    data = {k: v for k, v in intake_data(trade_in, **fields).items() if not k.startswith("check_")}
    return {**data, "outcome": "", "as_disclosed": "1"}


def test_receive_as_disclosed_files_the_disclosure_as_found_by_that_person(
    bench, make_trade_in, staff
):
    trade_in = make_trade_in(State.ACCEPTED)
    page = bench.post(
        reverse("admin:intake_bench"), as_disclosed_post(trade_in, grade="B"), follow=True
    ).content.decode()
    assert "received, grade B" in page
    trade_in = refresh(trade_in)
    assert trade_in.state == State.RECEIVED and trade_in.unit.grade == "B"
    assert trade_in.unit.as_found == checklist_as_disclosed(trade_in)
    received = trade_in.events.get(kind=EventKind.RECEIVED)
    assert received.actor == staff and received.note == "grade B"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"check_screen": "cracked"}, "You found Screen different from what the buyer disclosed"),
        ({"check_powers_on": "no"}, "You found Powers on different"),
        ({"outcome": "revise", "amount": "10"}, "Receive as disclosed grades the device"),
        ({"grade": ""}, "Choose a grade."),
    ],
)
def test_receive_as_disclosed_refuses_a_contradiction_and_keeps_the_answers(
    bench, make_trade_in, fields, message
):
    trade_in = make_trade_in(State.ACCEPTED)
    before = snapshot()
    response = bench.post(
        reverse("admin:intake_bench"), {**as_disclosed_post(trade_in, grade="B"), **fields}
    )
    page = response.content.decode()
    assert response.status_code == 400 and message in page
    assert snapshot() == before
    # The same device on screen, with what the person ticked still ticked.
    assert 'id="intake-match"' in page
    for name, value in fields.items():
        if name.startswith("check_"):
            radio = page.split(f'name="{name}" value="{value}" id="id_{name}_')[1]
            assert radio.split(">")[0].endswith("checked")


def test_the_action_refuses_a_missing_item_too(make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    checklist = checklist_as_disclosed(trade_in)
    del checklist["battery"]
    before = snapshot()
    with pytest.raises(InvalidInput, match="Missing: Battery health"):
        actions.trade_in_intake(
            trade_in=trade_in,
            scanned_imei=trade_in.imei,
            actor=staff,
            checklist=checklist,
            outcome="grade",
            grade="A",
        )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("found", "grade"),
    [
        ({"powers_on": "no"}, "A"),
        ({"activation_lock": "on"}, "A"),
        ({"powers_on": "no", "activation_lock": "on"}, "C"),
        ({"activation_lock": "on"}, "D"),  # not sellable, but not at the full offer either
    ],
)
def test_a_dead_or_locked_device_cannot_be_graded_at_the_offer(bench, make_trade_in, found, grade):
    # The bug this issue names: "does not power on, activation lock on" was graded A.
    trade_in = make_trade_in(State.ACCEPTED)
    before = snapshot()
    page = bench.post(
        reverse("admin:intake_bench"), intake_data(trade_in, grade=grade, **found), follow=True
    ).content.decode()
    assert "cannot be graded" in page
    assert snapshot() == before


def test_a_locked_device_goes_to_a_revised_offer_graded_d(bench, make_trade_in, drain):
    trade_in = make_trade_in(State.ACCEPTED)
    page = bench.post(
        reverse("admin:intake_bench"),
        {
            **intake_data(trade_in, outcome="revise", grade="A", activation_lock="on"),
            "amount": "40",
        },
        follow=True,
    ).content.decode()
    assert "cannot be graded sellable" in page and refresh(trade_in).state == State.ACCEPTED
    bench.post(
        reverse("admin:intake_bench"),
        {
            **intake_data(trade_in, outcome="revise", grade="D", activation_lock="on"),
            "amount": "40",
        },
    )
    assert refresh(trade_in).state == State.REOFFERED
    offer = trade_in.revised_offers.get()
    assert offer.grade == "D"
    assert [d["item"] for d in offer.differences] == ["activation_lock"]


def test_the_as_found_record_reads_as_a_table_beside_the_disclosure(bench, make_trade_in, staff):
    trade_in = make_trade_in(State.ACCEPTED)
    revise_at_bench(bench, trade_in, photos=[png()])
    for url in (
        reverse("admin:workflows_tradein_change", args=[trade_in.pk]),
        reverse("admin:workflows_unit_change", args=[trade_in.unit.pk]),
    ):
        page = bench.get(url).content.decode()
        assert 'id="as-found"' in page, url
        assert "Buyer disclosed" in page and "Cracked glass" in page and "Light scratches" in page
        assert "&quot;powers_on&quot;" not in page and '"powers_on"' not in page  # no raw JSON
    photo = trade_in.photos.get()
    assert reverse("admin:inspection_photo", args=[photo.pk]) in page


# --- revised offer, end to end over HTTP ----------------------------------------------------------
def test_it_sends_a_revised_offer_and_the_buyer_accepts_it(
    bench, client, make_trade_in, drain, product
):
    trade_in = make_trade_in(State.ACCEPTED)
    page = revise_at_bench(bench, trade_in, photos=[png()]).content.decode()
    assert "revised offer of 180.00 emailed" in page
    trade_in = refresh(trade_in)
    assert trade_in.state == State.REOFFERED
    product.refresh_from_db()
    assert trade_in.unit.status == UnitStatus.RECEIVED and product.stock == 1
    assert Event.objects.filter(trade_in=trade_in, kind=EventKind.REVISED_OFFER_SENT).exists()
    drain()
    message = mail.outbox[-1]
    assert "revised offer" in message.subject and "Cracked glass" in message.body
    offer_url = [u for u in links_in_last_mail() if "/revised-offer/" in u and "photos" not in u][0]
    path = offer_url.replace("http://testserver", "")

    # GET shows (mail scanners prefetch), never acts.
    shown = client.get(path)
    assert shown.status_code == 200 and refresh(trade_in).state == State.REOFFERED
    html = shown.content.decode()
    assert "$180" in html and "$300" in html and "Cracked glass" in html
    photo_url = [u for u in links_in_last_mail() if "/photos/" in u][0]
    photo = client.get(photo_url.replace("http://testserver", ""))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert photo["X-Content-Type-Options"] == "nosniff"
    assert client.get(path + "accept/").status_code == 405

    # Without the declaration of ownership and age the offer page comes back; nothing changes.
    declared_before = trade_in.declarations.count()
    undeclared = client.post(path + "accept/")
    assert undeclared.status_code == 400 and "Please tick to confirm" in undeclared.content.decode()
    assert refresh(trade_in).state == State.REOFFERED
    assert trade_in.declarations.count() == declared_before
    with pytest.raises(InvalidInput):
        actions.revised_offer_accept(offer=trade_in.revised_offers.get())
    assert refresh(trade_in).state == State.REOFFERED

    response = client.post(path + "accept/", declaration_post())
    assert response.status_code == 302
    trade_in = refresh(trade_in)
    assert trade_in.state == State.RECEIVED
    assert trade_in.payout.amount == Decimal("180.00")
    assert trade_in.payout.status == PayoutStatus.PENDING
    assert (trade_in.unit.status, trade_in.unit.grade) == (UnitStatus.GRADED, "C")
    assert trade_in.revised_offers.get().answered_by == "buyer"
    assert trade_in.declarations.count() == declared_before + 1
    declaration = trade_in.declarations.latest("pk")
    assert declaration.wording and declaration.ip == "127.0.0.1" and declaration.quote is None
    event = Event.objects.get(trade_in=trade_in, kind=EventKind.REVISED_OFFER_ACCEPTED)
    assert (event.from_state, event.to_state, event.actor_label) == (
        "reoffered",
        "received",
        "buyer",
    )
    status = client.get(response["Location"]).content.decode()
    assert "You accepted our revised offer" in status
    drain()
    assert "Revised offer accepted" in mail.outbox[-1].subject

    # A second answer: a clear page, nothing changed.
    before = snapshot()
    again = client.post(path + "return/")
    assert again.status_code == 410 and "already answered" in again.content.decode()
    assert snapshot() == before

    assert_books_balance()


def test_settling_after_an_accepted_revision_pays_the_revised_amount(
    make_trade_in, staff, manager, drain
):
    from datetime import date

    trade_in = make_trade_in(State.REOFFERED)
    actions.revised_offer_accept(offer=trade_in.revised_offers.get(), declaration=declared())
    actions.payout_settle_check(
        payout=refresh(trade_in).payout, actor=manager, check_number="9", check_date=date.today()
    )
    trade_in = refresh(trade_in)
    assert trade_in.state == State.CLOSED and trade_in.payout.amount == Decimal("200.00")
    assert_books_balance()


def test_the_buyer_asks_for_the_device_back_and_a_return_label_is_made(
    client, make_trade_in, drain, product
):
    trade_in = make_trade_in(State.REOFFERED)
    product.refresh_from_db()
    assert product.stock == 1
    offer_url = [u for u in links_in_last_mail() if "/revised-offer/" in u and "photos" not in u][0]
    response = client.post(offer_url.replace("http://testserver", "") + "return/")
    assert response.status_code == 302
    trade_in = refresh(trade_in)
    product.refresh_from_db()
    assert trade_in.state == State.RETURNED and product.stock == 0
    assert trade_in.unit.status == UnitStatus.RETURNED and not trade_in.unit.is_stocked
    assert trade_in.payout.status == PayoutStatus.DECLINED
    assert Event.objects.filter(trade_in=trade_in, kind=EventKind.RETURNED_TO_BUYER).exists()
    drain()
    label = trade_in.labels.get(direction=Direction.TO_BUYER)
    assert label.is_sample and bytes(label.pdf).startswith(b"%PDF")
    assert "on its way back" in mail.outbox[-1].subject
    assert label.tracking_number in mail.outbox[-1].body
    assert Event.objects.filter(trade_in=trade_in, kind=EventKind.RETURN_LABEL_CREATED).exists()
    status = client.get(response["Location"]).content.decode()
    assert "coming back to you" in status and label.tracking_number in status
    # The buyer's own label page still serves the label to us, never the return label.
    assert_books_balance()


def test_a_local_buyer_collects_the_device_at_the_counter(client, make_trade_in, drain):
    trade_in = make_trade_in(State.REOFFERED, fulfilment="pickup")
    actions.revised_offer_decline(offer=trade_in.revised_offers.get())
    drain()
    assert not refresh(trade_in).labels.filter(direction=Direction.TO_BUYER).exists()
    assert "ready to collect" in mail.outbox[-1].subject
    assert_books_balance()


def test_the_returned_unit_frees_its_imei_for_a_new_trade_in(make_trade_in, drain):
    returned = make_trade_in(State.RETURNED)
    again = make_trade_in(State.RECEIVED, imei=returned.imei)
    stocked = Unit.objects.filter(imei=returned.imei, status__in=["received", "graded", "listed"])
    assert list(stocked) == [again.unit]
    assert_books_balance()


def test_a_newer_revision_supersedes_the_older_link(client, make_trade_in, staff, drain):
    trade_in = make_trade_in(State.REOFFERED)
    old_url = [u for u in links_in_last_mail() if "/revised-offer/" in u][0]
    actions.revised_offer_send(
        trade_in=trade_in, actor=staff, amount="150", grade="C", note="Battery swollen too"
    )
    drain()
    old = client.post(old_url.replace("http://testserver", "") + "accept/", declaration_post())
    assert old.status_code == 410 and "newer one" in old.content.decode()
    offers = list(trade_in.revised_offers.order_by("pk").values_list("status", flat=True))
    assert offers == [RevisedOfferStatus.SUPERSEDED, RevisedOfferStatus.SENT]
    new_url = [u for u in links_in_last_mail() if "/revised-offer/" in u][0]
    assert (
        client.post(
            new_url.replace("http://testserver", "") + "accept/", declaration_post()
        ).status_code
        == 302
    )
    assert refresh(trade_in).payout.amount == Decimal("150.00")
    assert_books_balance()


def test_a_tampered_or_lapsed_link_changes_nothing(client, make_trade_in, drain):
    trade_in = make_trade_in(State.REOFFERED)
    url = [u for u in links_in_last_mail() if "/revised-offer/" in u][0]
    path = url.replace("http://testserver", "")
    before = snapshot()
    assert client.post(path[:-3] + "xx/accept/").status_code == 404
    RevisedOffer.objects.filter(trade_in=trade_in).update(respond_by="2000-01-01T00:00Z")
    lapsed = client.post(path + "accept/", declaration_post())
    assert lapsed.status_code == 410 and "expired" in lapsed.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("default", "state", "payout"),
    [("return", State.RETURNED, PayoutStatus.DECLINED), ("accept", State.RECEIVED, "pending")],
)
def test_no_answer_in_time_applies_the_shops_default(
    make_trade_in, drain, settings, default, state, payout
):
    from workflows.tasks import apply_revised_offer_defaults

    settings.REVISED_OFFER_DEFAULT = default
    trade_in = make_trade_in(State.REOFFERED)
    assert apply_revised_offer_defaults() == 0  # not lapsed yet
    RevisedOffer.objects.filter(trade_in=trade_in).update(respond_by="2000-01-01T00:00Z")
    assert apply_revised_offer_defaults() == 1
    trade_in = refresh(trade_in)
    assert trade_in.state == state and trade_in.payout.status == payout
    assert trade_in.revised_offers.get().answered_by == "default"
    assert apply_revised_offer_defaults() == 0
    assert_books_balance()


# --- bad input: a clear message, nothing changed ------------------------------------------------
@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "more than 0"),
        ("-5", "more than 0"),
        ("300.00", "less than the original"),
        ("450", "less than the original"),
        ("abc", "Enter a number"),
    ],
)
def test_a_revised_offer_of_zero_or_not_less_than_the_original_is_refused(
    bench, make_trade_in, amount, message
):
    trade_in = make_trade_in(State.ACCEPTED)
    before = snapshot()
    page = revise_at_bench(bench, trade_in, amount=amount).content.decode()
    assert message in page
    assert snapshot() == before


@pytest.mark.parametrize("state", [State.QUOTED, State.ACCEPTED, State.CLOSED, State.RETURNED])
def test_a_revised_offer_on_a_trade_in_not_received_is_refused(make_trade_in, staff, state):
    trade_in = make_trade_in(state)
    before = snapshot()
    with pytest.raises(DomainError):
        actions.revised_offer_send(
            trade_in=trade_in, actor=staff, amount="10", grade="C", note="scratch"
        )
    assert snapshot() == before


def test_a_revised_offer_needs_a_difference(make_trade_in, staff):
    trade_in = make_trade_in(State.RECEIVED)  # graded as disclosed
    with pytest.raises(InvalidInput, match="differs"):
        actions.revised_offer_send(trade_in=trade_in, actor=staff, amount="10", grade="C")


def test_a_photo_that_is_not_an_image_is_refused(bench, make_trade_in):
    trade_in = make_trade_in(State.ACCEPTED)
    fake = io.BytesIO(b"<script>alert(1)</script>")
    fake.name = "crack.png"
    before = snapshot()
    page = revise_at_bench(bench, trade_in, photos=[fake]).content.decode()
    assert "is not a photo" in page
    assert snapshot() == before


def test_photos_are_only_for_staff_and_a_genuine_link(client, bench, make_trade_in):
    trade_in = make_trade_in(State.ACCEPTED)
    revise_at_bench(bench, trade_in, photos=[png()])
    photo = trade_in.photos.get()
    staff_url = reverse("admin:inspection_photo", args=[photo.pk])
    assert bench.get(staff_url).status_code == 200
    assert client.get(staff_url).status_code == 302  # to the login
    bad = reverse("buyer_portal:revised_offer_photo", args=["forged", photo.pk])
    assert client.get(bad).status_code == 404
    assert not str(photo.image.name).startswith("/")  # inside MEDIA_ROOT, via the storage


def test_staff_without_intake_permission_cannot_send_a_revised_offer(make_trade_in, manager, staff):
    from django.contrib.auth.models import User

    trade_in = make_trade_in(State.RECEIVED)
    nobody = User.objects.create_user("viewer", password="x", is_staff=True)
    with pytest.raises(TransitionRefused):
        actions.revised_offer_send(
            trade_in=trade_in, actor=nobody, amount="10", grade="C", note="x"
        )


# --- return cases finish --------------------------------------------------------------------------
def case_page(client, case) -> str:
    return client.get(reverse("admin:workflows_returncase_change", args=[case.pk])).content.decode()


def test_a_return_case_returned_to_the_buyer_ships_it_back(bench, make_trade_in, drain):
    trade_in = make_trade_in(State.REROUTED)
    case = trade_in.return_case
    page = case_page(bench, case)
    assert "Resolve case" in page and 'name="_save"' not in page  # no Save on a record
    assert "Revised offer accepted" not in page  # a revised offer is sent, never picked
    bench.post(
        reverse("admin:workflows_returncase_close", args=[case.pk, "resolve"]),
        {"resolution": "returned", "note": "Buyer wants it back"},
    )
    trade_in = refresh(trade_in)
    assert trade_in.state == State.RETURNED and refresh(case).resolution == "returned"
    assert trade_in.unit.status == UnitStatus.RETURNED
    drain()
    assert trade_in.labels.filter(direction=Direction.TO_BUYER).exists()
    assert "on its way back" in mail.outbox[-1].subject
    assert "goes back to the buyer" in case_page(bench, case)
    assert_books_balance()


def test_a_return_case_recycled_disposes_of_the_unit(bench, make_trade_in):
    trade_in = make_trade_in(State.REROUTED)
    bench.post(
        reverse("admin:workflows_returncase_close", args=[trade_in.return_case.pk, "resolve"]),
        {"resolution": "recycled", "note": "Buyer agreed by phone"},
    )
    trade_in = refresh(trade_in)
    assert trade_in.state == State.RECYCLED and trade_in.unit.status == UnitStatus.RECYCLED
    assert Event.objects.filter(trade_in=trade_in, kind=EventKind.UNIT_RECYCLED).exists()
    assert_books_balance()


def test_picking_revised_offer_as_a_resolution_is_refused(bench, make_trade_in):
    trade_in = make_trade_in(State.REROUTED)
    before = snapshot()
    page = bench.post(
        reverse("admin:workflows_returncase_close", args=[trade_in.return_case.pk, "resolve"]),
        {"resolution": "revised_offer"},
        follow=True,
    ).content.decode()
    assert "Select a valid choice" in page
    assert snapshot() == before


def test_a_return_case_revised_offer_accepted_restocks_and_reinstates_the_payout(
    bench, client, make_trade_in, drain, product
):
    trade_in = make_trade_in(State.REROUTED)
    assert product.stock == 0 and trade_in.payout.status == PayoutStatus.DECLINED
    case = trade_in.return_case
    bench.post(
        reverse("admin:workflows_returncase_close", args=[case.pk, "revise"]),
        {"amount": "120", "grade": "D", "note": "Back glass shattered", "photos": [png()]},
    )
    assert refresh(trade_in).state == State.REOFFERED
    assert "waiting for the buyer" in case_page(bench, case)
    drain()
    url = [u for u in links_in_last_mail() if "/revised-offer/" in u and "photos" not in u][0]
    client.post(url.replace("http://testserver", "") + "accept/", declaration_post())
    trade_in = refresh(trade_in)
    product.refresh_from_db()
    assert trade_in.state == State.RECEIVED and product.stock == 1
    assert trade_in.payout.status == PayoutStatus.PENDING
    assert trade_in.payout.amount == Decimal("120.00")
    case = refresh(case)
    assert (case.status, case.resolution) == (ReturnStatus.RESOLVED, "revised_offer")
    assert_books_balance()


def test_a_rejected_case_puts_the_device_back_and_says_so(bench, make_trade_in, product):
    trade_in = make_trade_in(State.REROUTED)
    case = trade_in.return_case
    before = snapshot()
    bench.post(
        reverse("admin:workflows_returncase_close", args=[case.pk, "reject"]),
        {"grade": "B", "reason": ""},
    )
    assert snapshot() == before
    bench.post(
        reverse("admin:workflows_returncase_close", args=[case.pk, "reject"]),
        {"grade": "B", "reason": "The crack was a screen protector"},
    )
    trade_in = refresh(trade_in)
    product.refresh_from_db()
    assert trade_in.state == State.RECEIVED and product.stock == 1
    assert trade_in.payout.status == PayoutStatus.PENDING
    assert trade_in.payout.amount == Decimal("300.00")
    assert "original payout is owed again" in case_page(bench, case)
    assert_books_balance()


def test_a_closed_case_cannot_be_resolved_again(make_trade_in, staff):
    trade_in = make_trade_in(State.RECYCLED)
    case = ReturnCase.objects.get(trade_in=trade_in)
    before = snapshot()
    for call in (
        lambda: actions.return_case_resolve(case=case, actor=staff, resolution="returned"),
        lambda: actions.return_case_reject(case=case, actor=staff, note="x", grade="B"),
    ):
        with pytest.raises(TransitionRefused):
            call()
    assert snapshot() == before
