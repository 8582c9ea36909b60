"""Calling one workflows action from a staff page: a refused rule becomes an error message and
changes nothing, a valid form's data become the action's arguments.

Shared by the admin classes (backoffice.admin) and the plain staff pages (compliance, counter,
price list, intake bench); it lives outside the admin package so that a page using it does not
import, and register, every admin module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from workflows.errors import DomainError

T = TypeVar("T")


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


def call_action_with_form(
    request: HttpRequest,
    form: forms.Form,
    action: Callable[..., T],
    *,
    success: str,
    arguments: Callable[[dict], dict] = dict,
    **kwargs,
) -> T | None:
    """A panel button: a valid form calls the action with its data (`arguments` renames
    fields where the form and the action differ); an invalid one shows its errors."""
    if not form.is_valid():
        form_errors(request, form)
        return None
    return call_action(request, action, success=success, **kwargs, **arguments(form.cleaned_data))


def form_errors(request: HttpRequest, form: forms.Form) -> None:
    """Show a bound form's errors as messages (the panels redirect back to the page)."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        text = " ".join(errors)
        messages.error(request, f"{label}: {text}" if label else text)
