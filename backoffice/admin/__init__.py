"""Every model in the Unfold admin at /dashboard/. Registration happens on import."""

from backoffice.admin import accounts, catalog, compliance, payouts, system, tradeins, units  # noqa: F401
