"""The IMEI blocklist under two keys: staff add entries, only managers change or remove them,
every write is audited, and taking an entry off never clears a red flag by itself."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import refresh
from tests.factories import valid_imei
from tests.test_lifecycle_http import staff_client, workflow
from workflows import actions
from workflows.errors import TransitionRefused
from workflows.models import BlockedImei, BlockedImeiChange, Event, ImeiCheckStatus, State


def test_staff_add_but_cannot_change_or_remove_an_entry(staff, db):
    desk = staff_client(staff)
    imei = valid_imei()
    desk.post(
        reverse("admin:workflows_blockedimei_add"),
        {"imei": f"{imei[:6]} {imei[6:]}", "reason": "lost_stolen", "note": "Police report 12"},
    )
    entry = BlockedImei.objects.get(imei=imei)
    added = BlockedImeiChange.objects.get(imei=imei)
    assert (added.kind, added.actor, added.after["reason"]) == ("added", staff, "lost_stolen")

    change = desk.post(
        reverse("admin:workflows_blockedimei_change", args=[entry.pk]),
        {"reason": "finance_locked", "note": ""},
    )
    delete = desk.post(
        reverse("admin:workflows_blockedimei_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert (change.status_code, delete.status_code) == (403, 403)
    assert refresh(entry).reason == "lost_stolen"
    assert BlockedImeiChange.objects.count() == 1
    # The actions refuse a direct call as well.
    with pytest.raises(TransitionRefused):
        actions.blocked_imei_change(entry=entry, actor=staff, reason="finance_locked")
    with pytest.raises(TransitionRefused):
        actions.blocked_imei_remove(entry=entry, actor=staff)
    assert BlockedImei.objects.filter(pk=entry.pk).exists()


def test_a_managers_change_and_removal_are_audited_on_the_timeline(make_trade_in, manager):
    trade_in = make_trade_in(State.SUBMITTED, flagged=True)
    entry = BlockedImei.objects.get(imei=trade_in.imei)
    office = staff_client(manager)
    office.post(
        reverse("admin:workflows_blockedimei_change", args=[entry.pk]),
        {"reason": "finance_locked", "note": "Lender called"},
    )
    assert refresh(entry).reason == "finance_locked"
    office.post(reverse("admin:workflows_blockedimei_delete", args=[entry.pk]), {"post": "yes"})
    assert not BlockedImei.objects.filter(imei=trade_in.imei).exists()
    trail = list(BlockedImeiChange.objects.filter(imei=trade_in.imei).order_by("pk"))
    assert [(c.kind, c.actor) for c in trail] == [("changed", manager), ("removed", manager)]
    assert trail[0].before["reason"] == "blacklisted" and trail[0].after["reason"] == (
        "finance_locked"
    )
    kinds = set(Event.objects.filter(trade_in=trade_in).values_list("kind", flat=True))
    assert {"blocklist_changed", "blocklist_removed"} <= kinds


def test_removing_an_entry_and_re_running_the_check_does_not_clear_the_red_flag(
    make_trade_in, staff, manager, drain
):
    """Finding 4: take the entry off, re-run the check (clean), quote, put it back. The
    earlier red flag stands until a manager overrides it with a reason."""
    trade_in = make_trade_in(State.SUBMITTED, flagged=True)
    entry = BlockedImei.objects.get(imei=trade_in.imei)
    actions.blocked_imei_remove(entry=entry, actor=manager, reason="Added by mistake?")
    desk = staff_client(staff)
    workflow(desk, trade_in, "rerun_check")
    drain()
    trade_in = refresh(trade_in)
    assert trade_in.latest_imei_check().status == ImeiCheckStatus.CLEAN
    assert trade_in.imei_status == ImeiCheckStatus.FLAGGED  # the queue still says so

    response = workflow(desk, trade_in, "quote", amount="150", valid_days="7")
    assert "blacklisted on an earlier check" in response.content.decode()
    assert refresh(trade_in).state == State.SUBMITTED

    workflow(
        staff_client(manager),
        trade_in,
        "quote",
        amount="150",
        valid_days="7",
        override_reason="Carrier confirms it was never reported",
    )
    assert refresh(trade_in).state == State.QUOTED


def test_a_blocklist_entry_needs_a_valid_imei_and_a_reason(staff, db):
    desk = staff_client(staff)
    page = desk.post(
        reverse("admin:workflows_blockedimei_add"), {"imei": "12345", "reason": "blacklisted"}
    )
    assert page.status_code == 200 and "15 digits" in page.content.decode()
    assert not BlockedImei.objects.exists() and not BlockedImeiChange.objects.exists()
