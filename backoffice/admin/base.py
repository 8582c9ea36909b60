from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline

from workflows.errors import DomainError

T = TypeVar("T")


class ReadOnlyInline(TabularInline):
    """Rows written only by the actions: shown, never edited here."""

    extra = 0
    hide_title = True
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class NoDeleteAdmin(ModelAdmin):
    """Money and the buyer's record are never hard-deleted."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


def call_action(
    request: HttpRequest, action: Callable[..., T], *, success: str, **kwargs
) -> T | None:
    """Call one workflows action. A refused rule becomes an error message and changes nothing."""
    try:
        result = action(**kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, success)
    return result


def form_errors(request: HttpRequest, form: forms.Form) -> None:
    """Show a bound form's errors as messages (the panels redirect back to the page)."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        text = " ".join(errors)
        messages.error(request, f"{label}: {text}" if label else text)
