"""The storefront and the trade-in form: what a buyer sees before they have a link."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

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
        return render(
            request,
            "buyer_portal/pick_make.html",
            {
                "makes": makes,
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

    # A storage size tapped on the model list is the buyer's own choice: it arrives chosen.
    form = TradeInForm(
        request.POST or None, device_model=device_model, storage=request.GET.get("storage")
    )
    warm_zip_table()
    page_error = ""
    status = 200
    if request.method == "POST":
        status = 400
        if _too_many_submissions(request):
            status = 429
            page_error = _(
                "That was a lot of tries from your connection. "
                "Please try again in a minute; your answers are still here."
            )
        elif form.is_bot():
            form.add_error(None, _("Please leave the last field empty."))
        elif form.is_valid():
            try:
                trade_in = actions.trade_in_submit(
                    submission=form.submission(),
                    submission_key=form.cleaned_data["submission_key"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("buyer_portal:confirmation", token=status_token(trade_in))
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
        },
        status=status,
    )


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


def confirmation(request: HttpRequest, token: str) -> HttpResponse:
    trade_in, invalid = trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    return render(
        request,
        "buyer_portal/confirmation.html",
        {
            "trade_in": trade_in,
            "status_token": token,
            "step": 4,
            "pickup": wants_pickup(trade_in),
        },
    )
