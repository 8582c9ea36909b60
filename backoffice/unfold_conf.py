"""The Unfold admin's look and navigation."""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

UNFOLD = {
    "SITE_TITLE": "Trade-ins",
    "SITE_HEADER": "Trade-in back office",
    "SITE_SUBHEADER": "Buyback queue, intake and payouts",
    "SITE_URL": "/",
    "SITE_SYMBOL": "smartphone",
    "SHOW_HISTORY": False,
    "LOGIN": {"form": "backoffice.forms.ThrottledLoginForm"},
    "STYLES": [lambda request: static("backoffice/backoffice.css")],
    "SHOW_VIEW_ON_SITE": False,
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
                    {
                        "title": _("Trade-ins queue"),
                        "icon": "inbox",
                        "link": reverse_lazy("admin:workflows_tradein_changelist"),
                        "badge": "backoffice.dashboard.new_submissions_badge",
                        "permission": lambda request: request.user.has_perm(
                            "workflows.view_tradein"
                        ),
                    },
                    {
                        "title": _("Intake bench"),
                        "icon": "barcode_scanner",
                        "link": reverse_lazy("admin:intake_bench"),
                        "permission": lambda request: request.user.has_perm(
                            "workflows.receive_tradein"
                        ),
                    },
                    {
                        "title": _("Payouts"),
                        "icon": "payments",
                        "link": reverse_lazy("admin:workflows_payout_changelist"),
                        "permission": lambda request: request.user.has_perm(
                            "workflows.view_payout"
                        ),
                    },
                    {
                        "title": _("Returns"),
                        "icon": "assignment_return",
                        "link": reverse_lazy("admin:workflows_returncase_changelist"),
                        "permission": lambda request: request.user.has_perm(
                            "workflows.view_returncase"
                        ),
                    },
                ],
            },
            {
                "title": _("Inventory and prices"),
                "collapsible": True,
                "items": [
                    {
                        "title": _("Products and stock"),
                        "icon": "inventory_2",
                        "link": reverse_lazy("admin:workflows_product_changelist"),
                        "permission": lambda request: request.user.has_perm(
                            "workflows.view_product"
                        ),
                    },
                    {
                        "title": _("Units"),
                        "icon": "qr_code_2",
                        "link": reverse_lazy("admin:workflows_unit_changelist"),
                        "permission": lambda request: request.user.has_perm("workflows.view_unit"),
                    },
                    {
                        "title": _("Device models"),
                        "icon": "smartphone",
                        "link": reverse_lazy("admin:workflows_devicemodel_changelist"),
                        "permission": lambda request: request.user.has_perm(
                            "workflows.view_devicemodel"
                        ),
                    },
                    {
                        "title": _("Condition deductions"),
                        "icon": "percent",
                        "link": reverse_lazy("admin:workflows_conditiondeduction_changelist"),
                        "permission": lambda request: request.user.has_perm(
                            "workflows.view_conditiondeduction"
                        ),
                    },
                    {
                        "title": _("IMEI blocklist"),
                        "icon": "block",
                        "link": reverse_lazy("admin:workflows_blockedimei_changelist"),
                        "permission": lambda request: request.user.has_perm(
                            "workflows.view_blockedimei"
                        ),
                    },
                ],
            },
            {
                "title": _("System"),
                "collapsible": True,
                "items": [
                    {
                        "title": _("Side effects (outbox)"),
                        "icon": "outbox",
                        "link": reverse_lazy("admin:workflows_sideeffect_changelist"),
                        "permission": lambda request: request.user.has_perm(
                            "workflows.view_sideeffect"
                        ),
                    },
                    {
                        "title": _("Users"),
                        "icon": "person",
                        "link": reverse_lazy("admin:auth_user_changelist"),
                        "permission": lambda request: request.user.has_perm("auth.view_user"),
                    },
                    {
                        "title": _("Groups"),
                        "icon": "group",
                        "link": reverse_lazy("admin:auth_group_changelist"),
                        "permission": lambda request: request.user.has_perm("auth.view_group"),
                    },
                ],
            },
        ],
    },
}
