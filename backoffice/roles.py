"""The three staff roles. Migration 0001 creates the groups; `sync_roles` keeps them current."""

from __future__ import annotations

from django.apps import apps as global_apps

VIEW_ALL = [
    f"workflows.view_{model}"
    for model in (
        "tradein",
        "order",
        "quote",
        "imeicheck",
        "event",
        "unit",
        "product",
        "devicemodel",
        "make",
        "returncase",
        "shippinglabel",
        "blockedimei",
        "blockedimeichange",
        "payoutdetailchange",
        "conditiondeduction",
        "quotepolicy",
        "declaration",
        "selleridentity",
        "holdrelease",
        "storecreditredemption",
        "revisedoffer",
        "inspectionphoto",
        "shipback",
        "refurbishmentcost",
        "salelot",
    )
]

STAFF = [
    *VIEW_ALL,
    "workflows.change_tradein",
    "workflows.quote_tradein",
    "workflows.receive_tradein",
    "workflows.change_unit",
    "workflows.add_refurbishmentcost",
    "workflows.change_returncase",
    "workflows.change_shipback",
    "workflows.redeem_storecredit",
    "workflows.add_blockedimei",
    # Staff record a seller's ID at the counter (seen masked); managers see it whole.
    "workflows.add_selleridentity",
    # The counter: buy from a customer at the desk, pay them, keep the day's cash drawer.
    "workflows.buy_at_counter",
    "workflows.view_counterbuyback",
    "workflows.view_cashdrawer",
    "workflows.add_cashdrawer",
    "workflows.change_cashdrawer",
    # A business customer's device list, uploaded as one order (issue 20).
    "workflows.add_order",
]

MANAGER = [
    *STAFF,
    "workflows.override_red_flag",
    # Money: payouts and store credits are the managers' (README, "Demo logins").
    "workflows.view_payout",
    "workflows.view_storecredit",
    "workflows.quote_over_limit",
    "workflows.change_quotepolicy",
    "workflows.change_payout",
    "workflows.approve_payoutdetailchange",
    "workflows.settle_payout",
    "workflows.export_payout",
    "workflows.change_blockedimei",
    "workflows.delete_blockedimei",
    "workflows.view_sideeffect",
    "workflows.change_sideeffect",
    "workflows.view_id_number",
    "workflows.correct_selleridentity",
    "workflows.erase_buyer",
    "workflows.add_holdrelease",
    "workflows.view_policereport",
    # The money reports (backoffice/reports.py): margins and payouts are the managers'.
    "workflows.view_reports",
    "workflows.view_idnumberaccess",
    "workflows.pay_cash_over_limit",
    *[
        f"workflows.{verb}_{model}"
        for verb in ("add", "change")
        for model in ("product", "devicemodel", "make", "conditiondeduction")
    ],
]

ADMIN = [
    *MANAGER,
    *[
        f"auth.{verb}_{model}"
        for verb in ("view", "add", "change", "delete")
        for model in ("user", "group")
    ],
    *[
        f"workflows.delete_{model}"
        for model in ("product", "devicemodel", "make", "conditiondeduction")
    ],
    # Read-only: backoffice.admin.system refuses every change to schedules and tasks anyway.
    "django_q.view_schedule",
    "django_q.view_failure",
    "django_q.view_success",
]

ROLES: dict[str, list[str]] = {"Staff": STAFF, "Manager": MANAGER, "Admin": ADMIN}


def sync_roles(apps=None) -> None:
    """Create the groups and give each exactly its permissions."""
    historical = apps is not None
    if apps is None:
        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for name, perms in ROLES.items():
        missing = [perm for perm in perms if perm not in by_name]
        # A migration runs this with the models of its time: permissions of later models are
        # granted by the migration that adds them. At run time every permission must exist.
        if missing and historical:
            perms = [perm for perm in perms if perm in by_name]
        elif missing:
            raise LookupError(f"Role {name} names unknown permissions: {missing}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([by_name[perm] for perm in perms])


# Whoever can move money, reveal ID numbers or manage accounts signs in with a second step
# (backoffice.twostep): managers and admins today, and anyone later granted one of these.
TWO_STEP_PERMISSIONS = (
    "workflows.view_payout",
    "workflows.settle_payout",
    "workflows.view_storecredit",
    "workflows.view_id_number",
    "auth.change_user",
)


def requires_two_step(user) -> bool:
    """The one predicate: this account must pass the second step before any dashboard page."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or any(user.has_perm(perm) for perm in TWO_STEP_PERMISSIONS)
