from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Save:
    """What an admin's Save (or Delete) button does: one workflows action and its arguments,
    and what to tell the person when it is done."""

    action: Callable[..., object]
    arguments: dict
    success: str = ""


class SavesThroughAnAction(ModelAdmin):
    """An admin whose Save calls one workflows action (and Delete another, if it has one).

    Django saves a form inside a transaction of its own (`changeform_view` and `delete_view`
    wrap the POST in `transaction.atomic`), and our actions are durable: each is the
    transaction and refuses to run inside another. So Save goes in two steps, through Django's
    public hooks: Django checks the permission, validates the form and calls `save_model`,
    which only says which action to call (`save_action`); once Django's transaction has closed,
    `changeform_view` calls it. Done: Django's log entry and its answer, as for any save.
    Refused: the form is shown again as typed with the action's reason above it, and nothing
    is saved or logged. Delete works the same way (`delete_action`).
    """

    def save_action(
        self, request: HttpRequest, obj: models.Model, form, change: bool
    ) -> Save | None:
        """The action this Save calls, or None when there is nothing to save."""
        raise NotImplementedError

    def delete_action(self, request: HttpRequest, obj: models.Model) -> Save:
        raise NotImplementedError

    # --- Django's hooks inside its transaction: note what to do, write nothing ----------------
    def save_model(self, request: HttpRequest, obj: models.Model, form, change: bool) -> None:
        save = self.save_action(request, obj, form, change)
        if save is not None:
            request.__dict__[_PENDING] = _Pending(save, obj, add=not change)

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        request.__dict__[_PENDING] = _Pending(self.delete_action(request, obj), obj, add=False)

    def log_addition(self, request: HttpRequest, obj: models.Model, message) -> None:
        if _PENDING in request.__dict__:  # logged once the action has added it
            request.__dict__[_LOG] = lambda added: super(SavesThroughAnAction, self).log_addition(
                request, added, message
            )
        else:
            super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: models.Model, message) -> None:
        if _PENDING in request.__dict__:  # logged once the action has changed it
            request.__dict__[_LOG] = lambda changed: super(SavesThroughAnAction, self).log_change(
                request, changed, message
            )
        else:
            super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset) -> None:
        if _DELETING in request.__dict__:  # delete_view logs first: kept until the action is done
            request.__dict__[_LOG] = lambda: super(SavesThroughAnAction, self).log_deletions(
                request, queryset
            )
        else:
            super().log_deletions(request, queryset)  # the bulk delete: delete_queryset acts

    def response_add(self, request: HttpRequest, obj: models.Model, post_url_continue=None):
        if _PENDING in request.__dict__:
            return HttpResponse()  # not sent: changeform_view answers once the action is done
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: models.Model):
        if _PENDING in request.__dict__:
            return HttpResponse()  # not sent, as above
        return super().response_change(request, obj)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id):
        if _PENDING in request.__dict__:
            request.__dict__[_DELETED] = (obj_display, obj_id)
            return HttpResponse()  # not sent, as above
        return super().response_delete(request, obj_display, obj_id)

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = request.__dict__.get(_REFUSED)
        if refusal is None:
            return form

        class Refused(form):
            def clean(self):
                super().clean()
                raise forms.ValidationError(refusal)  # above the form, as typed

        return Refused

    # --- after Django's transaction: the action ---------------------------------------------
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        response = super().changeform_view(request, object_id, form_url, extra_context)
        pending = request.__dict__.pop(_PENDING, None)
        if pending is None:  # a page, a form with errors, or nothing to save
            return response
        log = request.__dict__.pop(_LOG, None)
        try:
            result = pending.save.action(**pending.save.arguments)
        except DomainError as exc:
            # Django validates the form once more and shows it with the reason; it saves nothing.
            request.__dict__[_REFUSED] = exc.message
            return super().changeform_view(request, object_id, form_url, extra_context)
        obj = result if pending.add and isinstance(result, models.Model) else pending.obj
        if log is not None:
            log(obj)
        if pending.save.success:
            messages.success(request, pending.save.success)
        if pending.add:
            return self.response_add(request, obj)
        return self.response_change(request, obj)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        request.__dict__[_DELETING] = True
        try:
            response = super().delete_view(request, object_id, extra_context)
        finally:
            del request.__dict__[_DELETING]
        pending = request.__dict__.pop(_PENDING, None)
        if pending is None:
            return response
        log = request.__dict__.pop(_LOG, None)
        obj_display, obj_id = request.__dict__.pop(_DELETED)
        try:
            pending.save.action(**pending.save.arguments)
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())
        if log is not None:
            log()
        return self.response_delete(request, obj_display, obj_id)


@dataclass(frozen=True)
class _Pending:
    save: Save
    obj: models.Model
    add: bool


# Kept on the request between Django's transaction and the action (one request, one form).
_PENDING = "_backoffice_save_pending"
_LOG = "_backoffice_save_log"
_REFUSED = "_backoffice_save_refused"
_DELETING = "_backoffice_deleting"
_DELETED = "_backoffice_deleted"


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
