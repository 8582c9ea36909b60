"""The manager's quoting policy (auto-quote, confirmation and manager thresholds)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.actions._common import Operation, authorize
from workflows.errors import InvalidInput
from workflows.models import QuotePolicy

POLICY_FIELDS = ("auto_quote", "auto_quote_cap", "confirm_ratio", "manager_ratio", "manager_amount")


@transaction.atomic(durable=True)
def quote_policy_update(*, actor: AbstractBaseUser, changes: dict[str, Any]) -> QuotePolicy:
    """A manager changes the quoting policy; the row remembers who and when."""
    authorize(actor, Operation.CHANGE_QUOTE_POLICY)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown policy fields: %s") % ", ".join(sorted(unknown)))
    policy, _created = QuotePolicy.objects.select_for_update().get_or_create(pk=1)
    for name, value in changes.items():
        setattr(policy, name, value)
    for name in ("auto_quote_cap", "manager_amount"):
        if Decimal(getattr(policy, name)) <= 0:
            raise InvalidInput(_("Amounts in the policy must be more than 0."))
    if not Decimal("1") <= Decimal(policy.confirm_ratio) <= Decimal(policy.manager_ratio):
        raise InvalidInput(_("The confirmation ratio is at least 1 and at most the manager ratio."))
    policy.updated_at = timezone.now()
    policy.updated_by = actor
    policy.save()
    return policy
