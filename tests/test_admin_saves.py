"""Admins whose Save calls one workflows action (backoffice.admin.base.SavesThroughAnAction):
the action runs after Django's own transaction (actions are durable), through public hooks.
Saved: the admin's log entry and redirect as usual. Refused: the form again as typed, with the
reason, and nothing saved or logged."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.urls import reverse

from backoffice.admin.base import SavesThroughAnAction
from tests.factories import valid_imei
from tests.helpers import staff_client
from tests.test_throughput import POLICY_URL, policy_form
from workflows import actions
from workflows.errors import TransitionRefused
from workflows.models import BlockedImei, BlockedImeiChange, QuotePolicy, State


def test_it_overrides_no_private_django_method():
    private = [name for name in vars(SavesThroughAnAction) if name.startswith("_")]
    assert private == [n for n in private if n.startswith("__")]


def test_a_refused_save_shows_the_form_again_as_typed_and_saves_nothing(manager):
    response = staff_client(manager).post(POLICY_URL, policy_form(confirm_ratio="3.00"))
    page = response.content.decode()
    assert response.status_code == 200  # the form again, not a redirect
    assert "at most the manager ratio" in page
    assert 'value="3.00"' in page  # as typed
    assert not QuotePolicy.objects.exists()
    assert not LogEntry.objects.exists()


def test_a_saved_change_is_logged_once_and_redirects(manager):
    response = staff_client(manager).post(POLICY_URL, policy_form())
    assert response.status_code == 302
    assert QuotePolicy.current().auto_quote
    assert list(LogEntry.objects.values_list("action_flag", flat=True)) == [CHANGE]


def test_an_added_entry_is_logged_with_the_row_the_action_made(staff):
    imei = valid_imei()
    response = staff_client(staff).post(
        reverse("admin:workflows_blockedimei_add"),
        {"imei": imei, "reason": "lost_stolen", "note": ""},
        follow=True,
    )
    entry = BlockedImei.objects.get(imei=imei)
    assert response.status_code == 200
    log = LogEntry.objects.get()
    assert (log.action_flag, log.object_id) == (ADDITION, str(entry.pk))


def test_a_refused_add_shows_the_form_again_with_the_reason(staff, monkeypatch):
    imei = valid_imei()

    def refuse(**kwargs):
        raise TransitionRefused("Added by somebody else a moment ago.")

    # The race a form cannot see (another desk adding the same IMEI between validation and
    # the action): stood in for by an action that refuses.
    monkeypatch.setattr(actions, "blocked_imei_add", refuse)
    response = staff_client(staff).post(
        reverse("admin:workflows_blockedimei_add"),
        {"imei": imei, "reason": "lost_stolen", "note": "typed"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Added by somebody else a moment ago." in page and "typed" in page
    assert not BlockedImei.objects.exists() and not LogEntry.objects.exists()


def test_a_delete_goes_through_the_action_and_is_logged(make_trade_in, manager):
    trade_in = make_trade_in(State.SUBMITTED, flagged=True)
    entry = BlockedImei.objects.get(imei=trade_in.imei)
    response = staff_client(manager).post(
        reverse("admin:workflows_blockedimei_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not BlockedImei.objects.filter(pk=entry.pk).exists()
    assert BlockedImeiChange.objects.get(kind="removed").actor == manager
    assert LogEntry.objects.get().action_flag == DELETION
