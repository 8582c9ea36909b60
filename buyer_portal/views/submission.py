"""The storefront and the trade-in form: what a buyer sees before they have a link."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from buyer_portal import basket
from buyer_portal.forms import ADDRESS_NEEDED, TradeInForm
from buyer_portal.views.links import trade_in_or_invalid
from workflows import actions
from workflows.errors import DomainError
from workflows.links import (
    status_token,
)
from workflows.models import (
    QUESTIONS,
    DeviceModel,
    Make,
    Product,
)
from workflows.rules.addresses import warm_zip_table
from workflows.rules.basket import (
    DEVICE_FIELDS,
    basket_full,
    basket_full_message,
    repeated_imei,
    repeated_imei_message,
)
from workflows.rules.predicates import wants_pickup
from workflows.rules.pricing import price_table, suggested_offer

log = logging.getLogger("buyer_portal")


def storefront(request: HttpRequest) -> HttpResponse:
    return render(request, "buyer_portal/storefront.html")


def trade_in_form(request: HttpRequest) -> HttpResponse:
    """Make → model → the rest, each step a plain link or form, so it works without JavaScript."""
    makes = list(Make.objects.all())
    make = next((m for m in makes if m.slug == request.GET.get("make")), None)
    bad_status = 400 if request.method == "POST" else 200
    if make is None:
        basket.put_back(request)
        return render(
            request,
            "buyer_portal/pick_make.html",
            {
                "makes": makes,
                "basket": basket.lines(basket.devices(request)),
                "step": 1,
                "popular": popular_models(),
                "unknown": _("We don't buy that make yet. Pick one below.")
                if request.GET.get("make")
                else "",
            },
            status=bad_status,
        )
    device_model = DeviceModel.objects.filter(
        make=make, slug=request.GET.get("model", ""), is_active=True
    ).first()
    if device_model is None:
        models = make.device_models.filter(is_active=True).prefetch_related(
            Prefetch("products", Product.objects.order_by("storage_gb"))
        )
        query = request.GET.get("q", "").strip()[:60]
        if query:
            models = models.filter(name__icontains=query)
        return render(
            request,
            "buyer_portal/pick_model.html",
            {
                "make": make,
                "device_models": models,
                "query": query,
                "step": 2,
                "unknown": _("We don't know that model. Pick yours from the list.")
                if request.GET.get("model")
                else "",
            },
            status=bad_status,
        )

    in_basket = basket.lines(basket.devices(request))
    # A storage size tapped on the model list is the buyer's own choice: it arrives chosen.
    form = TradeInForm(
        request.POST or None,
        device_model=device_model,
        storage=request.GET.get("storage"),
        initial=_initial(request, device_model),
    )
    warm_zip_table()
    page_error = ""
    status = 200
    if request.method == "POST":
        status = 400
        if "add_device" in request.POST:
            if form.is_bot():
                form.add_error(None, _("Please leave the last field empty."))
            elif added := _add_device(request, form, in_basket):
                return added
        elif _too_many_submissions(request):
            status = 429
            page_error = _(
                "That was a lot of tries from your connection. "
                "Please try again in a minute; your answers are still here."
            )
        elif form.is_bot():
            form.add_error(None, _("Please leave the last field empty."))
        elif form.is_valid():
            last = form.submission()
            # The basket's devices with the buyer's answers given once, on this page.
            submissions = [
                replace(last, product=line.product, imei=line.imei, **line.answers)
                for line in in_basket
            ]
            try:
                order = actions.order_submit(
                    submissions=[*submissions, last],
                    submission_key=form.cleaned_data["submission_key"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                basket.clear(request)
                # Each device counts as a submission, as if sent one by one (this POST
                # counted the first).
                for _device in submissions:
                    _too_many_submissions(request)
                first = order.devices.order_by("position").first()
                return redirect("buyer_portal:confirmation", token=status_token(first))
    return render(
        request,
        "buyer_portal/form.html",
        {
            "make": make,
            "device_model": device_model,
            "form": form,
            "step": 3,
            "page_error": page_error,
            "questions": [form[name] for name in QUESTIONS],
            # After the ZIP, in the order browsers autofill a US address.
            "address": [
                form[name]
                for name in ("address_line1", "address_line2", "city", "region", "country")
            ],
            "shop_address": settings.SHOP_ADDRESS,
            "prices": price_table(device_model),
            "estimate": _estimate(form),
            "js": _form_messages(form),
            "basket": in_basket,
            "basket_total": _total(in_basket, _estimate(form)),
            "basket_full": basket_full(len(in_basket) + 1),
            "editing": basket.current(request) is not None,
        },
        status=status,
    )


def _initial(request: HttpRequest, device_model: DeviceModel) -> dict:
    """The buyer's answers from an earlier device's page (asked once), and the device being
    edited when it is this model."""
    if request.method != "GET":
        return {}
    initial = {k: v for k, v in basket.contact(request).items() if v}
    device = basket.current(request)
    if device and device_model.products.filter(pk=device["product"]).exists():
        initial.update({name: device[name] for name in DEVICE_FIELDS})
    return initial


def _add_device(request: HttpRequest, form: TradeInForm, in_basket) -> HttpResponse | None:
    """ "Add another device": this page's device goes into the basket (only its own answers
    are needed now) and the buyer picks the next one. None: the page shows what to fix."""
    form.is_valid()
    for name in list(form.errors):
        if name not in DEVICE_FIELDS:  # the buyer's details are asked on the last page
            del form.errors[name]
    if form.errors:
        return None
    if basket_full(len(in_basket) + 1):
        form.add_error(None, basket_full_message())
        return None
    imeis = [line.imei for line in in_basket] + [form.cleaned_data["imei"]]
    if repeated := repeated_imei(imeis):
        form.add_error("imei", repeated_imei_message(*repeated))
        return None
    basket.add(request, form.cleaned_data, form.data)
    return redirect("buyer_portal:form")


def _total(in_basket, estimate) -> dict | None:
    """The basket's estimate: with this page's device once its answers are in, else the devices
    already in the basket. None when a device has no price."""
    amounts = [line.estimate for line in in_basket]
    if not in_basket or any(amount is None for amount in amounts):
        return None
    if estimate is None:
        return {"amount": sum(amounts, Decimal("0")), "devices": len(amounts), "all": False}
    return {"amount": sum(amounts, estimate), "devices": len(amounts) + 1, "all": True}


@require_POST
def basket_remove(request: HttpRequest, position: int) -> HttpResponse:
    basket.take_out(request, position)
    return redirect(_back(request))


@require_POST
def basket_edit(request: HttpRequest, position: int) -> HttpResponse:
    """The device leaves the basket and its page opens filled in: "Add another device" or
    "Submit" puts it back."""
    device = basket.take_out(request, position, to_edit=True)
    if device is None:
        return redirect("buyer_portal:form")
    product = (
        Product.objects.select_related("device_model__make").filter(pk=device["product"]).first()
    )
    if product is None:
        return redirect("buyer_portal:form")
    model = product.device_model
    return redirect(f"{reverse('buyer_portal:form')}?make={model.make.slug}&model={model.slug}")


def _back(request: HttpRequest) -> str:
    """The page the buyer was on (the form of the device they are filling in), or the picker."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("buyer_portal:form")


