"""Outages while the lifecycle runs: the IMEI service, ShipEngine, Stripe and SMTP go down or
answer too slowly. Every outside system is configured as live and is a real server on loopback
(pytest-httpserver, the fake Stripe server, aiosmtpd) that the tests take down and bring back.

What each test proves: what the person did is committed in their request, which calls no
outside system; the side effect fails, shows on the timeline and waits for its backoff; once
the service is back, running the due side effects (the periodic sweep) finishes it, and the
loopback servers count that nothing was done twice.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ
from werkzeug import Request, Response

from tests.helpers import (
    assert_books_balance,
    buyer_post,
    declaration_post,
    intake_data,
    refresh,
    staff_client,
    workflow,
)

# The loopback SMTP and Stripe servers of the integration tests are fixtures here too.
from tests.integrations.conftest import Inbox, make_due, smtp, stripe_server  # noqa: F401
from tests.integrations.loopback import ImeiCheckServer, ShipEngineServer, SpecServer
from tests.integrations.test_imei_service import answer
from tests.integrations.test_shipengine import PDF, label_body
from tests.integrations.test_stripe_payouts import stripe_event, webhook
from workflows.models import (
    OUTCOME,
    Event,
    EventKind,
    ImeiCheckStatus,
    Payout,
    PayoutStatus,
    ShippingLabel,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    StripeAccount,
    TradeIn,
    Unit,
    UnitStatus,
)
from workflows.tasks import run_side_effect

TIMEOUT = 0.4  # every client's timeout in these tests
SLOW = 0.8  # a slow service answers after this long: past every client's timeout


class Loopback(SpecServer):
    """pytest-httpserver that can go down (connection refused) and come back on its port, and
    refuses, like the real service, a request its published spec does not allow."""

    def __init__(self) -> None:
        super().__init__(host="127.0.0.1", port=0, threaded=True)
        self.slow = 0.0  # > 0: do the work, then answer this many seconds later
        self.arrived = 0  # requests, counted as they come in (`log` has them once answered)

    def application(self, request: Request) -> Response:
        self.arrived += 1
        return super().application(request)

    def down(self) -> None:
        server = self.server
        self.stop()
        server.server_close()  # stop() alone leaves the socket listening: not an outage

    def up(self) -> None:
        self.start()  # the same port: the configured URL works again

    def serve(self) -> None:
        raise NotImplementedError

    def thread_target(self) -> None:
        self.server.serve_forever(poll_interval=0.05)  # go down without a half-second wait

    def answer(self, body: dict, status: int = 200) -> Response:
        if self.slow:
            time.sleep(self.slow)
        return Response(json.dumps(body), status=status, content_type="application/json")


@contextmanager
def loopback(cls: type[Loopback]):
    server = cls()
    server.serve()
    server.start()
    try:
        yield server
    finally:
        if server.is_running():
            server.down()
    server.assert_nothing_refused()


class ImeiService(Loopback):
    """Answers `POST /v1/checks` like imeicheck.net and counts the checks run per IMEI."""

    check = ImeiCheckServer.check

    def __init__(self) -> None:
        super().__init__()
        self.checks: Counter[str] = Counter()

    def serve(self) -> None:
        def check(request: Request) -> Response:
            imei = request.get_json()["deviceId"]
            self.checks[imei] += 1  # the service ran (and billed) the check
            return self.answer(answer(imei), status=201)

        self.expect_request(
            "/v1/checks", method="POST", headers={"Authorization": "Bearer imei-key"}
        ).respond_with_handler(check)


class ShipEngine(Loopback):
    """Answers like ShipEngine: buys labels, finds a shipment by `external_shipment_id`, lists
    its labels, serves the PDFs; counts `POST /v1/labels` per external_shipment_id."""

    check = ShipEngineServer.check
    validates_addresses = ShipEngineServer.validates_addresses

    def __init__(self) -> None:
        super().__init__()
        self.bought: Counter[str] = Counter()
        self.labels: dict[str, dict] = {}  # external_shipment_id -> label

    def serve(self) -> None:
        def buy(request: Request) -> Response:
            key = request.get_json()["shipment"]["external_shipment_id"]
            self.bought[key] += 1
            n = len(self.labels) + 1
            self.labels[key] = {
                **label_body(self),
                "label_id": f"se-{n}",
                "shipment_id": f"se-shipment-{n}",
                "label_download": {"pdf": self.url_for(f"/v1/downloads/{n}/label.pdf")},
            }
            return self.answer(self.labels[key])

        def shipment(request: Request) -> Response:
            key = request.path.rsplit("/", 1)[1]
            if key not in self.labels:
                return self.answer({"request_id": "r", "errors": [{"message": "not found"}]}, 404)
            return self.answer(
                {"shipment_id": self.labels[key]["shipment_id"], "external_shipment_id": key}
            )

        def labels(request: Request) -> Response:
            found = [
                lb
                for lb in self.labels.values()
                if lb["shipment_id"] == request.args.get("shipment_id")
            ]
            return self.answer({"labels": found, "total": len(found), "page": 1, "pages": 1})

        api = {"headers": {"API-Key": "TEST_shipengine_key"}}
        self.validates_addresses()
        self.expect_request("/v1/labels", method="POST", **api).respond_with_handler(buy)
        self.expect_request("/v1/labels", method="GET", **api).respond_with_handler(labels)
        self.expect_request(
            re.compile(r"/v1/shipments/external_shipment_id/[\w-]+"), method="GET", **api
        ).respond_with_handler(shipment)
        self.expect_request(re.compile(r"/v1/downloads/\d+/label\.pdf")).respond_with_data(
            PDF, content_type="application/pdf"
        )


class Mailbox(Inbox):
    """The SMTP server's inbox; counts sessions, and can be slow to answer EHLO (the client
    gives up before it sends anything, so a slow server never gets the message)."""

    def __init__(self, server) -> None:
        super().__init__()
        self.smtp = server
        self.slow = 0.0
        self.sessions = 0

    def up(self) -> None:
        self.smtp.start(self)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        if self.slow:
            await asyncio.sleep(self.slow)
        session.host_name = hostname
        return responses

    def count(self, subject: str, trade_in: TradeIn) -> int:
        return self.subjects().count(f"{subject} ({trade_in.reference})")

    def links(self, part: str) -> list[str]:
        """The links containing `part` in the newest message that has one."""
        for message in reversed(self.messages):
            for piece in message.walk():
                if piece.get_content_type() == "text/plain":
                    text = piece.get_payload(decode=True).decode()
                    found = [u for u in re.findall(r"https?://\S+", text) if part in u]
                    if found:
                        return [u.replace("http://testserver", "") for u in found]
        raise AssertionError(f"no mail has a link with {part}")


@pytest.fixture
def imei(settings):
    with loopback(ImeiService) as server:
        settings.IMEI_CHECK_URL = server.url_for("/").rstrip("/")
        settings.IMEI_CHECK_API_KEY = "imei-key"
        settings.IMEI_CHECK_SERVICE_ID = "12"
        settings.IMEI_CHECK_TIMEOUT = TIMEOUT
        yield server


@pytest.fixture
def shipengine(settings):
    with loopback(ShipEngine) as server:
        settings.SHIPENGINE_API_KEY = "TEST_shipengine_key"
        settings.SHIPENGINE_BASE_URL = server.url_for("/").rstrip("/")
        settings.SHIPENGINE_CARRIER_ID = "se-123"
        settings.SHIPENGINE_TIMEOUT = TIMEOUT
        yield server


@pytest.fixture
def stripe(stripe_server, settings):  # noqa: F811
    settings.STRIPE_TIMEOUT = TIMEOUT
    return stripe_server


@pytest.fixture
def mailbox(smtp, settings):  # noqa: F811
    """SMTP is configured; its server is down until the test calls `mailbox.up()`."""
    settings.EMAIL_TIMEOUT = TIMEOUT
    return Mailbox(smtp)


@pytest.fixture
def everything(imei, shipengine, stripe, mailbox):
    """Every outside system live on loopback and up."""
    mailbox.up()
    return imei, shipengine, stripe, mailbox


@contextmanager
def person_request(*servers: Loopback, mailbox: Mailbox, stripe):
    """A person's request, run as in production: once it commits, its on-commit hooks hand
    the side effects it scheduled to the task queue (django-q2's broker). Proves that no
    outside system was called while the person waited, however slow or down they are."""

    def calls() -> tuple:
        return [s.arrived for s in servers], mailbox.sessions, len(stripe.requests)

    before, last = calls(), SideEffect.objects.order_by("pk").values_list("pk", flat=True).last()
    # The test runs in a transaction that never commits, so run the on-commit hooks here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield
    assert calls() == before, "a person's request waited for an outside system"
    scheduled = SideEffect.objects.filter(pk__gt=last or 0).values_list("pk", flat=True)
    assert set(scheduled) <= queued_side_effects()


def queued_side_effects() -> set[int]:
    """The outbox rows waiting in the task queue: the ORM broker's table, or the Redis list
    when REDIS_URL moves the queue there (`.ci/run` runs these tests both ways)."""
    from django.conf import settings
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    if settings.Q_CLUSTER.get("redis"):
        broker = get_broker()
        tasks = [SignedPackage.loads(p) for p in broker.connection.lrange(broker.list_key, 0, -1)]
    else:
        tasks = [row.task for row in OrmQ.objects.all()]
    return {
        pk
        for task in tasks
        if str(task.get("func")).endswith("run_side_effects")
        for pk in task["args"][0]
    }


def run_sweep(drain) -> int:
    """The periodic sweep: run every due side effect until none is due."""
    return drain()


def failures(trade_in: TradeIn, kind: SideEffectKind) -> list[str]:
    return list(
        Event.objects.filter(trade_in=trade_in, kind=OUTCOME[kind], is_failure=True)
        .order_by("pk")
        .values_list("note", flat=True)
    )


def successes(trade_in: TradeIn, kind: SideEffectKind) -> int:
    return Event.objects.filter(trade_in=trade_in, kind=OUTCOME[kind], is_failure=False).count()


def effect(trade_in: TradeIn, kind: SideEffectKind, **payload) -> SideEffect:
    return SideEffect.objects.get(
        trade_in=trade_in, kind=kind, **{f"payload__{k}": v for k, v in payload.items()}
    )


def assert_waiting(side_effect: SideEffect, attempts: int) -> None:
    side_effect = refresh(side_effect)
    assert (side_effect.status, side_effect.attempts) == (SideEffectStatus.PENDING, attempts)
    assert side_effect.next_attempt_at > timezone.now()  # backoff: not due again yet
    assert side_effect.last_error


# --- the lifecycle's steps, through the same HTTP views people use -------------------------------
def submit(client, product, **overrides) -> TradeIn:
    response = buyer_post(client, product, **overrides)
    assert response.status_code == 302, response.content.decode()[:2000]
    return TradeIn.objects.latest("pk")


def send_quote(desk, trade_in: TradeIn, amount: str = "420.00"):
    return workflow(desk, trade_in, "quote", amount=amount, valid_days="7", note="")


def receive_at_bench(desk, trade_in: TradeIn) -> None:
    response = desk.post(
        reverse("admin:intake_bench"),
        intake_data(trade_in),
        follow=True,
    )
    assert "received, grade B" in response.content.decode()


def pay(office, payout: Payout) -> str:
    url = reverse("admin:workflows_payout_settle", args=[payout.pk])
    return office.post(url, follow=True).content.decode()


def to_received(client, product, staff, drain, mailbox, **overrides) -> TradeIn:
    """Submit, quote, accept and receive with every service up."""
    trade_in = submit(client, product, **overrides)
    drain()
    desk = staff_client(staff)
    send_quote(desk, trade_in)
    drain()
    offer = mailbox.links("/trade-in/offer/")[0]
    assert client.post(offer + "accept/", declaration_post()).status_code == 302
    drain()
    receive_at_bench(desk, trade_in)
    return refresh(trade_in)


# --- 1. the buyer submits while the IMEI service and SMTP are down --------------------------------
def test_it_keeps_a_submission_made_while_the_imei_service_and_smtp_are_down_and_finishes_it_once(
    client, product, staff, drain, imei, shipengine, stripe, mailbox
):
    imei.down()  # and SMTP: nothing listens on its port until mailbox.up()

    with person_request(imei, shipengine, mailbox=mailbox, stripe=stripe):
        trade_in = submit(client, product)

    trade_in = refresh(trade_in)
    assert trade_in.state == State.SUBMITTED and trade_in.reference
    assert Event.objects.filter(
        trade_in=trade_in, kind=EventKind.SUBMITTED, to_state="submitted"
    ).exists()

    run_sweep(drain)
    check, received = (
        effect(trade_in, SideEffectKind.CHECK_IMEI),
        effect(trade_in, SideEffectKind.SEND_EMAIL, template="received"),
    )
    assert_waiting(check, attempts=1)
    assert_waiting(received, attempts=1)
    [imei_failure] = failures(trade_in, SideEffectKind.CHECK_IMEI)
    assert "IMEI service could not be reached" in imei_failure
    assert "retrying in 30 s" in imei_failure
    [mail_failure] = failures(trade_in, SideEffectKind.SEND_EMAIL)
    assert "email (received) failed (attempt 1)" in mail_failure
    assert "ConnectionRefusedError" in mail_failure
    # Staff see both failures on the trade-in's timeline.
    desk = staff_client(staff)
    page = desk.get(reverse("admin:workflows_tradein_change", args=[trade_in.pk])).content.decode()
    assert "IMEI service could not be reached" in page and "email (received) failed" in page
    trade_in = refresh(trade_in)
    assert trade_in.imei_status == ImeiCheckStatus.PENDING
    assert trade_in.latest_imei_check().status == ImeiCheckStatus.PENDING
    # Staff cannot quote an unchecked device, and the refusal changes nothing.
    refused = send_quote(desk, trade_in)
    assert "Wait for the IMEI check" in refused.content.decode()
    assert refresh(trade_in).state == State.SUBMITTED
    assert run_sweep(drain) == 0  # the backoff is honoured: nothing is due yet

    imei.up()
    mailbox.up()
    make_due()
    run_sweep(drain)
    make_due()
    assert run_sweep(drain) == 0  # nothing left to do

    assert imei.checks[trade_in.imei] == 1 and sum(imei.checks.values()) == 1
    assert mailbox.subjects() == [f"We received your trade-in request ({trade_in.reference})"]
    assert (refresh(check).status, refresh(check).attempts) == (SideEffectStatus.DONE, 2)
    assert (refresh(received).status, refresh(received).attempts) == (SideEffectStatus.DONE, 2)
    trade_in = refresh(trade_in)
    assert trade_in.imei_status == ImeiCheckStatus.CLEAN
    assert trade_in.latest_imei_check().provider == "imei-service"
    assert (
        successes(trade_in, SideEffectKind.CHECK_IMEI) == 1
        and successes(trade_in, SideEffectKind.SEND_EMAIL) == 1
    )
    assert (
        len(failures(trade_in, SideEffectKind.CHECK_IMEI))
        == len(failures(trade_in, SideEffectKind.SEND_EMAIL))
        == 1
    )

    # The lifecycle goes on: a quote is now allowed and reaches the buyer once.
    assert "Quote sent" in send_quote(staff_client(staff), trade_in).content.decode()
    run_sweep(drain)
    assert mailbox.count("Your trade-in offer", trade_in) == 1
    assert imei.checks[trade_in.imei] == 1
    assert_books_balance()


# --- 2. staff quote and the buyer accepts while ShipEngine is slow, then down --------------------
def test_it_keeps_an_acceptance_made_while_shipengine_is_slow_or_down_and_buys_one_label_after(
    client, product, staff, drain, everything
):
    imei, shipengine, stripe, mailbox = everything
    trade_in = submit(client, product)
    run_sweep(drain)
    desk = staff_client(staff)
    shipengine.slow = SLOW

    with person_request(imei, shipengine, mailbox=mailbox, stripe=stripe):
        assert "Quote sent" in send_quote(desk, trade_in).content.decode()
    run_sweep(drain)
    link = mailbox.links("/trade-in/offer/")[0]
    with person_request(imei, shipengine, mailbox=mailbox, stripe=stripe):
        assert client.post(link + "accept/", declaration_post()).status_code == 302

    # The acceptance is committed in full: stock +1, the unit, what we owe.
    trade_in = refresh(trade_in)
    assert trade_in.state == State.ACCEPTED
    product.refresh_from_db()
    assert product.stock == 1
    unit = Unit.objects.get(trade_in=trade_in)
    assert (unit.status, unit.imei) == (UnitStatus.RECEIVED, trade_in.imei)
    payout = Payout.objects.get(trade_in=trade_in)
    assert (payout.status, payout.amount) == (PayoutStatus.PENDING, Decimal("420.00"))

    # ShipEngine is too slow: it buys the label, and we stop waiting for the answer.
    run_sweep(drain)
    label = effect(trade_in, SideEffectKind.CREATE_LABEL)
    assert_waiting(label, attempts=1)
    [too_slow] = failures(trade_in, SideEffectKind.CREATE_LABEL)
    assert f"ShipEngine did not answer within {TIMEOUT:g} s" in too_slow
    key = f"label-{trade_in.pk}"
    assert shipengine.bought[key] == 1 and not ShippingLabel.objects.exists()
    assert mailbox.count("Offer accepted: your shipping label", trade_in) == 0

    # Then it is down.
    shipengine.down()
    shipengine.slow = 0
    make_due()
    run_sweep(drain)
    assert_waiting(label, attempts=2)
    assert "ShipEngine could not be reached" in failures(trade_in, SideEffectKind.CREATE_LABEL)[1]
    assert not ShippingLabel.objects.exists()

    # Recovered: the retry finds the label that was bought instead of buying a second one.
    shipengine.up()
    make_due()
    run_sweep(drain)
    make_due()
    assert run_sweep(drain) == 0

    assert shipengine.bought == Counter({key: 1})
    stored = ShippingLabel.objects.get(trade_in=trade_in)
    assert stored.label_id == shipengine.labels[key]["label_id"] and bytes(stored.pdf) == PDF
    assert refresh(label).status == SideEffectStatus.DONE
    assert successes(trade_in, SideEffectKind.CREATE_LABEL) == 1
    assert len(failures(trade_in, SideEffectKind.CREATE_LABEL)) == 2
    assert mailbox.count("Offer accepted: your shipping label", trade_in) == 1
    assert mailbox.count("Your trade-in offer", trade_in) == 1
    pdf = client.get(mailbox.links("/trade-in/label/")[0])
    assert pdf["Content-Type"] == "application/pdf" and pdf.content == PDF
    product.refresh_from_db()
    assert product.stock == 1 and Unit.objects.count() == Payout.objects.count() == 1
    assert_books_balance()


# --- 3. a manager pays by Stripe while Stripe is down, then slow ----------------------------------
def test_it_keeps_a_stripe_payout_asked_for_while_stripe_is_down_and_pays_exactly_once(
    client, product, staff, manager, drain, everything
):
    imei, shipengine, stripe, mailbox = everything
    trade_in = to_received(client, product, staff, drain, mailbox, payout_method="stripe")
    payout = trade_in.payout
    office = staff_client(manager)
    stripe.down()

    with person_request(imei, shipengine, mailbox=mailbox, stripe=stripe):
        assert "Stripe payout requested" in pay(office, payout)
    payout = refresh(payout)
    assert payout.status == PayoutStatus.PENDING and payout.transfer_requested_at
    assert Event.objects.filter(
        trade_in=trade_in, kind=EventKind.PAYOUT_REQUESTED, actor=manager
    ).exists()

    run_sweep(drain)
    onboarding = effect(trade_in, SideEffectKind.SEND_STRIPE_SETUP)
    assert_waiting(onboarding, attempts=1)
    assert "Stripe did not answer" in failures(trade_in, SideEffectKind.SEND_STRIPE_SETUP)[0]
    assert not StripeAccount.objects.exists()
    assert refresh(payout).status == PayoutStatus.PENDING

    stripe.up()
    make_due()
    run_sweep(drain)
    [account] = StripeAccount.objects.all()
    assert list(stripe.accounts) == [account.account_id]
    assert mailbox.count("Set up your payout", trade_in) == 1

    # The buyer finishes Stripe's onboarding and comes back; then Stripe goes down again.
    setup = mailbox.links("/payout-setup/")[0]
    assert client.get(setup)["Location"] == f"{stripe.url}/setup/{account.account_id}"
    stripe.finish_onboarding(account.account_id)
    assert client.get(setup.rstrip("/") + "/done/").status_code == 302
    # Stripe is asked after the page answered (a task), not while the buyer waited.
    assert run_side_effect(effect(trade_in, SideEffectKind.CHECK_STRIPE_ACCOUNT).pk)
    assert refresh(account).payouts_enabled
    stripe.down()
    run_sweep(drain)
    transfer = effect(trade_in, SideEffectKind.MAKE_STRIPE_TRANSFER)
    assert_waiting(transfer, attempts=1)
    payout = refresh(payout)
    assert payout.status == PayoutStatus.PENDING
    assert "Stripe did not answer" in payout.failure_reason
    assert "same idempotency key" in payout.failure_reason
    assert (
        "make_stripe_transfer failed (attempt 1)"
        in failures(trade_in, SideEffectKind.MAKE_STRIPE_TRANSFER)[0]
    )
    # The manager sees why on the payout.
    shown = office.get(reverse("admin:workflows_payout_change", args=[payout.pk])).content.decode()
    assert "Stripe did not answer" in shown

    # Back but slow: Stripe makes the transfer, and its answer comes too late.
    stripe.up()
    stripe.trouble = [("slow", SLOW)]
    make_due()
    run_sweep(drain)
    key = payout.idempotency_key
    assert stripe.transfers_for(key) == 1 and stripe.trouble == []
    assert_waiting(transfer, attempts=2)
    assert refresh(payout).status == PayoutStatus.PENDING
    assert "did not answer" in failures(trade_in, SideEffectKind.MAKE_STRIPE_TRANSFER)[1]

    # Recovered: the retry uses the same key and Stripe replays its first answer.
    make_due()
    run_sweep(drain)
    make_due()
    assert run_sweep(drain) == 0

    payout = refresh(payout)
    assert payout.status == PayoutStatus.SETTLED and refresh(trade_in).state == State.CLOSED
    assert [k for m, p, k in stripe.requests if p == "/v1/transfers"] == [key, key]
    assert stripe.transfers_for(key) == 1 and len(stripe.transfers) == 1
    assert payout.settlement_reference == next(iter(stripe.transfers))
    assert len(stripe.accounts) == 1
    assert mailbox.count("Your payment is on its way", trade_in) == 1
    assert successes(trade_in, SideEffectKind.MAKE_STRIPE_TRANSFER) == 1
    assert not SideEffect.objects.exclude(status=SideEffectStatus.DONE).exists()
    assert_books_balance()


# --- 4. everything slow at once -------------------------------------------------------------------
def test_it_runs_the_whole_lifecycle_while_everything_is_slow_and_does_nothing_twice(
    client, product, staff, manager, drain, everything
):
    imei, shipengine, stripe, mailbox = everything
    servers = (imei, shipengine)

    def slow(on: bool = True) -> None:
        imei.slow = shipengine.slow = mailbox.slow = SLOW if on else 0
        stripe.trouble = [("slow", SLOW)] if on else []

    @contextmanager
    def person():
        with person_request(*servers, mailbox=mailbox, stripe=stripe):
            yield
            # Staff pages call nobody either, however slow the services are.
            assert staff_client(staff).get("/dashboard/").status_code == 200
            page = staff_client(staff).get(
                reverse("admin:workflows_tradein_change", args=[TradeIn.objects.latest("pk").pk])
            )
            assert page.status_code == 200

    def fails_then_recovers(kind: SideEffectKind, **payload) -> None:
        """Slow: the sweep gives up on the answer and the failure shows; back to normal: done."""
        run_sweep(drain)
        side_effect = effect(trade_in, kind, **payload)
        assert_waiting(side_effect, attempts=1)
        assert len(failures(trade_in, kind)) >= 1
        slow(False)
        make_due()
        run_sweep(drain)
        assert refresh(side_effect).status == SideEffectStatus.DONE

    # The buyer submits: the IMEI check and the mail wait for slow services, the buyer doesn't.
    slow()
    with person():
        trade_in = submit(client, product, payout_method="stripe")
    run_sweep(drain)
    [too_slow] = failures(trade_in, SideEffectKind.CHECK_IMEI)
    assert f"IMEI service did not answer within {TIMEOUT:g} s" in too_slow
    assert "timed out" in failures(trade_in, SideEffectKind.SEND_EMAIL)[0]
    assert_waiting(effect(trade_in, SideEffectKind.SEND_EMAIL, template="received"), attempts=1)
    fails_then_recovers(SideEffectKind.CHECK_IMEI)
    assert refresh(trade_in).imei_status == ImeiCheckStatus.CLEAN
    # The slow check was run (and its answer lost); the retry after recovery is the only other.
    assert imei.checks[trade_in.imei] == 2
    assert mailbox.count("We received your trade-in request", trade_in) == 1

    # Staff quote.
    slow()
    desk = staff_client(staff)
    with person():
        assert "Quote sent" in send_quote(desk, trade_in).content.decode()
    fails_then_recovers(SideEffectKind.SEND_EMAIL, template="quote")
    assert mailbox.count("Your trade-in offer", trade_in) == 1

    # The buyer accepts.
    slow()
    with person():
        offer = mailbox.links("/trade-in/offer/")[0]
        assert client.post(offer + "accept/", declaration_post()).status_code == 302
    assert refresh(trade_in).state == State.ACCEPTED
    fails_then_recovers(SideEffectKind.CREATE_LABEL)
    assert shipengine.bought == Counter({f"label-{trade_in.pk}": 1})
    assert ShippingLabel.objects.filter(trade_in=trade_in).count() == 1
    assert mailbox.count("Offer accepted: your shipping label", trade_in) == 1

    # The box arrives; the bench calls nobody.
    slow()
    with person():
        receive_at_bench(desk, trade_in)
    assert run_sweep(drain) == 0

    # A manager pays by Stripe; the buyer onboards; Stripe's webhook says the account is ready.
    office = staff_client(manager)
    with person():
        assert "Stripe payout requested" in pay(office, refresh(trade_in).payout)
    fails_then_recovers(SideEffectKind.SEND_STRIPE_SETUP)
    [account] = StripeAccount.objects.all()
    assert len(stripe.accounts) == 1
    slow()
    setup = mailbox.links("/payout-setup/")[0]
    # This page must ask Stripe for a fresh link; a slow Stripe gets a page, not a hang or a 500.
    waiting = client.get(setup)
    assert waiting.status_code == 503 and "try" in waiting.content.decode()
    stripe.finish_onboarding(account.account_id)
    slow()
    with person():
        ready = webhook(
            stripe_event(
                "account.updated",
                stripe.accounts[account.account_id],
                account=account.account_id,
            )
        )
    assert ready.status_code == 200 and refresh(account).payouts_enabled
    fails_then_recovers(SideEffectKind.MAKE_STRIPE_TRANSFER)
    make_due()
    assert run_sweep(drain) == 0

    payout = refresh(trade_in).payout
    assert payout.status == PayoutStatus.SETTLED and refresh(trade_in).state == State.CLOSED
    assert stripe.transfers_for(payout.idempotency_key) == 1 and len(stripe.transfers) == 1
    assert mailbox.count("Your payment is on its way", trade_in) == 1
    # Each email went out once; every side effect is done; the books balance.
    assert len(mailbox.subjects()) == len(set(mailbox.subjects())) == 6  # with the purchase receipt
    assert not SideEffect.objects.exclude(status=SideEffectStatus.DONE).exists()
    for side_effect in SideEffect.objects.all():
        assert successes(trade_in, side_effect.kind) >= 1
    product.refresh_from_db()
    assert product.stock == 1 and Unit.objects.count() == 1
    assert_books_balance()
