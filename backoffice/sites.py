"""The back office's admin site. Loaded with INSTALLED_APPS (BackofficeAdminConfig), before any
model can be imported: the pages it links (which import models) are imported in its methods."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig
from django.urls import URLResolver, include, path
from django.utils.functional import SimpleLazyObject
from unfold.sites import UnfoldAdminSite

# The pages staff open all day get short addresses; the URL names stay the admin's own,
# so reverse("admin:workflows_tradein_changelist") gives /dashboard/trade-ins/.
FRIENDLY_PREFIXES = {
    "workflows.tradein": "trade-ins/",
    "workflows.payout": "payouts/",
    "workflows.returncase": "returns/",
    "workflows.product": "products/",
    "workflows.unit": "units/",
}


class BackofficeSite(UnfoldAdminSite):
    site_url = "/"
    index_template = "backoffice/index.html"
    index_title = "Dashboard"

    def get_app_list(self, request, app_label=None):
        """Built when first read. Django puts it on every admin page ("available_apps"), but
        our sidebar is the configured navigation, so most pages never read it."""
        parent = super().get_app_list
        return SimpleLazyObject(lambda: parent(request, app_label))

    def get_sidebar_list(self, request):
        """Built when first read: a page whose sidebar is cached never reads it."""
        parent = super().get_sidebar_list
        return SimpleLazyObject(lambda: parent(request))

    def has_permission(self, request) -> bool:
        """Staff, active, and past the second step when one is owed (backoffice.twostep)."""
        from backoffice.twostep import second_step_pending

        return super().has_permission(request) and not second_step_pending(request)

    def extra_urls(self) -> list:
        from backoffice import compliance, counter_buyback, device_lists, reports, twostep
        from backoffice.counter import inspection_photo, store_credit_counter
        from backoffice.labels import unit_labels
        from backoffice.price_list import price_list
        from backoffice.views import intake_bench, intake_cancel_missing

        return [
            path("intake/", self.admin_view(intake_bench), name="intake_bench"),
            path(
                "intake/cancel-missing/",
                self.admin_view(intake_cancel_missing),
                name="intake_cancel_missing",
            ),
            path(
                "store-credit/counter/",
                self.admin_view(store_credit_counter),
                name="store_credit_counter",
            ),
            path(
                "inspection-photos/<int:pk>/",
                self.admin_view(inspection_photo),
                name="inspection_photo",
            ),
            path("price-list/", self.admin_view(price_list), name="price_list"),
            path("labels/", self.admin_view(unit_labels), name="unit_labels"),
            *compliance.urls(self),
            *counter_buyback.urls(self),
            *twostep.urls(),
            *twostep.admin_urls(self),
            *reports.urls(self),
            *device_lists.urls(self),
        ]

    def get_urls(self) -> list:
        """The admin's URLs, with the friendly models under their short prefixes (and not
        also under the admin's <app>/<model>/ ones)."""
        friendly = {
            model: FRIENDLY_PREFIXES[model._meta.label_lower]
            for model in self._registry
            if model._meta.label_lower in FRIENDLY_PREFIXES
        }
        default_prefixes = {f"{m._meta.app_label}/{m._meta.model_name}/" for m in friendly}
        short = [
            path(prefix, include(self._registry[model].urls)) for model, prefix in friendly.items()
        ]
        rest = [
            pattern
            for pattern in super().get_urls()
            if not (isinstance(pattern, URLResolver) and str(pattern.pattern) in default_prefixes)
        ]
        return short + rest


class BackofficeAdminConfig(AdminConfig):
    default_site = "backoffice.sites.BackofficeSite"