def _estimate(form: TradeInForm):
    """The estimate for answers already sent, so a page without JavaScript shows it too."""
    data = getattr(form, "cleaned_data", {})
    if not all(name in data for name in ("product", *QUESTIONS)):
        return None
    return suggested_offer(data["product"], {q: data[q] for q in QUESTIONS})


POPULAR_SECONDS = 300


def popular_models(limit: int = 6) -> list[DeviceModel]:
    """The models traded in most in the last 90 days, newest first on a tie: one tap instead of
    two (make, then model) for most buyers."""

    def ranked() -> list[int]:
        since = timezone.now() - timedelta(days=90)
        return list(
            DeviceModel.objects.filter(is_active=True)
            .annotate(
                recent=Count(
                    "products__trade_ins", filter=Q(products__trade_ins__created_at__gte=since)
                )
            )
            .order_by("-recent", "-release_year", "name")
            .values_list("pk", flat=True)[:limit]
        )

    # Counting 90 days of trade-ins on every first page would grow with the shop; the ranking
    # moves slowly, so each worker keeps it for a few minutes.
    pks = cache.get_or_set(f"popular-models-{limit}", ranked, POPULAR_SECONDS)
    by_pk = DeviceModel.objects.select_related("make").in_bulk(pks)
    return [by_pk[pk] for pk in pks if pk in by_pk and by_pk[pk].is_active]


