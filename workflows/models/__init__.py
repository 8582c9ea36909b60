from workflows.models.catalog import DeviceModel, Make, Product
from workflows.models.conditions import QUESTIONS, Accessories, Battery, Body, Screen
from workflows.models.inspection import Answer, RevisedOffer, RevisedOfferStatus
from workflows.models.inventory import (
    SELLABLE_GRADES,
    STOCKED_STATUSES,
    Grade,
    InspectionPhoto,
    Unit,
    UnitStatus,
    unit_can_list,
    unit_can_sell,
)
from workflows.models.outbox import SideEffect, SideEffectStatus
from workflows.models.payouts import (
    Payout,
    PayoutStatus,
    StoreCredit,
    StoreCreditRedemption,
    StripeAccount,
    StripeEvent,
)
from workflows.models.policy import QuotePolicy
from workflows.models.pricing import ConditionDeduction
from workflows.models.returns import Resolution, ReturnCase, ReturnStatus
from workflows.models.shipping import Direction, ShippingLabel
from workflows.models.tradeins import (
    ARCHIVED_STATES,
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
    "ARCHIVED_STATES",
    "OPEN_STATES",
    "SELLABLE_GRADES",
    "Answer",
    "Direction",
    "InspectionPhoto",
    "RevisedOffer",
    "RevisedOfferStatus",
    "StoreCreditRedemption",
    "unit_can_list",
    "unit_can_sell",
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
