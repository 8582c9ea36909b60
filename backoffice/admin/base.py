from __future__ import annotations

from typing import TypeVar

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
