from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import BadRequest
from django.db import models
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import path, reverse
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


class ReadOnlyAdmin(ModelAdmin):
    """Records written only by the actions or the worker: shown, never added, edited or
    deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class NoDeleteAdmin(ModelAdmin):
    """Money and the buyer's record are never hard-deleted."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class SavesThroughAnAction(ModelAdmin):
    """An admin whose save_model calls one action. Django runs the change form in a
    transaction of its own; the action is that transaction here (actions are durable: no
    caller wraps them), and a refused action leaves nothing half-saved either way."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        return self._changeform_view(request, object_id, form_url, extra_context)


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


class PanelAdmin(ModelAdmin):
    """A panel of forms above the detail page (its change_form_outer_before_template).

    The panel's forms POST to <object_id>/<panel_url>/[<step>/]; `panel_post` parses one form
    and calls one action, and the person lands back on the page with a message.
    """

    panel_url = "do"

    def panel_context(self, request: HttpRequest, obj: models.Model) -> dict:
        return {}

    def panel_post(self, request: HttpRequest, obj: models.Model, step: str) -> None:
        raise NotImplementedError

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context = {**(extra_context or {}), **self.panel_context(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.panel_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_{self.panel_url}"
        return [
            path(f"<path:object_id>/{self.panel_url}/", view, name=name),
            path(f"<path:object_id>/{self.panel_url}/<str:step>/", view, name=name),
            *super().get_urls(),
        ]

    def panel_view(self, request: HttpRequest, object_id: str, step: str = "") -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        # get_object answers None for an id that cannot be one ("abc"), as for a missing row.
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        self.panel_post(request, obj, step)
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))


class FilteredExportAdmin(ModelAdmin):
    """An export of the filtered list answers 400, not 500, to filters the list does not have.

    The list itself turns an unknown filter into ?e=1; import-export's export page builds the
    same list and lets the error escape.
    """

    def get_export_queryset(self, request: HttpRequest):
        try:
            return super().get_export_queryset(request)
        except IncorrectLookupParameters as exc:
            raise BadRequest("Unknown filter in the export's address.") from exc
