"""The quoting policy: one row a manager edits, through the action that owns it."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from backoffice.admin.base import Save, SavesThroughAnAction
from workflows.actions import quote_policy_update
from workflows.actions.policy import POLICY_FIELDS
from workflows.models import QuotePolicy


@admin.register(QuotePolicy)
class QuotePolicyAdmin(SavesThroughAnAction, ModelAdmin):
    fieldsets = [
        (_("Auto-quote"), {"fields": ["auto_quote", "auto_quote_cap"]}),
        (
            _("Offers far above the price list"),
            {"fields": ["confirm_ratio", "manager_ratio", "manager_amount"]},
        ),
        (_("Last change"), {"fields": [("updated_at", "updated_by")]}),
    ]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_object(self, request: HttpRequest, object_id: str, from_field=None) -> QuotePolicy:
        # The policy in force, even before a manager first saved it.
        return QuotePolicy.current()

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:workflows_quotepolicy_change", args=[1]))

    def save_action(
        self, request: HttpRequest, obj: QuotePolicy, form, change: bool
    ) -> Save | None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not set(changes) <= set(POLICY_FIELDS):
            return None
        return Save(
            quote_policy_update,
            {"actor": request.user, "changes": changes},
            _("Quoting policy saved."),
        )

    def message_user(self, request: HttpRequest, message, *args, **kwargs) -> None:
        # save_model already said whether the action saved the policy.
        if "was changed successfully" not in str(message):
            super().message_user(request, message, *args, **kwargs)
