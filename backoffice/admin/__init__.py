"""Every model in the Unfold admin at /dashboard/. Registration happens on import."""

from backoffice.admin import accounts, catalog, payouts, quoting, system, tradeins  # noqa: F401
