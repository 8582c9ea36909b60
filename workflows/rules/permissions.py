"""Who may do what: one table, asked inside every action (and by the UI to show a button).

Staff act through their permissions (the roles in backoffice/roles.py grant them); the buyer
and the scheduled tasks act without a login, as the BUYER / SYSTEM labels, and only for the
operations this table lets them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from workflows.errors import TransitionRefused


class ActorLabel(StrEnum):
    """Who acted when nobody logged in. Typed: `authorize` accepts only these members, so a
    string that merely spells one ("system", or a typo of it) authorizes nothing. The value is
    what the timeline stores in Event.actor_label."""

    BUYER = "buyer"
    SYSTEM = "system"
    # The manager-set quoting policy, when it quotes a clean submission by itself.
    AUTO_QUOTE = "auto-quote policy"


BUYER = ActorLabel.BUYER
SYSTEM = ActorLabel.SYSTEM
AUTO_QUOTE = ActorLabel.AUTO_QUOTE
# A staff member, or one of the labels when nobody logged in acted.
Actor = AbstractBaseUser | ActorLabel


class Operation(StrEnum):
    QUOTE = "quote"
    EXPIRE = "expire"
    OVERRIDE_RED_FLAG = "override_red_flag"
    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"
    RECEIVE = "receive"
    REROUTE = "reroute"
    UPDATE_DETAILS = "update_details"
    RETRY_LABEL = "retry_label"
    RERUN_IMEI_CHECK = "rerun_imei_check"
    REGRADE = "regrade"
    SETTLE_PAYOUT = "settle_payout"
    EXPORT_PAYOUTS = "export_payouts"
    CLOSE_RETURN = "close_return"
    SEND_REVISED_OFFER = "send_revised_offer"
    ANSWER_REVISED_OFFER = "answer_revised_offer"
    REVISE_AGREED_OFFER = "revise_agreed_offer"
    SHIP_BACK = "ship_back"
    APPLY_REVISED_OFFER_DEFAULT = "apply_revised_offer_default"
    MOVE_UNIT = "move_unit"
    ADD_REFURBISHMENT_COST = "add_refurbishment_cost"
    REDEEM_STORE_CREDIT = "redeem_store_credit"
    VOID_STORE_CREDIT = "void_store_credit"
    RETRY_SIDE_EFFECT = "retry_side_effect"
    RECEIVE_UNMATCHED = "receive_unmatched"
    BLOCKLIST_ADD = "blocklist_add"
    BLOCKLIST_CHANGE = "blocklist_change"
    BLOCKLIST_REMOVE = "blocklist_remove"
    REQUEST_DETAILS_CHANGE = "request_details_change"
    DECIDE_DETAILS_CHANGE = "decide_details_change"
    CONFIRM_PAYEE = "confirm_payee"
    AUTO_QUOTE = "auto_quote"
    QUOTE_OVER_LIMIT = "quote_over_limit"
    CHANGE_QUOTE_POLICY = "change_quote_policy"
    ADD_NOTE = "add_note"
    RESEND_EMAIL = "resend_email"
    # second-hand dealer records (workflows.actions.compliance)
    RECORD_IDENTITY = "record_identity"
    CORRECT_IDENTITY = "correct_identity"
    REVEAL_ID_NUMBER = "reveal_id_number"
    RELEASE_HOLD = "release_hold"
    REPORT_TO_POLICE = "report_to_police"
    EXPORT_POLICE_DAY = "export_police_day"
    PRINT_RECEIPT = "print_receipt"
    ERASE_BUYER = "erase_buyer"
    ANONYMISE_EXPIRED = "anonymise_expired"
    # offers that learn (workflows.actions.pricing)
    APPLY_PRICE_SUGGESTION = "apply_price_suggestion"
    IMPORT_MARKET_PRICES = "import_market_prices"
    # the counter (workflows.actions.counter_buyback)
    BUY_AT_COUNTER = "buy_at_counter"
    PAY_CASH_OVER_LIMIT = "pay_cash_over_limit"
    ANSWER_AT_COUNTER = "answer_at_counter"
    ABANDON_AT_COUNTER = "abandon_at_counter"
    OPEN_DRAWER = "open_drawer"
    CLOSE_DRAWER = "close_drawer"
    # business sellers (workflows.actions.device_lists)
    SUBMIT_DEVICE_LIST = "submit_device_list"


@dataclass(frozen=True)
class Rule:
    permission: str | None  # a staff member needs this; None: no staff member may
    refusal: str
    also: frozenset[ActorLabel] = field(default_factory=frozenset)  # BUYER / SYSTEM too


RULES: dict[Operation, Rule] = {
    Operation.QUOTE: Rule("workflows.quote_tradein", _("Only staff can send a quote.")),
    Operation.EXPIRE: Rule(
        None, _("A quote expires by itself when it lapses."), frozenset({SYSTEM})
    ),
    Operation.OVERRIDE_RED_FLAG: Rule(
        "workflows.override_red_flag", _("Only a manager can override a red flag.")
    ),
    Operation.ACCEPT: Rule(
        None, _("Only the buyer accepts an offer, from its link."), frozenset({BUYER})
    ),
    Operation.DECLINE: Rule(
        "workflows.change_tradein", _("You cannot decline trade-ins."), frozenset({BUYER})
    ),
    Operation.CANCEL: Rule(
        "workflows.change_tradein", _("You cannot cancel trade-ins."), frozenset({SYSTEM})
    ),
    Operation.RECEIVE: Rule("workflows.receive_tradein", _("You cannot receive devices.")),
    Operation.REROUTE: Rule("workflows.receive_tradein", _("You cannot reroute devices.")),
    Operation.UPDATE_DETAILS: Rule(
        "workflows.change_tradein", _("You cannot change a trade-in's details.")
    ),
    Operation.RETRY_LABEL: Rule(
        "workflows.change_tradein", _("You cannot request shipping labels.")
    ),
    Operation.RERUN_IMEI_CHECK: Rule(
        "workflows.quote_tradein", _("You cannot re-run IMEI checks.")
    ),
    Operation.REGRADE: Rule("workflows.change_unit", _("You cannot grade units.")),
    Operation.SETTLE_PAYOUT: Rule(
        "workflows.settle_payout", _("Only a manager can settle payouts.")
    ),
    Operation.EXPORT_PAYOUTS: Rule(
        "workflows.export_payout", _("Only a manager can export payouts for accounting.")
    ),
    Operation.CLOSE_RETURN: Rule(
        "workflows.change_returncase", _("You cannot close return cases.")
    ),
    Operation.SEND_REVISED_OFFER: Rule(
        "workflows.receive_tradein", _("Only intake staff can send a revised offer.")
    ),
    # The buyer accepted a revised amount: revising that agreed price again is a manager's.
    Operation.REVISE_AGREED_OFFER: Rule(
        "workflows.quote_over_limit",
        _("Only a manager can revise a price the buyer already accepted, with a written reason."),
    ),
    Operation.SHIP_BACK: Rule(
        "workflows.change_shipback", _("You cannot pack or ship devices back to buyers.")
    ),
    Operation.ANSWER_REVISED_OFFER: Rule(
        None, _("Only the buyer answers a revised offer, from its link."), frozenset({BUYER})
    ),
    Operation.APPLY_REVISED_OFFER_DEFAULT: Rule(
        None, _("The shop's default applies by itself when nobody answers."), frozenset({SYSTEM})
    ),
    Operation.MOVE_UNIT: Rule("workflows.change_unit", _("You cannot change units.")),
    Operation.ADD_REFURBISHMENT_COST: Rule(
        "workflows.add_refurbishmentcost", _("You cannot enter refurbishment costs.")
    ),
    Operation.REDEEM_STORE_CREDIT: Rule(
        "workflows.redeem_storecredit", _("You cannot redeem store credit.")
    ),
    Operation.VOID_STORE_CREDIT: Rule(
        "workflows.settle_payout", _("Only a manager can void store credit.")
    ),
    Operation.RETRY_SIDE_EFFECT: Rule(
        "workflows.change_sideeffect", _("You cannot retry side effects.")
    ),
    # Money and identity (issue 10).
    Operation.RECEIVE_UNMATCHED: Rule(
        "workflows.override_red_flag",
        _("Only a manager can receive a device whose IMEI was not matched."),
    ),
    Operation.BLOCKLIST_ADD: Rule(
        "workflows.add_blockedimei", _("You cannot add IMEIs to the blocklist.")
    ),
    Operation.BLOCKLIST_CHANGE: Rule(
        "workflows.change_blockedimei", _("Only a manager can change blocklist entries.")
    ),
    Operation.BLOCKLIST_REMOVE: Rule(
        "workflows.delete_blockedimei", _("Only a manager can remove blocklist entries.")
    ),
    Operation.REQUEST_DETAILS_CHANGE: Rule(
        "workflows.change_tradein", _("You cannot change a buyer's details.")
    ),
    Operation.DECIDE_DETAILS_CHANGE: Rule(
        "workflows.approve_payoutdetailchange",
        _("Only a manager can approve or reject a change of payout details."),
    ),
    Operation.CONFIRM_PAYEE: Rule(
        None,
        _("Only the buyer confirms where they are paid, from the link we emailed them."),
        frozenset({BUYER}),
    ),
    Operation.AUTO_QUOTE: Rule(
        None, _("Only the quoting policy quotes by itself."), frozenset({AUTO_QUOTE})
    ),
    Operation.QUOTE_OVER_LIMIT: Rule(
        "workflows.quote_over_limit", _("Only a manager can send this offer.")
    ),
    Operation.CHANGE_QUOTE_POLICY: Rule(
        "workflows.change_quotepolicy", _("Only a manager can change the quoting policy.")
    ),
    Operation.ADD_NOTE: Rule("workflows.change_tradein", _("You cannot add notes to trade-ins.")),
    Operation.RESEND_EMAIL: Rule("workflows.change_tradein", _("You cannot re-send emails.")),
    # Staff at the counter, or the buyer on the signed page.
    Operation.RECORD_IDENTITY: Rule(
        "workflows.add_selleridentity",
        _("Only staff can record a seller's ID."),
        frozenset({BUYER}),
    ),
    Operation.CORRECT_IDENTITY: Rule(
        "workflows.correct_selleridentity",
        _(
            "The seller's ID is already recorded: only a manager can correct it, with a "
            "written reason. Nothing was changed."
        ),
    ),
    Operation.REVEAL_ID_NUMBER: Rule(
        "workflows.view_id_number", _("Only a manager can see a whole ID number.")
    ),
    Operation.RELEASE_HOLD: Rule(
        "workflows.add_holdrelease", _("Only a manager can release a unit from the police hold.")
    ),
    Operation.REPORT_TO_POLICE: Rule(
        None, _("Police reports are made by the scheduled task."), frozenset({SYSTEM})
    ),
    # A device's purchase receipt, or an order's (workflows.documents.receipts).
    Operation.PRINT_RECEIPT: Rule(
        "workflows.view_tradein", _("You cannot print purchase receipts.")
    ),
    Operation.EXPORT_POLICE_DAY: Rule(
        "workflows.view_id_number",
        _("Only a manager can export the police CSV: it shows whole ID numbers."),
    ),
    Operation.ERASE_BUYER: Rule(
        "workflows.erase_buyer", _("Only a manager can erase a buyer's personal data.")
    ),
    Operation.ANONYMISE_EXPIRED: Rule(
        None, _("Records are anonymised by the retention task."), frozenset({SYSTEM})
    ),
    # The price list is the managers' (they hold change_product; staff only view it).
    Operation.APPLY_PRICE_SUGGESTION: Rule(
        "workflows.change_product", _("Only a manager can change the price list.")
    ),
    Operation.IMPORT_MARKET_PRICES: Rule(
        "workflows.change_product", _("Only a manager can import market prices.")
    ),
    # The counter: staff buy, pay and keep the drawer; cash above the limit is a manager's.
    Operation.BUY_AT_COUNTER: Rule(
        "workflows.buy_at_counter", _("You cannot buy devices at the counter.")
    ),
    # The customer answers on the counter's screen (staff signed in) or on a second device
    # opened with the buyback's short code (BUYER).
    Operation.ANSWER_AT_COUNTER: Rule(
        "workflows.buy_at_counter",
        _("Only the customer at the counter answers this offer."),
        frozenset({BUYER}),
    ),
    Operation.ABANDON_AT_COUNTER: Rule(
        "workflows.buy_at_counter",
        _("You cannot abandon counter buybacks."),
        frozenset({SYSTEM}),
    ),
    Operation.PAY_CASH_OVER_LIMIT: Rule(
        "workflows.pay_cash_over_limit",
        _("Only a manager can pay this much in cash (above the counter's cash limit)."),
    ),
    Operation.OPEN_DRAWER: Rule("workflows.add_cashdrawer", _("You cannot open the cash drawer.")),
    Operation.CLOSE_DRAWER: Rule(
        "workflows.change_cashdrawer", _("You cannot close the cash drawer.")
    ),
    # A business sends its device list from the portal; staff upload one for a customer.
    Operation.SUBMIT_DEVICE_LIST: Rule(
        "workflows.add_order",
        _("You cannot upload device lists for customers."),
        frozenset({BUYER}),
    ),
}


def allowed(actor: Actor, operation: Operation) -> bool:
    rule = RULES[operation]
    if isinstance(actor, ActorLabel):
        return actor in rule.also
    if isinstance(actor, str):  # a plain string is nobody, however it is spelled
        return False
    return bool(rule.permission) and actor.has_perm(rule.permission)


def transition_permission(operation: Operation | None) -> Callable[[object, object], bool]:
    """A django-fsm `permission=` made from this table, so a transition's permission is written
    once, here. None: a step of another operation (closing on settlement, a return case's
    outcome), which nobody runs by hand and the pages never offer as a button."""

    def permitted(instance: object, user: object) -> bool:
        return operation is not None and allowed(user, operation)

    permitted.__name__ = f"may_{operation or 'nobody'}"
    return permitted


def authorize(actor: Actor, operation: Operation) -> None:
    """Raise TransitionRefused unless this actor may do this operation."""
    if not allowed(actor, operation):
        raise TransitionRefused(str(RULES[operation].refusal))
