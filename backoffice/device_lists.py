"""Staff upload a business customer's device list (issue 20): the portal's reader and action,
with the staff member as the actor. The review shows each refused line and, for staff only,
which trade-in or unit already holds its IMEI. After sending, one button quotes every device
at its suggested offer (workflows.actions.order_quote_suggested)."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflows import actions
from workflows.errors import DomainError
from workflows.models import Fulfilment, Order
from workflows.models.tradeins import ONLINE_PAYOUT_METHODS
from workflows.rules.device_list import DEVICE_LIST_TEMPLATE_CSV, read_device_list
from workflows.rules.permissions import Operation, allowed
from workflows.selectors import device_lists as kept_lists

SESSION_KEY = "staff_device_list"


class DeviceListUploadForm(forms.Form):
    device_list = forms.FileField(label=gettext_lazy("Device list (CSV or XLSX)"))
    buyer_name = forms.CharField(label=gettext_lazy("Customer (business name)"), max_length=120)
    buyer_email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    buyer_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=30, required=False)
    fulfilment = forms.ChoiceField(
        label=gettext_lazy("Ship or drop-off"), choices=Fulfilment.choices
    )
    postcode = forms.CharField(label=gettext_lazy("ZIP code"), max_length=10, required=False)
    address_line1 = forms.CharField(label=gettext_lazy("Street"), max_length=120, required=False)
    address_line2 = forms.CharField(
        label=gettext_lazy("Apartment, suite"), max_length=120, required=False
    )
    city = forms.CharField(label=gettext_lazy("City"), max_length=80, required=False)
    region = forms.CharField(label=gettext_lazy("State"), max_length=40, required=False)
    country = forms.CharField(label=gettext_lazy("Country"), max_length=2, required=False)
    payout_method = forms.ChoiceField(
        label=gettext_lazy("Payout method"), choices=ONLINE_PAYOUT_METHODS
    )

    def clean_device_list(self) -> bytes:
        upload = self.cleaned_data["device_list"]
        limit = settings.DEVICE_LIST_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("This file is larger than %(limit)d KB, the most a device list may be.")
                % {"limit": limit // 1024}
            )
        return upload.read(limit + 1)

    def details(self) -> actions.SellerDetails:
        return actions.SellerDetails(
            **{
                name: self.cleaned_data[name] or ""
                for name in actions.SellerDetails.__dataclass_fields__
            }
        )


def _may_upload(request: HttpRequest) -> None:
    if not allowed(request.user, Operation.SUBMIT_DEVICE_LIST):
        raise PermissionDenied


def device_list_upload(request: HttpRequest) -> HttpResponse:
    _may_upload(request)
    form = DeviceListUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                devices = read_device_list(form.cleaned_data["device_list"])
            except DomainError as exc:
                form.add_error("device_list", exc.message)
            else:
                request.session[SESSION_KEY] = {
                    **kept_lists.device_list_data(devices),
                    "details": asdict(form.details()),
                    "key": f"staff-list:{_key(request)}:{request.user.pk}",
                }
                return HttpResponseRedirect(reverse("admin:order_upload_review"))
    context = {
        **admin.site.each_context(request),
        "title": _("Upload a device list for a business customer"),
        "form": form,
        "key": _key(request),
        "max_rows": settings.DEVICE_LIST_MAX_ROWS,
    }
    return TemplateResponse(request, "backoffice/device_list_upload.html", context, status=status)


def _key(request: HttpRequest) -> str:
    """The page's one-time key (a double click on Send makes one order); a new one when the
    form sent none or something else."""
    key = request.POST.get("key", "")
    return key if re.fullmatch(r"[0-9a-f]{32}", key) else uuid.uuid4().hex


def device_list_review(request: HttpRequest) -> HttpResponse:
    """The refused lines (with who holds a taken IMEI) and the good devices; Send makes them
    one order."""
    _may_upload(request)
    kept = request.session.get(SESSION_KEY)
    if not kept:
        return HttpResponseRedirect(reverse("admin:order_upload"))
    review = kept_lists.device_list_review(kept)
    status = 200
    if request.method == "POST":
        try:
            order = actions.order_submit_list(
                devices=review.devices,
                details=actions.SellerDetails(**kept["details"]),
                submission_key=kept["key"],
                actor=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(
                request,
                _("%(ref)s: %(n)d devices sent as one order; their IMEIs are being checked.")
                % {"ref": order.reference, "n": len(review.devices)},
            )
            return HttpResponseRedirect(reverse("admin:order_upload_sent", args=[order.pk]))
    context = {
        **admin.site.each_context(request),
        "title": _("Check the device list"),
        "review": review,
        "details": kept["details"],
        "lines": zip(review.devices, review.estimates, strict=True),
    }
    return TemplateResponse(request, "backoffice/device_list_review.html", context, status=status)


def device_list_sent(request: HttpRequest, pk: int) -> HttpResponse:
    """The order just sent, with the one button that quotes it."""
    if not request.user.has_perm("workflows.view_order"):
        raise PermissionDenied
    order = get_object_or_404(Order, pk=pk)
    if request.method == "POST":
        quote_suggested(request, order)
        return HttpResponseRedirect(request.path)
    devices = order.devices.all()
    context = {
        **admin.site.each_context(request),
        "title": _("Order %s") % order.reference,
        "order": order,
        "count": devices.count(),
        "new": devices.filter(state="submitted").count(),
        "can_quote": allowed(request.user, Operation.QUOTE),
    }
    return TemplateResponse(request, "backoffice/device_list_sent.html", context)


def quote_suggested(request: HttpRequest, order: Order) -> None:
    """Quote every new device of the order at its suggested offer; say which were skipped."""
    try:
        result = actions.order_quote_suggested(order=order, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return
    messages.success(
        request,
        _("%(ref)s: %(n)d devices quoted at their suggested offer.")
        % {"ref": order.reference, "n": len(result.quoted)},
    )
    if result.skipped:
        messages.warning(
            request,
            _("Not quoted: %s")
            % "; ".join(f"{trade_in.reference} ({why})" for trade_in, why in result.skipped),
        )


def device_list_template(request: HttpRequest) -> HttpResponse:
    _may_upload(request)
    response = HttpResponse(DEVICE_LIST_TEMPLATE_CSV, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="device-list-template.csv"'
    return response


def urls(site) -> list:
    return [
        path("orders/upload/", site.admin_view(device_list_upload), name="order_upload"),
        path(
            "orders/upload/review/",
            site.admin_view(device_list_review),
            name="order_upload_review",
        ),
        path(
            "orders/upload/template.csv",
            site.admin_view(device_list_template),
            name="order_upload_template",
        ),
        path(
            "orders/upload/sent/<int:pk>/",
            site.admin_view(device_list_sent),
            name="order_upload_sent",
        ),
    ]
