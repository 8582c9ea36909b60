"""The buyer's pages, by job: the form (submission), the offer link (offers), the status
page and label (status), and payout setup (payout_setup)."""

from __future__ import annotations

from buyer_portal.views.identity import identity_page
from buyer_portal.views.offers import quote, quote_accept, quote_decline
from buyer_portal.views.payout_setup import payout_setup, payout_setup_demo, payout_setup_done
from buyer_portal.views.status import label_pdf, order_receipt, status
from buyer_portal.views.submission import (
    basket_edit,
    basket_remove,
    confirmation,
    storefront,
    trade_in_form,
)

__all__ = [
    "basket_edit",
    "basket_remove",
    "confirmation",
    "identity_page",
    "label_pdf",
    "order_receipt",
    "payout_setup",
    "payout_setup_demo",
    "payout_setup_done",
    "quote",
    "quote_accept",
    "quote_decline",
    "status",
    "storefront",
    "trade_in_form",
]