def _too_many_submissions(request: HttpRequest) -> bool:
    """Counts every POST of the form per client address, in the cache all web workers share."""
    try:
        return is_ratelimited(
            request,
            group="buyer_portal.submit",
            key="ip",
            rate=settings.BUYER_SUBMIT_RATE,
            method="POST",
            increment=True,
        )
    except Exception:
        # A cache that is down must not turn buyers away; the honeypot still stands.
        log.exception("Rate limit cache unavailable; letting the submission through")
        return False


def _form_messages(form: TradeInForm) -> dict:
    """The words the page's script needs, translated here so the script holds no text."""
    return {
        "required": {
            name: str(field.error_messages["required"])
            for name, field in form.fields.items()
            if field.required and not field.widget.is_hidden
        },
        "address": str(ADDRESS_NEEDED),
        "localZips": settings.LOCAL_PICKUP_POSTCODES,
        "zipShape": _("A ZIP code has 5 digits, like 62704 (or ZIP+4: 62704-1234)."),
        "state": _("Please choose your state."),
        # The server's words, from workflows.rules.parsers.normalize_imei.
        "imeiDigits": _("An IMEI has only digits."),
        "imeiLength": _("An IMEI has exactly 15 digits."),
        "imeiCheck": _("This IMEI's last digit does not match; please check for typos."),
        "imeiMeid": _(
            "This is an MEID, the number of a CDMA phone, not an IMEI. Please enter "
            "the 15-digit IMEI (dial *#06# or see Settings → About)."
        ),
        "imeiOk": _("Looks right."),
        "email": str(form.fields["buyer_email"].error_messages["invalid"]),
        "tooLong": _("Please keep this shorter."),
        "summary": _("Please check the highlighted answers."),
        "estimate": _("About %(amount)s, final offer after review"),
        "currency": settings.CURRENCY_SYMBOL,
        "scan": {
            "insecure": _("Scanning needs a secure (https) page. Please type the IMEI."),
            "unsupported": _("This browser cannot use the camera here. Please type the IMEI."),
            "denied": _(
                "The camera was not allowed. Please type the IMEI, or allow the "
                "camera in your browser settings and tap Scan again."
            ),
            "nocamera": _("No camera was found. Please type the IMEI."),
            "failed": _("The scanner could not start. Please type the IMEI."),
            "looking": _("Looking for a barcode…"),
            "found": _("IMEI found and filled in."),
            "notImei": _("That barcode is not an IMEI. Try the one labelled IMEI."),
        },
    }


def order_devices(trade_in) -> list[dict]:
    """Every device of the trade-in's order (one: itself), each with its status link."""
    devices = trade_in.order.devices.select_related("product__device_model__make")
    return [
        {"trade_in": device, "status_token": status_token(device)}
        for device in devices.order_by("position")
    ]


def confirmation(request: HttpRequest, token: str) -> HttpResponse:
    trade_in, invalid = trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    devices = order_devices(trade_in)
    estimates = [d["trade_in"].suggested_offer for d in devices]
    return render(
        request,
        "buyer_portal/confirmation.html",
        {
            "trade_in": trade_in,
            "order": trade_in.order,
            "devices": devices,
            # The order's estimate, as the basket showed it: only when every device has one.
            "estimated_total": sum(estimates, Decimal("0"))
            if len(devices) > 1 and None not in estimates
            else None,
            "status_token": token,
            "step": 4,
            "pickup": wants_pickup(trade_in),
        },
    )
