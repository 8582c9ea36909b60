"""Side effects run after commit, are retried with backoff, show on the timeline, and never
undo or repeat what a person did."""

from __future__ import annotations

import socket
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from tests.helpers import declared, submission
from workflows import actions
from workflows.actions._common import schedule
from workflows.models import (
    Event,
    EventKind,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    State,
    TradeIn,
)
from workflows.tasks import run_due_side_effects, run_side_effect


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket closes


def make_due() -> None:
    SideEffect.objects.filter(status=SideEffectStatus.PENDING).update(
        next_attempt_at=timezone.now()
    )


def test_an_smtp_outage_loses_nothing_and_mails_once_it_is_back(product, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    trade_in = actions.trade_in_submit(submission=submission(product), submission_key="k1")
    run_due_side_effects()

    trade_in.refresh_from_db()
    assert trade_in.state == State.SUBMITTED  # the buyer's submission stands
    assert trade_in.imei_status == "clean"  # the IMEI check did not depend on mail
    effect = SideEffect.objects.get(kind=SideEffectKind.SEND_EMAIL)
    assert effect.status == SideEffectStatus.PENDING and effect.attempts == 1
    assert effect.next_attempt_at > timezone.now()
    failure = Event.objects.get(trade_in=trade_in, kind=EventKind.EMAIL_SENT, is_failure=True)
    assert "failed (attempt 1)" in failure.note and "retrying in 30 s" in failure.note
    assert run_due_side_effects() == 0  # not due yet: backoff

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_due()
    run_due_side_effects()
    make_due()
    run_due_side_effects()
    assert len(mail.outbox) == 1
    effect.refresh_from_db()
    assert effect.status == SideEffectStatus.DONE and effect.attempts == 2
    assert (
        Event.objects.filter(trade_in=trade_in, kind=EventKind.EMAIL_SENT, is_failure=False).count()
        == 1
    )


def test_it_gives_up_after_the_last_attempt_and_says_so(product, settings):
    settings.SIDE_EFFECT_MAX_ATTEMPTS = 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    trade_in = actions.trade_in_submit(submission=submission(product), submission_key="k2")
    run_due_side_effects()
    make_due()
    run_due_side_effects()
    effect = SideEffect.objects.get(kind=SideEffectKind.SEND_EMAIL)
    assert effect.status == SideEffectStatus.FAILED
    assert Event.objects.filter(
        trade_in=trade_in, kind=EventKind.EMAIL_SENT, is_failure=True, note__contains="gave up"
    ).exists()


def test_the_same_work_is_scheduled_and_done_once(product):
    trade_in = actions.trade_in_submit(submission=submission(product), submission_key="k3")
    first = schedule(
        SideEffectKind.SEND_EMAIL, key="email:once", trade_in=trade_in, template="received"
    )
    again = schedule(
        SideEffectKind.SEND_EMAIL, key="email:once", trade_in=trade_in, template="received"
    )
    assert first.pk == again.pk
    run_side_effect(first.pk)
    assert run_side_effect(first.pk) == "not due"
    assert sum("email:once" == e.key for e in SideEffect.objects.all()) == 1
    assert len([m for m in mail.outbox if "received" in m.subject]) == 1


@pytest.mark.django_db(transaction=True)
def test_after_commit_the_worker_runs_the_side_effects(product, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # the django-q2 task runs in-process
    trade_in = actions.trade_in_submit(submission=submission(product), submission_key="k4")
    trade_in.refresh_from_db()
    assert trade_in.imei_status == "clean"
    assert [m.subject for m in mail.outbox] == [
        f"We received your trade-in request ({trade_in.reference})"
    ]
    assert not SideEffect.objects.filter(status=SideEffectStatus.PENDING).exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_action_schedules_nothing(product, monkeypatch):
    from django_q.conf import Conf

    from workflows.actions import submission as submission_action

    monkeypatch.setattr(Conf, "SYNC", True)
    scheduled, real_run_after_commit = [], submission_action.run_after_commit

    def schedule_then_fail(*args, **kwargs):
        # The IMEI check is scheduled (its after-commit hook registered), then the action fails.
        if scheduled:
            raise RuntimeError("the action failed after scheduling")
        scheduled.append(real_run_after_commit(*args, **kwargs))

    # The submission writes its outbox rows in bulk, then hands each to run_after_commit.
    monkeypatch.setattr(submission_action, "run_after_commit", schedule_then_fail)
    with pytest.raises(RuntimeError):
        actions.trade_in_submit(submission=submission(product), submission_key=uuid.uuid4().hex)
    assert scheduled
    assert not TradeIn.objects.exists() and not SideEffect.objects.exists()
    assert mail.outbox == []


def test_an_older_imei_check_answering_late_does_not_hide_a_newer_red_flag(product, staff):
    from tests.helpers import refresh
    from workflows.models import BlockedImei, ImeiCheckStatus

    trade_in = actions.trade_in_submit(submission=submission(product), submission_key="late-1")
    first = trade_in.latest_imei_check()
    # The first check is slow; meanwhile the IMEI is reported stolen and staff re-run it.
    blocked = BlockedImei.objects.create(imei=trade_in.imei, reason=BlockedImei.Reason.LOST_STOLEN)
    second = actions.imei_check_rerun(trade_in=trade_in, actor=staff)
    run_side_effect(SideEffect.objects.get(payload__check_id=second.pk).pk)
    assert refresh(trade_in).imei_status == ImeiCheckStatus.FLAGGED
    # The first check answers last, with what it saw before the report: clean.
    blocked.delete()
    run_side_effect(SideEffect.objects.get(payload__check_id=first.pk).pk)
    assert refresh(first).status == ImeiCheckStatus.CLEAN
    # The queue still shows what the latest check says.
    assert refresh(trade_in).imei_status == ImeiCheckStatus.FLAGGED
    assert refresh(trade_in).latest_imei_check().pk == second.pk


def test_no_label_is_bought_for_a_trade_in_cancelled_before_the_label_task_ran(
    make_trade_in, staff, drain
):
    from workflows.models import ShippingLabel

    trade_in = make_trade_in(State.QUOTED)
    actions.trade_in_accept(quote=trade_in.latest_quote(), declaration=declared())
    # The device will not come after all: cancelled before the label task got its turn.
    actions.trade_in_cancel(trade_in=trade_in, actor=staff, reason="Buyer changed their mind")
    drain()
    assert not ShippingLabel.objects.filter(trade_in=trade_in).exists()
    assert Event.objects.filter(
        trade_in=trade_in, note="No label needed: trade-in is cancelled"
    ).exists()


def test_emails_are_a_typed_vocabulary_stored_as_their_names(product):
    """Issue 19: the outbox named its emails with free strings. Every Email has its handler;
    the payload still stores the plain name; a name that is no Email fails loudly, unsent."""
    from workflows.models import Email
    from workflows.tasks.handlers import EMAILS

    assert set(EMAILS) == set(Email)
    trade_in = actions.trade_in_submit(submission=submission(product), submission_key="k9")
    received = SideEffect.objects.get(trade_in=trade_in, key__startswith="email:received")
    assert received.payload["template"] == "received" == Email.RECEIVED
    typo = schedule(
        SideEffectKind.SEND_EMAIL, key="email:typo", trade_in=trade_in, template="recieved"
    )
    sent = len(mail.outbox)
    run_side_effect(typo.pk)
    typo.refresh_from_db()
    assert typo.status != SideEffectStatus.DONE and "recieved" in typo.last_error
    assert len(mail.outbox) == sent
