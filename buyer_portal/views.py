"""Buyer pages. Thin: a form parses, one action acts, the page says what happens next."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from buyer_portal.forms import ADDRESS_NEEDED, TradeInForm
from workflows import actions
from workflows.errors import DomainError, LinkInvalid
from workflows.integrations import payments
from workflows.integrations.http import IntegrationError
from workflows.links import (
    QUOTE_SALT,
    absolute,
    quote_from_token,
    quote_token,
    status_token,
    trade_in_from_status_token,
)
from workflows.models import (
    QUESTIONS,
    DeviceModel,
    Make,
    Payout,
    PayoutMethod,
    PayoutStatus,
    Quote,
    State,
    StripeAccount,
    TradeIn,
)
from workflows.pricing import price_table, suggested_offer

log = logging.getLogger("buyer_portal")

DECLINE_REASONS = [
    gettext_lazy("The offer is too low"),
    gettext_lazy("I decided to keep my device"),
    gettext_lazy("I sold it somewhere else"),
    gettext_lazy("Other"),
]


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
        models = make.device_models.filter(is_active=True)
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

    form = TradeInForm(request.POST or None, device_model=device_model)
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
        # The server's words, from workflows.actions.normalize_imei.
        "imeiDigits": _("An IMEI has only digits."),
        "imeiLength": _("An IMEI has exactly 15 digits."),
        "imeiCheck": _("This IMEI's last digit does not match; please check for typos."),
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


def _trade_in_or_invalid(request: HttpRequest, token: str):
    try:
        return trade_in_from_status_token(token), None
    except LinkInvalid as exc:
        return None, _link_invalid(request, exc)


def _link_invalid(request: HttpRequest, exc: LinkInvalid, token: str = "") -> HttpResponse:
    status = 404 if exc.reason == "tampered" else 410
    trade_in = _trade_in_of_quote_token(token) if token and exc.reason != "tampered" else None
    return render(
        request,
        "buyer_portal/link_invalid.html",
        {
            "message": exc.message,
            "reason": exc.reason,
            "status_token": status_token(trade_in) if trade_in else "",
        },
        status=status,
    )


def _trade_in_of_quote_token(token: str) -> TradeIn | None:
    """The trade-in behind a genuine but no longer usable offer link, to point at its status."""
    try:
        pk = int(signing.loads(token, salt=QUOTE_SALT)["q"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    quote = Quote.objects.select_related("trade_in").filter(pk=pk).first()
    return quote.trade_in if quote else None


def confirmation(request: HttpRequest, token: str) -> HttpResponse:
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    return render(
        request,
        "buyer_portal/confirmation.html",
        {
            "trade_in": trade_in,
            "status_token": token,
            "step": 4,
            "pickup": actions.wants_pickup(trade_in),
        },
    )


# The buyer's journey, in their words; each trade-in state sits at one of these steps.
JOURNEY = [
    gettext_lazy("Request sent"),
    gettext_lazy("Offer"),
    gettext_lazy("Send the device"),
    gettext_lazy("We check it"),
    gettext_lazy("Paid"),
]
JOURNEY_STEP = {
    State.SUBMITTED: 1,
    State.QUOTED: 1,
    State.DECLINED: 1,
    State.EXPIRED: 1,
    State.ACCEPTED: 2,
    State.CANCELLED: 2,
    State.RECEIVED: 3,
    State.REROUTED: 3,
    State.CLOSED: 5,
}
STOPPED = {State.DECLINED, State.EXPIRED, State.CANCELLED, State.REROUTED}


def status(request: HttpRequest, token: str) -> HttpResponse:
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    quote = trade_in.latest_quote()
    current = JOURNEY_STEP[trade_in.state]
    here = "stopped" if trade_in.state in STOPPED else "current"
    journey = [
        {"label": label, "state": "done" if i < current else here if i == current else "todo"}
        for i, label in enumerate(JOURNEY)
    ]
    return render(
        request,
        "buyer_portal/status.html",
        {
            "trade_in": trade_in,
            "quote": quote,
            "quote_token": quote_token(quote) if quote and trade_in.state == State.QUOTED else "",
            "journey": journey,
            "pickup": actions.wants_pickup(trade_in),
            "has_label": trade_in.labels.filter(voided_at__isnull=True).exists(),
            "status_token": token,
            "shop_address": settings.SHOP_ADDRESS,
            "shop_hours": settings.SHOP_HOURS,
        },
    )


def label_pdf(request: HttpRequest, token: str) -> HttpResponse:
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    label = trade_in.labels.filter(voided_at__isnull=True).first()
    if label is None:
        raise Http404(_("No shipping label yet."))
    response = HttpResponse(bytes(label.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-{trade_in.reference}.pdf"'
    return response


def _quote_page(
    request: HttpRequest, quote: Quote, token: str, *, status: int = 200, **extra
) -> HttpResponse:
    return render(
        request,
        "buyer_portal/quote.html",
        {
            "quote": quote,
            "trade_in": quote.trade_in,
            "token": token,
            "pickup": actions.wants_pickup(quote.trade_in),
            "reasons": DECLINE_REASONS,
            "shop_address": settings.SHOP_ADDRESS,
            **extra,
        },
        status=status,
    )


def quote(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows the offer: mail scanners prefetch links, so nothing here changes state."""
    try:
        quote = quote_from_token(token)
    except LinkInvalid as exc:
        return _link_invalid(request, exc, token)
    return _quote_page(request, quote, token)


