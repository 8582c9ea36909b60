"""The role matrix: every admin page, export and action, for Staff, Manager and Admin.

Each check performs the operation for real and reports whether it happened; a refused
operation must also leave the data as it was.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests.helpers import intake_data, refresh, staff_client, workflow
from workflows.models import (
    BlockedImei,
    PayoutStatus,
    Product,
    ReturnStatus,
    SideEffect,
    State,
    TradeIn,
)

STAFF, MANAGER, ADMIN = "staff", "manager", "admin"
EVERYONE = {STAFF, MANAGER, ADMIN}
MANAGERS = {MANAGER, ADMIN}


def page(url_or_name, *args):
    def check(client, build):
        url = url_or_name if url_or_name.startswith("/") else reverse(url_or_name, args=args)
        status = client.get(url).status_code
        assert status in (200, 403), (url, status)
        return status == 200

    return check


def detail_page(name):
    def check(client, build):
        trade_in = build(State.REROUTED)
        obj = {
            "tradein": trade_in,
            "payout": trade_in.payout,
            "returncase": trade_in.return_case,
            "unit": trade_in.unit,
            "product": trade_in.product,
        }[name]
        return page(f"admin:workflows_{name}_change", obj.pk)(client, build)

    return check


def quote(client, build):
    trade_in = build(State.SUBMITTED)
    workflow(client, trade_in, "quote", amount="100", valid_days="7")
    return refresh(trade_in).state == State.QUOTED


def override_red_flag(client, build):
    trade_in = build(State.SUBMITTED, flagged=True)
    workflow(client, trade_in, "quote", amount="100", valid_days="7", override_reason="Cleared")
    return refresh(trade_in).state == State.QUOTED


def transition(step, state, expected):
    def check(client, build):
        trade_in = build(state)
        workflow(client, trade_in, step, reason="Because")
        return refresh(trade_in).state == expected

    return check


def receive(client, build):
    trade_in = build(State.ACCEPTED)
    client.post(reverse("admin:intake_bench"), intake_data(trade_in, grade="A"))
    return refresh(trade_in).state == State.RECEIVED


def settle_check(client, build):
    trade_in = build(State.RECEIVED)
    client.post(
        reverse("admin:workflows_payout_settle", args=[trade_in.payout.pk]),
        {"check_number": "77", "check_date": date.today().isoformat()},
    )
    return refresh(trade_in.payout).status == PayoutStatus.SETTLED


def issue_store_credit(client, build):
    trade_in = build(State.RECEIVED, payout_method="store_credit")
    client.post(reverse("admin:workflows_payout_settle", args=[trade_in.payout.pk]))
    return refresh(trade_in.payout).status == PayoutStatus.SETTLED


def resolve_return(client, build):
    case = build(State.REROUTED).return_case
    client.post(
        reverse("admin:workflows_returncase_close", args=[case.pk, "resolve"]),
        {"resolution": "returned", "note": ""},
    )
    return refresh(case).status == ReturnStatus.RESOLVED


def export_payouts(client, build):
    build(State.ACCEPTED)
    response = client.post(
        reverse("admin:workflows_payout_export"), {"format": "0", "resource": "0"}
    )
    return response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def export_selected_payouts(client, build):
    trade_in = build(State.ACCEPTED)
    response = client.post(
        reverse("admin:workflows_payout_changelist"),
        {"action": "export_admin_action", "_selected_action": [trade_in.payout.pk]},
    )
    return (
        response.status_code == 200
        and b"export" in response.content.lower()
        and b"Export selected" not in response.content
    )  # the export form, not the list again


def edit_price(client, build):
    product = build(State.SUBMITTED).product
    url = reverse("admin:workflows_product_change", args=[product.pk])
    client.post(
        url,
        {
            "device_model": product.device_model_id,
            "storage_gb": product.storage_gb,
            "sku": product.sku,
            "base_price": "777.00",
            "units-TOTAL_FORMS": "0",
            "units-INITIAL_FORMS": "0",
        },
    )
    return Product.objects.get(pk=product.pk).base_price == 777


def retry_side_effect(client, build):
    trade_in = build(State.SUBMITTED)
    effect = SideEffect.objects.filter(trade_in=trade_in).first()
    SideEffect.objects.filter(pk=effect.pk).update(status="failed")
    client.post(
        reverse("admin:workflows_sideeffect_changelist"),
        {"action": "retry_now", "_selected_action": [effect.pk]},
    )
    return refresh(effect).status != "failed"


def add_blocked_imei(client, build):
    client.post(
        reverse("admin:workflows_blockedimei_add"),
        {"imei": "490154203237518", "reason": "blacklisted", "note": ""},
    )
    return BlockedImei.objects.filter(imei="490154203237518").exists()


def change_blocked_imei(client, build):
    blocked = BlockedImei.objects.create(imei="356938035643809", reason="blacklisted")
    client.post(
        reverse("admin:workflows_blockedimei_change", args=[blocked.pk]),
        {"reason": "finance_locked", "note": "changed"},
    )
    return BlockedImei.objects.get(pk=blocked.pk).reason == "finance_locked"


def delete_blocked_imei(client, build):
    blocked = BlockedImei.objects.create(imei="356938035643809", reason="blacklisted")
    client.post(reverse("admin:workflows_blockedimei_delete", args=[blocked.pk]), {"post": "yes"})
    return not BlockedImei.objects.filter(pk=blocked.pk).exists()


def delete_trade_in(client, build):
    trade_in = build(State.SUBMITTED)
    client.post(reverse("admin:workflows_tradein_delete", args=[trade_in.pk]), {"post": "yes"})
    return not TradeIn.objects.filter(pk=trade_in.pk).exists()


def delete_payout(client, build):
    trade_in = build(State.ACCEPTED)
    client.post(
        reverse("admin:workflows_payout_delete", args=[trade_in.payout.pk]), {"post": "yes"}
    )
    return not type(trade_in.payout).objects.filter(pk=trade_in.payout.pk).exists()


def _store_credit(build):
    import re

    from django.contrib.auth.models import User
    from django.core import mail

    from workflows import actions

    trade_in = build(State.RECEIVED, payout_method="store_credit")
    credit = actions.payout_issue_store_credit(
        payout=trade_in.payout, actor=User.objects.get(username="manager")
    )
    from workflows.tasks import run_due_side_effects

    run_due_side_effects()
    [code] = re.findall(r"SC-[A-Z2-9]{10}", mail.outbox[-1].body)
    return credit, code


def see_whole_store_credit_code(client, build):
    credit, code = _store_credit(build)
    pages = [
        client.get(reverse("admin:workflows_storecredit_changelist")),
        client.get(reverse("admin:workflows_storecredit_change", args=[credit.pk])),
        client.get(reverse("admin:workflows_payout_change", args=[credit.payout.pk])),
        client.get(reverse("admin:workflows_tradein_change", args=[credit.payout.trade_in.pk])),
        client.get(reverse("admin:workflows_sideeffect_changelist")),
    ]
    return any(code in r.content.decode(errors="replace") for r in pages)


def see_store_credit_last4(client, build):
    _credit, code = _store_credit(build)
    page = client.get(reverse("admin:workflows_storecredit_changelist"))
    return page.status_code == 200 and f"SC-…{code[-4:]}" in page.content.decode()


def find_store_credit_by_code(client, build):
    credit, code = _store_credit(build)
    page = client.get(reverse("admin:workflows_storecredit_changelist"), {"q": code.lower()})
    return page.status_code == 200 and page.context["cl"].result_count == 1


def redeem_store_credit(client, build):
    credit, code = _store_credit(build)
    page = client.post(
        reverse("admin:store_credit_counter"), {"code": code, "amount": "1.00"}, follow=True
    )
    # The clerk typed the whole code; the page answers with its last 4 only.
    assert code not in page.content.decode()
    return refresh(credit).balance == credit.amount - 1


def void_store_credit(client, build):
    credit, _code = _store_credit(build)
    client.post(reverse("admin:workflows_storecredit_void", args=[credit.pk]), {"reason": "Lost"})
    return refresh(credit).is_void


def _request_change(build):
    from django.contrib.auth.models import User

    from workflows import actions

    trade_in = build(State.RECEIVED)
    return trade_in, actions.payout_details_change_request(
        trade_in=trade_in,
        actor=User.objects.get(username="staff"),
        changes={"buyer_email": "new@example.com"},
        reason="Buyer called",
    )


def request_payout_details_change(client, build):
    trade_in = build(State.RECEIVED)
    workflow(
        client,
        trade_in,
        "request_details_change",
        buyer_name=trade_in.buyer_name,
        buyer_email="new@example.com",
        payout_method=trade_in.payout_method,
        address_line1=trade_in.address_line1,
        city=trade_in.city,
        postcode=trade_in.postcode,
        country=trade_in.country,
        reason="Buyer called",
    )
    return trade_in.detail_changes.exists()


def approve_payout_details_change(client, build):
    trade_in, change = _request_change(build)
    workflow(client, trade_in, "approve_change", change=change.pk)
    return refresh(trade_in).buyer_email == "new@example.com"


def reject_payout_details_change(client, build):
    trade_in, change = _request_change(build)
    workflow(client, trade_in, "reject_change", change=change.pk, note="Not them")
    return refresh(change).status == "rejected"


def edit_email_after_acceptance(client, build):
    trade_in = build(State.RECEIVED)
    data = {
        name: getattr(trade_in, name)
        for name in ("buyer_name", "buyer_phone", "fulfilment", "address_line1", "address_line2")
    }
    data.update(city=trade_in.city, region=trade_in.region, postcode=trade_in.postcode)
    data.update(country=trade_in.country, buyer_email="thief@example.com")
    for prefix in ("quotes", "events"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    client.post(reverse("admin:workflows_tradein_change", args=[trade_in.pk]), data)
    return refresh(trade_in).buyer_email == "thief@example.com"


def edit_payout_method(client, build):
    trade_in = build(State.RECEIVED)
    client.post(
        reverse("admin:workflows_payout_change", args=[trade_in.payout.pk]),
        {"method": "store_credit", "amount": "1.00"},
    )
    payout = refresh(trade_in.payout)
    return payout.method == "store_credit" or payout.amount == 1


def edit_schedule_func(client, build):
    from django_q.models import Schedule

    schedule = Schedule.objects.order_by("pk").first()
    url = reverse("admin:django_q_schedule_change", args=[schedule.pk])
    form = client.get(url)
    client.post(
        url,
        {
            "name": schedule.name,
            "func": "subprocess.getoutput",
            "args": "'touch /tmp/pwned'",
            "schedule_type": schedule.schedule_type,
            "minutes": schedule.minutes or 1,
            "repeats": -1,
            "next_run_0": "2030-01-01",
            "next_run_1": "00:00:00",
        },
    )
    changed = Schedule.objects.get(pk=schedule.pk).func != schedule.func
    # No role even gets a form with an editable func field.
    return changed or b'name="func"' in form.content


def add_schedule(client, build):
    from django_q.models import Schedule

    before = Schedule.objects.count()
    client.post(
        reverse("admin:django_q_schedule_add"),
        {"name": "x", "func": "subprocess.getoutput", "args": "'id'", "schedule_type": "O"},
    )
    return Schedule.objects.count() != before


def delete_schedule(client, build):
    from django_q.models import Schedule

    schedule = Schedule.objects.order_by("pk").first()
    client.post(reverse("admin:django_q_schedule_delete", args=[schedule.pk]), {"post": "yes"})
    return not Schedule.objects.filter(pk=schedule.pk).exists()


def resubmit_failed_task(client, build):
    from django_q.models import Failure, OrmQ

    failure = Failure.objects.create(
        id="f" * 32,
        name="failed-task",
        func="subprocess.getoutput",
        args=("id",),
        started="2026-01-01T00:00:00Z",
        stopped="2026-01-01T00:00:01Z",
        success=False,
    )
    queued = OrmQ.objects.count()
    client.post(
        reverse("admin:django_q_failure_changelist"),
        {"action": "resubmit_task", "_selected_action": [failure.pk]},
    )
    return OrmQ.objects.count() != queued or not Failure.objects.filter(pk=failure.pk).exists()


MATRIX = {
    "dashboard": (page("/dashboard/"), EVERYONE),
    "queue": (page("/dashboard/trade-ins/"), EVERYONE),
    "trade-in detail": (detail_page("tradein"), EVERYONE),
    "intake bench": (page("admin:intake_bench"), EVERYONE),
    "payouts list": (page("/dashboard/payouts/"), MANAGERS),
    "payout detail": (detail_page("payout"), MANAGERS),
    "returns list": (page("/dashboard/returns/"), EVERYONE),
    "return case detail": (detail_page("returncase"), EVERYONE),
    "products list": (page("/dashboard/products/"), EVERYONE),
    "product detail": (detail_page("product"), EVERYONE),
    "units list": (page("/dashboard/units/"), EVERYONE),
    "unit detail": (detail_page("unit"), EVERYONE),
    "device models": (page("admin:workflows_devicemodel_changelist"), EVERYONE),
    "condition deductions": (page("admin:workflows_conditiondeduction_changelist"), EVERYONE),
    "IMEI blocklist": (page("admin:workflows_blockedimei_changelist"), EVERYONE),
    "IMEI checks": (page("admin:workflows_imeicheck_changelist"), EVERYONE),
    "shipping labels": (page("admin:workflows_shippinglabel_changelist"), EVERYONE),
    "store credits": (page("admin:workflows_storecredit_changelist"), MANAGERS),
    "outbox": (page("admin:workflows_sideeffect_changelist"), MANAGERS),
    "price import page": (page("admin:workflows_product_import"), MANAGERS),
    "deduction import page": (page("admin:workflows_conditiondeduction_import"), MANAGERS),
    "payout export page": (page("admin:workflows_payout_export"), MANAGERS),
    "add device model": (page("admin:workflows_devicemodel_add"), MANAGERS),
    "users": (page("admin:auth_user_changelist"), {ADMIN}),
    "groups": (page("admin:auth_group_changelist"), {ADMIN}),
    "task schedules": (page("admin:django_q_schedule_changelist"), {ADMIN}),
    "failed tasks": (page("admin:django_q_failure_changelist"), {ADMIN}),
    "edit a schedule's function": (edit_schedule_func, set()),
    "add a schedule": (add_schedule, set()),
    "delete a schedule": (delete_schedule, set()),
    "resubmit a failed task": (resubmit_failed_task, set()),
    "quote": (quote, EVERYONE),
    "override a red flag": (override_red_flag, MANAGERS),
    "decline": (transition("decline", State.SUBMITTED, State.DECLINED), EVERYONE),
    "cancel": (transition("cancel", State.ACCEPTED, State.CANCELLED), EVERYONE),
    "receive at intake": (receive, EVERYONE),
    "reroute": (transition("reroute", State.RECEIVED, State.REROUTED), EVERYONE),
    "resolve a return": (resolve_return, EVERYONE),
    "settle a check payout": (settle_check, MANAGERS),
    "issue store credit": (issue_store_credit, MANAGERS),
    "export payouts (filtered)": (export_payouts, MANAGERS),
    "export selected payouts": (export_selected_payouts, MANAGERS),
    "edit a base price": (edit_price, MANAGERS),
    "retry a side effect": (retry_side_effect, MANAGERS),
    "add a blocked IMEI": (add_blocked_imei, EVERYONE),
    "change a blocked IMEI": (change_blocked_imei, MANAGERS),
    "delete a blocked IMEI": (delete_blocked_imei, MANAGERS),
    "blocklist audit": (page("admin:workflows_blockedimeichange_changelist"), EVERYONE),
    "store credits: see a whole code": (see_whole_store_credit_code, set()),
    "store credits: see the last 4": (see_store_credit_last4, MANAGERS),
    "store credits: find by whole code": (find_store_credit_by_code, MANAGERS),
    "store credits: redeem at the counter": (redeem_store_credit, EVERYONE),
    "store credits: void": (void_store_credit, MANAGERS),
    "payout details: request a change": (request_payout_details_change, EVERYONE),
    "payout details: approve another's request": (approve_payout_details_change, MANAGERS),
    "payout details: reject another's request": (reject_payout_details_change, MANAGERS),
    "payout details: edit the email after acceptance": (edit_email_after_acceptance, set()),
    "payout details: edit a payout's method or amount": (edit_payout_method, set()),
    "payout detail changes list": (
        page("admin:workflows_payoutdetailchange_changelist"),
        EVERYONE,
    ),
    "delete a trade-in": (delete_trade_in, set()),
    "delete a payout": (delete_payout, set()),
}
CASES = [(name, role) for name in MATRIX for role in (STAFF, MANAGER, ADMIN)]


@pytest.mark.parametrize(("operation", "role"), CASES, ids=[f"{r}-{n}" for n, r in CASES])
def test_it_allows_each_role_exactly_its_operations(operation, role, make_trade_in, request):
    user = request.getfixturevalue({STAFF: "staff", MANAGER: "manager", ADMIN: "admin_user"}[role])
    check, allowed_roles = MATRIX[operation]
    assert check(staff_client(user), make_trade_in) == (role in allowed_roles)


def test_it_keeps_schedules_read_only_even_for_a_superuser(make_trade_in, db):
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root", "root@example.com", "tradein-demo")
    client = staff_client(root)
    assert client.get(reverse("admin:django_q_schedule_changelist")).status_code == 200
    for check in (edit_schedule_func, add_schedule, delete_schedule, resubmit_failed_task):
        assert check(client, make_trade_in) is False, check.__name__


def test_a_transitions_permission_is_the_permission_tables(staff, manager, monkeypatch):
    """Issue 19: the trade-in's transitions named their permissions a second time (strings on
    @transition beside permissions.RULES). They ask RULES now: change the table, and the
    buttons the state machine offers change with it."""
    from django_fsm import has_transition_perm

    from workflows.rules import permissions
    from workflows.rules.permissions import RULES, Operation, Rule

    trade_in = TradeIn(state=State.SUBMITTED)
    assert has_transition_perm(trade_in.quote, staff)
    assert has_transition_perm(trade_in.decline, staff)
    monkeypatch.setitem(
        permissions.RULES, Operation.QUOTE, Rule("workflows.settle_payout", "managers only")
    )
    assert not has_transition_perm(trade_in.quote, staff)
    assert has_transition_perm(trade_in.quote, manager)
    assert RULES[Operation.QUOTE].refusal == "managers only"
    # The buyer's and the scheduled tasks' transitions are nobody's by hand.
    quoted = TradeIn(state=State.QUOTED)
    for transition in (quoted.accept, quoted.expire):
        assert not has_transition_perm(transition, manager)
