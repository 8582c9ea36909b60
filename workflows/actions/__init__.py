"""The only code that changes state. Each function is atomic, locks what it changes, writes
the timeline and schedules its side effects to run after commit."""

from workflows.actions._common import AUTO_QUOTE, BUYER, SYSTEM
from workflows.actions.blocklist import blocked_imei_add, blocked_imei_change, blocked_imei_remove
from workflows.actions.compliance import (
    DeclarationInput,
    IdentityInput,
    buyer_erase,
    police_daily_export,
    police_report_create,
    police_report_delivered,
    seller_identity_correct,
    seller_identity_record,
    seller_identity_reveal,
    trade_in_anonymise_expired,
    unit_hold_release,
)
from workflows.actions.corrections import (
    shipping_label_retry,
    trade_in_update_details,
    unit_regrade,
)
from workflows.actions.counter import email_resend, trade_in_add_note
from workflows.actions.details import (
    payout_details_change_approve,
    payout_details_change_reject,
    payout_details_change_request,
)
from workflows.actions.device_lists import (
    BulkQuote,
    SellerDetails,
    order_quote_suggested,
    order_submit_list,
)
from workflows.actions.inspection import (
    return_case_reject,
    return_case_resolve,
    revised_offer_accept,
    revised_offer_decline,
    revised_offer_lapse,
    revised_offer_send,
    trade_in_intake,
)
from workflows.actions.orders import order_answer
from workflows.actions.outbox import side_effect_retry
from workflows.actions.payouts import (
    payout_issue_store_credit,
    payout_settle_check,
)
from workflows.actions.policy import quote_policy_update
from workflows.actions.pricing import (
    market_prices_import,
    price_suggestion_apply,
    price_suggestions_apply_all,
)
from workflows.actions.ship_back import (
    ship_back_collect,
    ship_back_confirm_delivery,
    ship_back_pack,
    ship_back_ship,
)
from workflows.actions.store_credit import normalize_code, store_credit_redeem, store_credit_void
from workflows.actions.stripe import (
    payout_confirm_payee,
    payout_send_stripe,
    payout_settle_stripe,
    payout_stripe_refused,
    stripe_account_check_request,
    stripe_account_update,
    stripe_bank_payout_keep,
    stripe_event_apply,
)
from workflows.actions.submission import (
    Submission,
    imei_check_rerun,
    order_submit,
    trade_in_submit,
)
from workflows.actions.tradeins import (
    trade_in_accept,
    trade_in_cancel,
    trade_in_decline,
    trade_in_expire,
    trade_in_quote,
    trade_in_reroute,
)
from workflows.actions.units import (
    unit_add_refurbishment_cost,
    unit_change_status,
    unit_sell_lot,
)

__all__ = [
    "unit_add_refurbishment_cost",
    "unit_sell_lot",
    "market_prices_import",
    "price_suggestion_apply",
    "price_suggestions_apply_all",
    "AUTO_QUOTE",
    "BUYER",
    "SYSTEM",
    "DeclarationInput",
    "IdentityInput",
    "buyer_erase",
    "police_daily_export",
    "police_report_create",
    "police_report_delivered",
    "seller_identity_correct",
    "seller_identity_record",
    "seller_identity_reveal",
    "trade_in_anonymise_expired",
    "unit_hold_release",
    "Submission",
    "BulkQuote",
    "SellerDetails",
    "order_quote_suggested",
    "order_submit_list",
    "blocked_imei_add",
    "blocked_imei_change",
    "blocked_imei_remove",
    "email_resend",
    "imei_check_rerun",
    "payout_confirm_payee",
    "payout_details_change_approve",
    "payout_details_change_reject",
    "payout_details_change_request",
    "payout_issue_store_credit",
    "payout_settle_check",
    "return_case_reject",
    "quote_policy_update",
    "payout_send_stripe",
    "payout_settle_stripe",
    "payout_stripe_refused",
    "return_case_resolve",
    "shipping_label_retry",
    "ship_back_collect",
    "ship_back_confirm_delivery",
    "ship_back_pack",
    "ship_back_ship",
    "side_effect_retry",
    "stripe_account_check_request",
    "stripe_account_update",
    "stripe_bank_payout_keep",
    "stripe_event_apply",
    "trade_in_accept",
    "trade_in_add_note",
    "trade_in_cancel",
    "trade_in_decline",
    "trade_in_expire",
    "trade_in_intake",
    "trade_in_quote",
    "revised_offer_accept",
    "revised_offer_decline",
    "revised_offer_lapse",
    "revised_offer_send",
    "normalize_code",
    "store_credit_redeem",
    "store_credit_void",
    "unit_change_status",
    "trade_in_reroute",
    "order_submit",
    "order_answer",
    "trade_in_submit",
    "trade_in_update_details",
    "unit_regrade",
]
