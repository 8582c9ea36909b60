from __future__ import annotations

from django.contrib.admin.apps import AdminConfig
from django.urls import URLResolver, path
from django.urls.resolvers import RoutePattern
from unfold.sites import UnfoldAdminSite

# The pages staff open all day get short addresses; the URL names stay the admin's own,
# so reverse("admin:workflows_tradein_changelist") gives /dashboard/trade-ins/.
FRIENDLY_PREFIXES = {
    "workflows/tradein/": "trade-ins/",
    "workflows/payout/": "payouts/",
    "workflows/returncase/": "returns/",
    "workflows/product/": "products/",
    "workflows/unit/": "units/",
}


class BackofficeSite(UnfoldAdminSite):
    site_url = "/"
    index_template = "backoffice/index.html"
    index_title = "Dashboard"

    def extra_urls(self) -> list:
        from backoffice import compliance
        from backoffice.views import intake_bench

        return [
            path("intake/", self.admin_view(intake_bench), name="intake_bench"),
            *compliance.urls(self),
        ]

    def get_urls(self) -> list:
        urls = super().get_urls()
        for pattern in urls:
            if isinstance(pattern, URLResolver) and str(pattern.pattern) in FRIENDLY_PREFIXES:
                pattern.pattern = RoutePattern(FRIENDLY_PREFIXES[str(pattern.pattern)])
        return urls


class BackofficeAdminConfig(AdminConfig):
    default_site = "backoffice.sites.BackofficeSite"
