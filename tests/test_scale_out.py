"""Scaled out: two django-q2 worker processes on the Redis broker, one PostgreSQL database.

Buyers and staff act in this process; every side effect (emails over SMTP, ShipEngine labels,
Stripe accounts and transfers) is done by two separate `manage.py qcluster` processes that take
tasks from Redis, each task delivered twice on purpose (a redelivery after a lost ack) and the
periodic sweep racing them. The loopback servers count what reached the outside world: each
email, label and transfer exactly once, and both processes did work.

Runs when REDIS_URL is set and the database is PostgreSQL (`.ci/run` does both).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_q.brokers import get_broker
from werkzeug import Request, Response

from tests.helpers import declared, refresh, submission
from tests.integrations.conftest import (  # noqa: F401
    CONNECT_WEBHOOK_SECRET,
    WEBHOOK_SECRET,
    Inbox,
    shipengine,
    smtp,
    stripe_server,
)
from tests.integrations.fake_stripe import KEY
from tests.integrations.test_shipengine import PDF, label_body
from workflows import actions
from workflows.links import payout_setup_token
from workflows.models import (
    PayoutStatus,
    ShippingLabel,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    StripeAccount,
    TradeIn,
)
from workflows.rules.inspection import checklist_as_disclosed

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"),
        reason="scale-out needs PostgreSQL and REDIS_URL (the Redis broker)",
    ),
]
ROOT = Path(__file__).resolve().parent.parent
BUYERS = 6


def worker_env(shipengine_url: str, stripe_url: str, smtp_port: int) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": os.environ["REDIS_URL"],
        "Q_WORKERS": "1",  # two processes with one worker each
        "Q_LOG_LEVEL": "INFO",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "False",
        "SHIPENGINE_API_KEY": "TEST_shipengine_key",
        "SHIPENGINE_BASE_URL": shipengine_url,
        "SHIPENGINE_CARRIER_ID": "se-123",
        "STRIPE_SECRET_KEY": KEY,
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_CONNECT_WEBHOOK_SECRET": CONNECT_WEBHOOK_SECRET,
        "IMEI_CHECK_URL": "",
        "IMEI_CHECK_API_KEY": "",
    }


def redeliver_pending() -> None:
    """Every pending row's task once more: two workers may now hold the same row's task."""
    from django_q.tasks import async_task

    for pk in SideEffect.objects.filter(status=SideEffectStatus.PENDING).values_list(
        "pk", flat=True
    ):
        async_task("workflows.tasks.run_side_effects", [pk])
    async_task("workflows.tasks.run_due_side_effects")  # the sweep, racing the workers


def settle(workers: list[subprocess.Popen], timeout: float = 90) -> None:
    redeliver_pending()
    deadline = time.monotonic() + timeout
    while SideEffect.objects.filter(status=SideEffectStatus.PENDING).exists():
        for worker in workers:
            assert worker.poll() is None, "a worker process died"
        assert time.monotonic() < deadline, list(
            SideEffect.objects.filter(status=SideEffectStatus.PENDING).values(
                "key", "attempts", "last_error"
            )
        )
        time.sleep(0.2)


def test_two_worker_processes_on_redis_do_every_side_effect_exactly_once(
    product,
    staff,
    manager,
    shipengine,  # noqa: F811 (the fixture imported above)
    stripe_server,  # noqa: F811
    smtp,  # noqa: F811
    settings,
    tmp_path,
):
    inbox = smtp.start(Inbox())
    bought: Counter[str] = Counter()  # labels bought per external_shipment_id

    def buy(request: Request) -> Response:
        key = request.get_json()["shipment"]["external_shipment_id"]
        bought[key] += 1
        body = {
            **label_body(shipengine, label_id=f"se-{key}"),
            "label_download": {"pdf": shipengine.url_for("/v1/downloads/1/label.pdf")},
        }
        return Response(json.dumps(body), content_type="application/json")

    shipengine.expect_request("/v1/labels", method="POST").respond_with_handler(buy)
    shipengine.expect_request("/v1/downloads/1/label.pdf").respond_with_data(
        PDF, content_type="application/pdf"
    )
    get_broker().purge_queue()  # nothing left from another run
    env = worker_env(shipengine.url_for("/").rstrip("/"), stripe_server.url, settings.EMAIL_PORT)
    logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        # Buyers submit; staff quote; buyers accept (labels); staff receive; a manager pays.
        trade_ins = [
            actions.trade_in_submit(
                submission=submission(
                    product, buyer_email=f"buyer{n}@example.com", payout_method="stripe"
                ),
                submission_key=f"scale-{n}",
            )
            for n in range(BUYERS)
        ]
        settle(workers)
        quotes = [
            actions.trade_in_quote(trade_in=refresh(t), actor=staff, amount="300.00")
            for t in trade_ins
        ]
        settle(workers)
        for quote in quotes:
            actions.trade_in_accept(quote=quote, declaration=declared())
        settle(workers)
        for trade_in in trade_ins:
            actions.trade_in_intake(
                trade_in=refresh(trade_in),
                scanned_imei=trade_in.imei,
                actor=staff,
                checklist=checklist_as_disclosed(trade_in),
                outcome="grade",
                grade="B",
            )
            actions.payout_send_stripe(payout=refresh(trade_in).payout, actor=manager)
        settle(workers)
        for trade_in in trade_ins:
            # The buyer opens the setup link from their email: that alone binds the payee.
            token = payout_setup_token(refresh(trade_in).payout)
            Client().get(reverse("buyer_portal:payout_setup", args=[token]))
        settle(workers)
        for account in StripeAccount.objects.all():
            stripe_server.finish_onboarding(account.account_id)
            actions.stripe_account_update(
                account_id=account.account_id, payouts_enabled=True, details_submitted=True
            )
        settle(workers)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()

    # Everything was done, nothing failed, and each outside effect happened exactly once.
    effects = SideEffect.objects.all()
    assert effects.count() > BUYERS * 6
    assert not effects.exclude(status=SideEffectStatus.DONE).exists()
    subjects = Counter(inbox.subjects())
    assert subjects and max(subjects.values()) == 1, subjects
    emails = effects.filter(kind=SideEffectKind.SEND_EMAIL).count()
    assert len(inbox.messages) == emails
    assert sorted(bought.values()) == [1] * BUYERS
    assert ShippingLabel.objects.count() == BUYERS
    assert len(stripe_server.accounts) == BUYERS
    transfers = Counter(t["metadata"]["payout_id"] for t in stripe_server.transfers.values())
    assert sorted(transfers.values()) == [1] * BUYERS
    assert all(
        t.payout.status == PayoutStatus.SETTLED and t.state == State.CLOSED
        for t in TradeIn.objects.select_related("payout")
    )
    # Both processes took work from the queue.
    processed = [len(re.findall(r"[Pp]rocessed", log.read_text(errors="replace"))) for log in logs]
    assert all(n > 0 for n in processed), processed
    assert django_settings.Q_CLUSTER.get("redis")
