"""The typed vocabulary of the timeline and the outbox (and the emails it sends).

Event kinds say what happened, in the past tense. Side-effect kinds say what is to be done,
in the imperative. A side effect's outcome goes on the timeline as the event its kind maps to
(`OUTCOME`); a failed attempt is that same event with `is_failure` set.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Email(models.TextChoices):
    """The emails the outbox sends (a SEND_EMAIL side effect's payload "template"): one
    function each in workflows.documents.emails, one handler each in workflows.tasks.handlers."""

    RECEIVED = "received", _("Submission received")
    STAFF_NEW_SUBMISSION = "staff_new_submission", _("New submission (staff)")
    QUOTE = "quote", _("Quote")
    COUNTER_QUOTE = "counter_quote", _("Counter-quote")
    ACCEPTED_LABEL = "accepted_label", _("Accepted, shipping label")
    ACCEPTED_PICKUP = "accepted_pickup", _("Accepted, drop-off")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")
    REROUTED = "rerouted", _("Rerouted")
    PAYOUT_SENT = "payout_sent", _("Payout sent")
    STRIPE_ONBOARDING = "stripe_onboarding", _("Stripe onboarding")
    STORE_CREDIT = "store_credit", _("Store credit")
    EMAIL_CHANGED = "email_changed", _("Email changed")
    PAYOUT_DETAILS_CHANGED = "payout_details_changed", _("Payout details changed")
    PURCHASE_RECEIPT = "purchase_receipt", _("Purchase receipt")
    REVISED_OFFER = "revised_offer", _("Revised offer")
    REVISED_OFFER_ACCEPTED = "revised_offer_accepted", _("Revised offer accepted")
    RETURN_LABEL = "return_label", _("Return label")
    RETURN_PICKUP = "return_pickup", _("Return pickup")
    # An order of several devices: one email with every device's offer (workflows.rules.orders).
    ORDER_OFFER = "order_offer", _("Order offer")
    # ... and one purchase receipt for the devices the buyer sold us in it.
    ORDER_RECEIPT = "order_receipt", _("Order receipt")


class EventKind(models.TextChoices):
    # the trade-in's transitions
    SUBMITTED = "submitted", _("Submitted")
    QUOTED = "quoted", _("Quoted")
    COUNTER_QUOTED = "counter_quoted", _("Counter-quoted")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    RECEIVED = "received", _("Received")
    REROUTED = "rerouted", _("Rerouted to returns")
    CLOSED = "closed", _("Closed")
    # staff doing something that is not a transition
    RED_FLAG_OVERRIDDEN = "red_flag_overridden", _("Red flag overridden")
    DETAILS_CHANGED = "details_changed", _("Details changed")
    REGRADED = "regraded", _("Regraded")
    LABEL_REQUESTED_AGAIN = "label_requested_again", _("Label requested again")
    IMEI_CHECK_REQUESTED = "imei_check_requested", _("IMEI check requested")
    SIDE_EFFECT_RETRIED = "side_effect_retried", _("Side effect retried")
    IMEI_NOT_MATCHED = "imei_not_matched", _("Received without a matching IMEI scan")
    BLOCKLIST_ADDED = "blocklist_added", _("Blocklist entry added")
    BLOCKLIST_CHANGED = "blocklist_changed", _("Blocklist entry changed")
    BLOCKLIST_REMOVED = "blocklist_removed", _("Blocklist entry removed")
    NOTE_ADDED = "note_added", _("Note added")
    EMAIL_RESENT = "email_resent", _("Email re-sent")
    # the manager's quoting policy
    AUTO_QUOTE_SKIPPED = "auto_quote_skipped", _("Left for staff by the auto-quote policy")
    # money
    PAYOUT_REQUESTED = "payout_requested", _("Payout requested")
    PAYOUT_SETTLED = "payout_settled", _("Payout settled")
    PAYOUT_FAILED = "payout_failed", _("Payout failed")
    PAYOUT_REVERSED = "payout_reversed", _("Payout reversed")
    BANK_PAYOUT_REPORTED = "bank_payout_reported", _("Bank payout reported")
    STRIPE_ONBOARDED = "stripe_onboarded", _("Stripe onboarded")
    PAYOUT_DETAILS_CHANGE_REQUESTED = (
        "payout_details_change_requested",
        _("Payout details change requested"),
    )
    PAYOUT_DETAILS_CHANGED = "payout_details_changed", _("Payout details changed")
    PAYOUT_DETAILS_CHANGE_REJECTED = (
        "payout_details_change_rejected",
        _("Payout details change rejected"),
    )
    PAYEE_CONFIRMED = "payee_confirmed", _("Payee confirmed by the buyer")
    # returns
    RETURN_RESOLVED = "return_resolved", _("Return resolved")
    RETURN_REJECTED = "return_rejected", _("Return rejected")
    # a device on its way back to its buyer (workflows.actions.ship_back)
    SHIP_BACK_PACKED = "ship_back_packed", _("Packed to ship back")
    SHIP_BACK_SHIPPED = "ship_back_shipped", _("Shipped back to the buyer")
    SHIP_BACK_DELIVERED = "ship_back_delivered", _("Delivered back to the buyer")
    SHIP_BACK_COLLECTED = "ship_back_collected", _("Collected by the buyer at the counter")
    # after inspection: revised offers and how a trade-in ends without a payout
    REVISED_OFFER_SENT = "revised_offer_sent", _("Revised offer sent")
    REVISED_OFFER_ACCEPTED = "revised_offer_accepted", _("Revised offer accepted")
    RETURNED_TO_BUYER = "returned_to_buyer", _("Returned to buyer")
    RECYCLED = "recycled", _("Recycled")
    # a unit's life in stock (the trade-in's timeline, from/to are the unit's statuses)
    UNIT_LISTED = "unit_listed", _("Unit listed for sale")
    UNIT_UNLISTED = "unit_unlisted", _("Unit taken off sale")
    UNIT_SOLD = "unit_sold", _("Unit sold")
    UNIT_RECYCLED = "unit_recycled", _("Unit recycled")
    UNIT_USED_FOR_PARTS = "unit_used_for_parts", _("Unit used for parts")
    UNIT_RETURNED = "unit_returned", _("Unit returned to buyer")
    UNIT_RESTOCKED = "unit_restocked", _("Unit back in stock")
    REFURBISHMENT_COST_ADDED = "refurbishment_cost_added", _("Refurbishment cost added")
    # store credit at the counter
    STORE_CREDIT_REDEEMED = "store_credit_redeemed", _("Store credit redeemed")
    STORE_CREDIT_VOIDED = "store_credit_voided", _("Store credit voided")
    # outside systems reporting back (the outcomes of side effects, and tracking polls)
    EMAIL_SENT = "email_sent", _("Email sent")
    IMEI_CHECKED = "imei_checked", _("IMEI checked")
    LABEL_CREATED = "label_created", _("Label created")
    RETURN_LABEL_CREATED = "return_label_created", _("Return label created")
    LABEL_VOIDED = "label_voided", _("Label voided")
    STRIPE_SETUP_SENT = "stripe_setup_sent", _("Stripe setup sent")
    STRIPE_TRANSFER_MADE = "stripe_transfer_made", _("Stripe transfer made")
    STRIPE_ACCOUNT_CHECKED = "stripe_account_checked", _("Stripe account checked")
    TRACKING_UPDATED = "tracking_updated", _("Tracking updated")
    # second-hand dealer records (workflows.actions.compliance)
    DECLARED = "declared", _("Seller declared ownership and age")
    IDENTITY_RECORDED = "identity_recorded", _("Seller's ID recorded")
    # the counter (workflows.actions.counter_buyback)
    COUNTER_INSPECTED = "counter_inspected", _("Inspected at the counter")
    COUNTER_ABANDONED = "counter_abandoned", _("Abandoned at the counter")
    IDENTITY_CORRECTED = "identity_corrected", _("Seller's ID corrected (new version)")
    ID_NUMBER_VIEWED = "id_number_viewed", _("Whole ID number viewed")
    HOLD_RELEASED = "hold_released", _("Released from the police hold")
    REPORTED_TO_POLICE = "reported_to_police", _("Reported to the police")
    POLICE_CORRECTION = "police_correction", _("Correction reported to the police")
    ANONYMISED = "anonymised", _("Personal data anonymised")


class SaleChannel(models.TextChoices):
    """Where a unit was sold (workflows.actions.units.unit_change_status, unit_sell_lot)."""

    STOREFRONT = "storefront", _("Storefront")
    MARKETPLACE = "marketplace", _("Marketplace")
    WHOLESALE = "wholesale", _("Wholesale")
    PARTS = "parts", _("Parts")


class SideEffectKind(models.TextChoices):
    SEND_EMAIL = "send_email", _("Send email")
    CHECK_IMEI = "check_imei", _("Check IMEI")
    CREATE_LABEL = "create_label", _("Create shipping label")
    CREATE_RETURN_LABEL = "create_return_label", _("Create return label (shop to buyer)")
    VOID_LABEL = "void_label", _("Void shipping label")
    SEND_STRIPE_SETUP = "send_stripe_setup", _("Send Stripe setup link")
    MAKE_STRIPE_TRANSFER = "make_stripe_transfer", _("Make Stripe transfer")
    CHECK_STRIPE_ACCOUNT = "check_stripe_account", _("Check Stripe account")
    DELIVER_POLICE_REPORT = "deliver_police_report", _("Deliver police report")
    MATCH_BANK_PAYOUT = "match_bank_payout", _("Match a Stripe bank payout to our transfers")


# The timeline row a side effect's outcome is recorded as.
OUTCOME: dict[str, EventKind] = {
    SideEffectKind.SEND_EMAIL: EventKind.EMAIL_SENT,
    SideEffectKind.CHECK_IMEI: EventKind.IMEI_CHECKED,
    SideEffectKind.CREATE_LABEL: EventKind.LABEL_CREATED,
    SideEffectKind.CREATE_RETURN_LABEL: EventKind.RETURN_LABEL_CREATED,
    SideEffectKind.VOID_LABEL: EventKind.LABEL_VOIDED,
    SideEffectKind.SEND_STRIPE_SETUP: EventKind.STRIPE_SETUP_SENT,
    SideEffectKind.MAKE_STRIPE_TRANSFER: EventKind.STRIPE_TRANSFER_MADE,
    SideEffectKind.CHECK_STRIPE_ACCOUNT: EventKind.STRIPE_ACCOUNT_CHECKED,
    SideEffectKind.DELIVER_POLICE_REPORT: EventKind.REPORTED_TO_POLICE,
    SideEffectKind.MATCH_BANK_PAYOUT: EventKind.BANK_PAYOUT_REPORTED,
}
