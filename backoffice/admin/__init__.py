"""Every model in the Unfold admin at /dashboard/. Registration happens on import."""

from backoffice.admin import (  # noqa: F401
    accounts,
    catalog,
    compliance,
    counter,
    orders,
    payouts,
    quoting,
    ship_back,
    system,
    tradeins,
    units,
)
