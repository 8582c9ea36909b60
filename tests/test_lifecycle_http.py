"""The lifecycle through HTTP only: buyer form, staff dashboard, emailed links, intake bench."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.factories import valid_imei
from tests.helpers import (  # noqa: F401  (buyer_post & co. were imported from here)
    assert_books_balance,
    buyer_post,
    declaration_post,
    form_url,
    intake_data,
    links_in_last_mail,
    refresh,
    staff_client,
    submit_and_check,
    workflow,
)
from workflows.models import (
    BlockedImei,
    Event,
    EventKind,
    Payout,
    PayoutStatus,
    Quote,
    ReturnCase,
    State,
    TradeIn,
    Unit,
    UnitStatus,
)
from workflows.tasks import cancel_unarrived_devices, expire_lapsed_quotes


def quote_link(trade_in: TradeIn) -> str:
    links = [u for u in links_in_last_mail(trade_in.buyer_email) if "/trade-in/offer/" in u]
    assert links
    return links[0].replace("http://testserver", "")


def test_it_runs_the_happy_path_end_to_end(client, product, staff, manager, drain):
    # Buyer submits from the form; the IMEI check runs after commit.
    trade_in = submit_and_check(client, product, drain)
    assert trade_in.state == State.SUBMITTED
    assert trade_in.imei_status == "clean"
    assert trade_in.suggested_offer == Decimal("435.00")  # 500 - 10% screen - 3% box
    assert "received your trade-in" in mail.outbox[-1].subject

    # Staff opens the queue and the detail page, and sends a quote.
    desk = staff_client(staff)
    queue = desk.get("/dashboard/trade-ins/")
    assert queue.status_code == 200 and trade_in.reference in queue.content.decode()
    detail = desk.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk]))
    page = detail.content.decode()
    assert "Send Quote" in page and "Light scratches" in page and "Clean" in page
    response = workflow(desk, trade_in, "quote", amount="420.00", valid_days="7", note="")
    assert "Quote sent" in response.content.decode()
    drain()
    assert refresh(trade_in).state == State.QUOTED

    # Buyer follows the emailed link: GET shows, only POST acts.
    link = quote_link(trade_in)
    shown = client.get(link)
    assert shown.status_code == 200 and "$420" in shown.content.decode()
    assert refresh(trade_in).state == State.QUOTED
    accepted = client.post(link + "accept/", declaration_post())
    assert accepted.status_code == 302
    drain()
    trade_in = refresh(trade_in)
    assert trade_in.state == State.ACCEPTED
    product.refresh_from_db()
    assert product.stock == 1
    unit = Unit.objects.get(trade_in=trade_in)
    assert (unit.status, unit.imei) == (UnitStatus.RECEIVED, trade_in.imei)
    payout = Payout.objects.get(trade_in=trade_in)
    assert (payout.status, payout.amount, payout.method) == (
        PayoutStatus.PENDING,
        Decimal("420.00"),
        "check",
    )
    label_mail = mail.outbox[-1]
    assert "shipping label" in label_mail.subject
    label_url = [u for u in links_in_last_mail() if "/trade-in/label/" in u][0]
    pdf = client.get(label_url.replace("http://testserver", ""))
    assert pdf["Content-Type"] == "application/pdf" and b"SAMPLE" in pdf.content

    # The box arrives: scan at the intake bench, Enter, grade.
    found = desk.get(reverse("admin:intake_bench"), {"imei": trade_in.imei})
    assert trade_in.reference in found.content.decode()
    received = desk.post(
        reverse("admin:intake_bench"),
        intake_data(trade_in),
        follow=True,
    )
    assert "received, grade B" in received.content.decode()
    trade_in = refresh(trade_in)
    assert trade_in.state == State.RECEIVED
    unit.refresh_from_db()
    assert (unit.status, unit.grade, unit.as_found["powers_on"]) == (UnitStatus.GRADED, "B", "yes")

    # The manager settles the check payout, which closes the trade-in.
    office = staff_client(manager)
    office.post(
        reverse("admin:workflows_payout_settle", args=[payout.pk]),
        {"check_number": "10042", "check_date": timezone.localdate().isoformat()},
    )
    drain()
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SETTLED and "10042" in payout.settlement_reference
    assert refresh(trade_in).state == State.CLOSED
    kinds = list(Event.objects.filter(trade_in=trade_in).values_list("kind", flat=True))
    for kind in (
        EventKind.SUBMITTED,
        EventKind.IMEI_CHECKED,
        EventKind.QUOTED,
        EventKind.ACCEPTED,
        EventKind.LABEL_CREATED,
        EventKind.RECEIVED,
        EventKind.PAYOUT_SETTLED,
        EventKind.CLOSED,
    ):
        assert kind in kinds
    assert_books_balance()


def test_it_declines_from_the_link_and_counter_quotes(client, product, staff, drain):
    trade_in = submit_and_check(client, product, drain)
    desk = staff_client(staff)
    workflow(desk, trade_in, "quote", amount="300", valid_days="7")
    drain()
    first_link = quote_link(trade_in)

    refused = client.post(first_link + "decline/", {"reason": "nonsense"})
    assert refused.status_code == 400 and refresh(trade_in).state == State.QUOTED
    client.post(first_link + "decline/", {"reason": "The offer is too low", "detail": "Want 350"})
    trade_in = refresh(trade_in)
    assert trade_in.state == State.DECLINED
    assert trade_in.decline_reason == "The offer is too low: Want 350"
    product.refresh_from_db()
    assert product.stock == 0
    drain()
    assert "declined" in mail.outbox[-1].subject
    # Declined work leaves the open queue's top but stays searchable.
    assert client.get(first_link).status_code == 410

    workflow(desk, trade_in, "quote", amount="340", valid_days="3", note="Best we can do")
    drain()
    assert refresh(trade_in).state == State.QUOTED
    assert "new offer" in mail.outbox[-1].subject
    second_link = quote_link(trade_in)
    assert second_link != first_link
    assert client.post(first_link + "accept/").status_code == 410  # superseded
    client.post(second_link + "accept/", declaration_post())
    assert refresh(trade_in).state == State.ACCEPTED
    assert trade_in.payout.amount == Decimal("340.00")
    assert client.post(second_link + "accept/", declaration_post()).status_code == 410  # used
    assert_books_balance()


def test_it_refuses_a_red_flag_until_a_manager_overrides(client, product, staff, manager, drain):
    imei = valid_imei()
    BlockedImei.objects.create(imei=imei, reason=BlockedImei.Reason.FINANCE_LOCKED)
    trade_in = submit_and_check(client, product, drain, imei=imei)
    assert trade_in.imei_status == "flagged"

    desk = staff_client(staff)
    page = desk.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk])).content.decode()
    assert "RED FLAG" in page and "finance-locked" in page
    assert "Only a manager can quote a red-flagged device" in page
    response = workflow(
        desk, trade_in, "quote", amount="200", valid_days="7", override_reason="I say so"
    )
    assert "red flag" in response.content.decode()
    assert refresh(trade_in).state == State.SUBMITTED and not Quote.objects.exists()

    office = staff_client(manager)
    page = office.get(
        reverse("admin:workflows_tradein_change", args=[trade_in.pk])
    ).content.decode()
    assert "Manager override" in page
    response = workflow(office, trade_in, "quote", amount="200", valid_days="7")
    assert "Only a manager can quote it, with a written reason" in response.content.decode()
    assert refresh(trade_in).state == State.SUBMITTED
    workflow(
        office,
        trade_in,
        "quote",
        amount="200",
        valid_days="7",
        override_reason="Lender confirmed the balance is paid off",
    )
    trade_in = refresh(trade_in)
    assert trade_in.state == State.QUOTED
    assert trade_in.red_flag_override_by == manager
    override = Event.objects.get(trade_in=trade_in, kind=EventKind.RED_FLAG_OVERRIDDEN)
    assert override.actor == manager and "paid off" in override.note


def test_it_refuses_to_quote_before_the_imei_check_finished(client, product, staff):
    response = buyer_post(client, product)
    assert response.status_code == 302
    trade_in = TradeIn.objects.get()
    assert trade_in.imei_status == "pending"  # no worker ran yet
    response = workflow(staff_client(staff), trade_in, "quote", amount="100", valid_days="7")
    assert "Wait for the IMEI check" in response.content.decode()
    assert refresh(trade_in).state == State.SUBMITTED


def test_it_expires_lapsed_quotes_and_cancels_devices_that_never_came(
    make_trade_in, product, settings, drain
):
    lapsing = make_trade_in(State.QUOTED)
    Quote.objects.filter(trade_in=lapsing).update(valid_until=timezone.now() - timedelta(seconds=1))
    fresh = make_trade_in(State.QUOTED)
    assert expire_lapsed_quotes() == 1
    assert refresh(lapsing).state == State.EXPIRED
    assert refresh(fresh).state == State.QUOTED

    late = make_trade_in(State.ACCEPTED)
    on_time = make_trade_in(State.ACCEPTED)
    product.refresh_from_db()
    assert product.stock == 2
    TradeIn.objects.filter(pk=late.pk).update(
        accepted_at=timezone.now() - timedelta(days=settings.ARRIVAL_WINDOW_DAYS, seconds=1)
    )
    assert cancel_unarrived_devices() == 1
    late = refresh(late)
    assert late.state == State.CANCELLED
    assert refresh(on_time).state == State.ACCEPTED
    product.refresh_from_db()
    assert product.stock == 1
    assert late.unit.status == UnitStatus.VOID
    assert late.payout.status == PayoutStatus.VOID
    drain()
    assert late.labels.get().voided_at is not None
    assert Event.objects.filter(
        trade_in=late, kind=EventKind.CANCELLED, actor_label="system"
    ).exists()
    assert_books_balance()


def test_it_reroutes_a_damaged_device_from_the_intake_bench(make_trade_in, product, staff, drain):
    trade_in = make_trade_in(State.ACCEPTED)
    desk = staff_client(staff)
    response = desk.post(
        reverse("admin:intake_bench"),
        {**intake_data(trade_in, outcome="reroute", grade="D"), "notes": "Back glass shattered"},
        follow=True,
    )
    assert "rerouted to Returns" in response.content.decode()
    trade_in = refresh(trade_in)
    assert trade_in.state == State.REROUTED
    assert trade_in.payout.status == PayoutStatus.DECLINED
    assert trade_in.unit.status == UnitStatus.RETURNS
    case = ReturnCase.objects.get(trade_in=trade_in)
    assert case.reason == "Back glass shattered"
    product.refresh_from_db()
    assert product.stock == 0
    drain()
    assert "About the device you sent us" in mail.outbox[-1].subject
    assert_books_balance()


@pytest.mark.parametrize("state", [State.SUBMITTED, State.RECEIVED, State.CLOSED])
def test_it_never_settles_before_the_device_arrived(make_trade_in, manager, state):
    trade_in = make_trade_in(State.ACCEPTED)
    office = staff_client(manager)
    response = office.post(
        reverse("admin:workflows_payout_settle", args=[trade_in.payout.pk]),
        {"check_number": "1", "check_date": "2026-01-01"},
        follow=True,
    )
    assert "only after the device was received" in response.content.decode()
    assert refresh(trade_in.payout).status == PayoutStatus.PENDING