@require_POST
def quote_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        quote = quote_from_token(token)
        trade_in = actions.trade_in_accept(quote=quote)
    except LinkInvalid as exc:
        return _link_invalid(request, exc, token)
    except DomainError as exc:
        return _link_invalid(request, LinkInvalid(exc.message, reason="used"), token)
    return redirect("buyer_portal:status", token=status_token(trade_in))


@require_POST
def quote_decline(request: HttpRequest, token: str) -> HttpResponse:
    try:
        quote = quote_from_token(token)
    except LinkInvalid as exc:
        return _link_invalid(request, exc, token)
    reason = request.POST.get("reason", "").strip()
    detail = request.POST.get("detail", "").strip()
    error = ""
    if reason not in [str(r) for r in DECLINE_REASONS]:
        error = _("Please choose a reason.")
    elif len(detail) > 1000:
        error = _("Please keep this under 1000 characters.")
    if error:
        return _quote_page(
            request,
            quote,
            token,
            status=400,
            decline_error=error,
            reason=reason,
            detail=detail[:1000],
        )
    try:
        trade_in = actions.trade_in_decline(
            trade_in=quote.trade_in,
            quote=quote,
            actor=actions.BUYER,
            reason=f"{reason}: {detail}" if detail else reason,
        )
    except LinkInvalid as exc:
        return _link_invalid(request, exc, token)
    except DomainError as exc:
        return _link_invalid(request, LinkInvalid(exc.message, reason="used"), token)
    return redirect("buyer_portal:status", token=status_token(trade_in))


# --- payout setup (Stripe Connect onboarding), from the link in the "set up your payout" email --
def _stripe_payout(trade_in: TradeIn) -> Payout | None:
    payout = getattr(trade_in, "payout", None)
    if payout is None or payout.method != PayoutMethod.STRIPE:
        return None
    return payout


def _setup_page(
    request: HttpRequest,
    trade_in: TradeIn,
    message: str,
    *,
    status: int = 200,
    token: str = "",
    demo: bool = False,
) -> HttpResponse:
    return render(
        request,
        "buyer_portal/payout_setup.html",
        {
            "trade_in": trade_in,
            "message": message,
            "status_token": token,
            "demo": demo,
        },
        status=status,
    )


def payout_setup(request: HttpRequest, token: str) -> HttpResponse:
    """Sends the buyer to Stripe's onboarding. Stripe's links last minutes, so the email links
    here and a fresh one is made on each visit (this is also Stripe's refresh_url). A mail
    scanner's GET only makes Stripe an unused link; nothing here changes."""
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    payout = _stripe_payout(trade_in)
    if payout is None or payout.status not in (PayoutStatus.PENDING, PayoutStatus.FAILED):
        return redirect("buyer_portal:status", token=token)
    provider = payments.get_provider()
    account = StripeAccount.objects.filter(
        provider=provider.name, email__iexact=trade_in.buyer_email
    ).first()
    if account is None:
        return _setup_page(
            request,
            trade_in,
            _("We are still preparing your payout. Please try this link again in a few minutes."),
            status=503,
        )
    if account.payouts_enabled:
        return redirect("buyer_portal:status", token=token)
    here = absolute(reverse("buyer_portal:payout_setup", args=[token]))
    try:
        url = provider.onboarding_link(
            account_id=account.account_id,
            refresh_url=here,
            return_url=absolute(reverse("buyer_portal:payout_setup_done", args=[token])),
        )
    except IntegrationError as exc:
        log.warning("payout setup link for %s failed: %s", trade_in.reference, exc.safe)
        return _setup_page(
            request,
            trade_in,
            _("Stripe cannot be reached right now. Please try this link again in a few minutes."),
            status=503,
        )
    return redirect(url)


def payout_setup_done(request: HttpRequest, token: str) -> HttpResponse:
    """Stripe's return_url. Stripe's webhook says the same; whichever comes first records it."""
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    provider = payments.get_provider()
    account = StripeAccount.objects.filter(
        provider=provider.name, email__iexact=trade_in.buyer_email
    ).first()
    if account is not None and not provider.is_demo:
        try:
            state = provider.retrieve_account(account.account_id)
        except IntegrationError as exc:
            log.warning("payout setup check for %s failed: %s", trade_in.reference, exc.safe)
        else:
            actions.stripe_account_update(
                account_id=state.account_id,
                payouts_enabled=state.payouts_enabled,
                details_submitted=state.details_submitted,
            )
    return redirect("buyer_portal:status", token=token)


def payout_setup_demo(request: HttpRequest, token: str) -> HttpResponse:
    """The demo provider's stand-in for Stripe's hosted onboarding: one button."""
    trade_in, invalid = _trade_in_or_invalid(request, token)
    if invalid:
        return invalid
    provider = payments.get_provider()
    account = StripeAccount.objects.filter(
        provider=provider.name, email__iexact=trade_in.buyer_email
    ).first()
    if not provider.is_demo or account is None:
        raise Http404
    if request.method == "POST":
        actions.stripe_account_update(
            account_id=account.account_id, payouts_enabled=True, details_submitted=True
        )
        return redirect("buyer_portal:status", token=token)
    return _setup_page(request, trade_in, "", token=token, demo=True)
