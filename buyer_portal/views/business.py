"""Business sellers (issue 20): upload a device list, review it line by line, send the good
devices as one order. Plain forms: works without JavaScript."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from buyer_portal.forms import BusinessListForm
from buyer_portal.views.submission import _too_many_submissions
from workflows import actions
from workflows.errors import DomainError
from workflows.links import status_token
from workflows.rules.device_list import DEVICE_LIST_TEMPLATE_CSV, read_device_list
from workflows.selectors.device_lists import device_list_data, device_list_review

SESSION_KEY = "business_list"


def business_upload(request: HttpRequest) -> HttpResponse:
    """The list and the seller's details; a good file goes to the review page."""
    form = BusinessListForm(request.POST or None, request.FILES or None)
    page_error = ""
    status = 200
    if request.method == "POST":
        status = 400
        if _too_many_submissions(request):
            status = 429
            page_error = _(
                "That was a lot of tries from your connection. Please try again in a minute."
            )
        elif form.is_bot():
            form.add_error(None, _("Please leave the last field empty."))
        elif form.is_valid():
            try:
                devices = read_device_list(form.cleaned_data["device_list"])
            except DomainError as exc:
                form.add_error("device_list", exc.message)
            else:
                details = form.details()
                request.session[SESSION_KEY] = {
                    **device_list_data(devices),
                    "details": asdict(details),
                    "key": form.cleaned_data["submission_key"],
                }
                return redirect("buyer_portal:business_review")
    return render(
        request,
        "buyer_portal/business_upload.html",
        {
            "form": form,
            "page_error": page_error,
            "address": [
                form[name]
                for name in ("address_line1", "address_line2", "city", "region", "country")
            ],
            "shop_address": settings.SHOP_ADDRESS,
            "max_rows": settings.DEVICE_LIST_MAX_ROWS,
            "max_mb": settings.DEVICE_LIST_MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


def business_review(request: HttpRequest) -> HttpResponse:
    """The refused lines with their problems, the good devices counted with their estimated
    total; "Send" makes them one order."""
    kept = request.session.get(SESSION_KEY)
    if not kept:
        return redirect("buyer_portal:business")
    review = device_list_review(kept)
    error = ""
    if request.method == "POST":
        try:
            order = actions.order_submit_list(
                devices=review.devices,
                details=actions.SellerDetails(**kept["details"]),
                submission_key=kept["key"],
                actor=actions.BUYER,
            )
        except DomainError as exc:
            error = exc.message
        else:
            request.session.pop(SESSION_KEY, None)
            first = order.devices.order_by("position").first()
            return redirect("buyer_portal:confirmation", token=status_token(first))
    return render(
        request,
        "buyer_portal/business_review.html",
        {
            "review": review,
            "error": error,
            "details": kept["details"],
            "lines": zip(review.devices, review.estimates, strict=True),
        },
        status=400 if error else 200,
    )


@require_GET
def business_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(DEVICE_LIST_TEMPLATE_CSV, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="device-list-template.csv"'
    return response
