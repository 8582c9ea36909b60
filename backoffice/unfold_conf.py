"""The Unfold admin's look and navigation."""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


def _item(title, icon: str, url_name: str, perm: str, **extra) -> dict:
    """A sidebar link shown to those with the permission its page needs."""
    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy(url_name),
        "permission": lambda request: request.user.has_perm(perm),
        **extra,
    }


UNFOLD = {
    "SITE_TITLE": "Trade-ins",
    "SITE_HEADER": "Trade-in back office",
    "SITE_SUBHEADER": "Buyback queue, intake and payouts",
    "SITE_URL": "/",
    "SITE_SYMBOL": "smartphone",
    "SHOW_HISTORY": False,
    "LOGIN": {"form": "backoffice.signin.ThrottledLoginForm"},
    "STYLES": [lambda request: static("backoffice/backoffice.css")],
    "SCRIPTS": [lambda request: static("backoffice/a11y.js")],
    "SITE_FAVICONS": [
        {
            "rel": "icon",
            "type": "image/svg+xml",
            "href": lambda request: static("backoffice/favicon.svg"),
        }
    ],
    "SHOW_VIEW_ON_SITE": False,
    # The account menu: two-step sign-in on or off, new recovery codes (backoffice.twostep).
    "ACCOUNT": {
        "navigation": [
            {"title": _("Two-step sign-in"), "link": reverse_lazy("admin:two_step_account")},
        ]
    },
    "DASHBOARD_CALLBACK": "backoffice.dashboard.dashboard_callback",
    "ENVIRONMENT": "backoffice.dashboard.environment_callback",
    "COLORS": {
        "primary": {
            "50": "oklch(97.7% .014 308.299)",
            "100": "oklch(94.6% .033 307.174)",
            "200": "oklch(90.2% .063 306.703)",
            "300": "oklch(82.7% .119 306.383)",
            "400": "oklch(71.4% .203 305.504)",
            "500": "oklch(62.7% .265 303.9)",
            "600": "oklch(55.8% .288 302.321)",
            "700": "oklch(49.6% .265 301.924)",
            "800": "oklch(43.8% .218 303.724)",
            "900": "oklch(38.1% .176 304.987)",
            "950": "oklch(29.1% .149 302.717)",
        },
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": [
            {
                "title": _("Buyback"),
                "items": [
                    {
                        "title": _("Dashboard"),
                        "icon": "dashboard",
                        "link": reverse_lazy("admin:index"),
                    },
                    _item(
                        _("Trade-ins queue"),
                        "inbox",
                        "admin:workflows_tradein_changelist",
                        "workflows.view_tradein",
                        badge="backoffice.badges.new_submissions_badge",
                    ),
                    _item(
                        _("Orders"),
                        "shopping_basket",
                        "admin:workflows_order_changelist",
                        "workflows.view_order",
                    ),
                    _item(
                        _("Counter"),
                        "storefront",
                        "admin:counter",
                        "workflows.buy_at_counter",
                    ),
                    _item(
                        _("Intake bench"),
                        "barcode_scanner",
                        "admin:intake_bench",
                        "workflows.receive_tradein",
                    ),
                    _item(
                        _("Payouts"),
                        "payments",
                        "admin:workflows_payout_changelist",
                        "workflows.view_payout",
                    ),
                    _item(
                        _("Payout detail changes"),
                        "rule",
                        "admin:workflows_payoutdetailchange_changelist",
                        "workflows.approve_payoutdetailchange",
                        badge="backoffice.money_cards.detail_changes_badge",
                    ),
                    _item(
                        _("Returns"),
                        "assignment_return",
                        "admin:workflows_returncase_changelist",
                        "workflows.view_returncase",
                    ),
                    _item(
                        _("To ship back"),
                        "local_shipping",
                        "admin:workflows_shipback_changelist",
                        "workflows.view_shipback",
                        badge="backoffice.badges.ship_back_badge",
                    ),
                    _item(
                        _("Reports"),
                        "monitoring",
                        "admin:reports",
                        "workflows.view_reports",
                    ),
                    _item(
                        _("Quoting policy"),
                        "bolt",
                        "admin:workflows_quotepolicy_changelist",
                        "workflows.view_quotepolicy",
                    ),
                    _item(
                        _("Store credit counter"),
                        "redeem",
                        "admin:store_credit_counter",
                        "workflows.redeem_storecredit",
                    ),
                ],
            },
            {
                "title": _("Inventory and prices"),
                "collapsible": True,
                "items": [
                    _item(
                        _("Products and stock"),
                        "inventory_2",
                        "admin:workflows_product_changelist",
                        "workflows.view_product",
                    ),
                    _item(
                        _("Price list: offers that learn"),
                        "price_change",
                        "admin:price_list",
                        "workflows.view_product",
                    ),
                    _item(
                        _("Units"),
                        "qr_code_2",
                        "admin:workflows_unit_changelist",
                        "workflows.view_unit",
                    ),
                    _item(
                        _("Device models"),
                        "smartphone",
                        "admin:workflows_devicemodel_changelist",
                        "workflows.view_devicemodel",
                    ),
                    _item(
                        _("Condition deductions"),
                        "percent",
                        "admin:workflows_conditiondeduction_changelist",
                        "workflows.view_conditiondeduction",
                    ),
                    _item(
                        _("IMEI blocklist"),
                        "block",
                        "admin:workflows_blockedimei_changelist",
                        "workflows.view_blockedimei",
                    ),
                ],
            },
            {
                "title": _("Compliance"),
                "collapsible": True,
                "items": [
                    _item(
                        _("Police reports"),
                        "local_police",
                        "admin:workflows_policereport_changelist",
                        "workflows.view_policereport",
                    ),
                    _item(
                        _("ID number audit trail"),
                        "policy",
                        "admin:workflows_idnumberaccess_changelist",
                        "workflows.view_idnumberaccess",
                    ),
                ],
            },
            {
                "title": _("System"),
                "collapsible": True,
                "items": [
                    _item(
                        _("Side effects (outbox)"),
                        "outbox",
                        "admin:workflows_sideeffect_changelist",
                        "workflows.view_sideeffect",
                    ),
                    _item(_("Users"), "person", "admin:auth_user_changelist", "auth.view_user"),
                    _item(_("Groups"), "group", "admin:auth_group_changelist", "auth.view_group"),
                ],
            },
        ],
    },
}
