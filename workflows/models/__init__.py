from workflows.models.catalog import DeviceModel, Make, Product
from workflows.models.conditions import QUESTIONS, Accessories, Battery, Body, Screen
from workflows.models.inventory import STOCKED_STATUSES, Grade, Unit, UnitStatus
from workflows.models.outbox import SideEffect, SideEffectStatus
from workflows.models.payouts import (
    Payout,
    PayoutStatus,
    StoreCredit,
    StripeAccount,
    StripeEvent,
)
from workflows.models.policy import QuotePolicy
from workflows.models.pricing import ConditionDeduction
from workflows.models.returns import Resolution, ReturnCase, ReturnStatus
from workflows.models.shipping import ShippingLabel
from workflows.models.tradeins import (
    OPEN_STATES,
    BlockedImei,
    Event,
    Fulfilment,
    ImeiCheck,
    ImeiCheckStatus,
    PayoutMethod,
    Quote,
    State,
    TradeIn,
)
from workflows.models.vocabulary import OUTCOME, EventKind, SideEffectKind

__all__ = [
    "OPEN_STATES",
    "OUTCOME",
    "QUESTIONS",
    "STOCKED_STATUSES",
    "Accessories",
    "Battery",
    "BlockedImei",
    "Body",
    "ConditionDeduction",
    "DeviceModel",
    "Event",
    "EventKind",
    "Fulfilment",
    "Grade",
    "ImeiCheck",
    "ImeiCheckStatus",
    "Make",
    "Payout",
    "PayoutMethod",
    "PayoutStatus",
    "Product",
    "Quote",
    "QuotePolicy",
    "Resolution",
    "ReturnCase",
    "ReturnStatus",
    "Screen",
    "ShippingLabel",
    "SideEffect",
    "SideEffectKind",
    "SideEffectStatus",
    "StoreCredit",
    "StripeAccount",
    "StripeEvent",
    "State",
    "TradeIn",
    "Unit",
    "UnitStatus",
]
