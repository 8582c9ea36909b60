"""The price list page: today's offer, the suggestion learned from sales (or market prices)
and the acceptance rate per model × storage × grade; a manager applies one or all beyond a
threshold, and imports market resale prices. Writes go through workflows.actions.pricing."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backoffice.actions_ui import call_action
from workflows import actions
from workflows.errors import DomainError
from workflows.models import PriceChange, Product
from workflows.rules.permissions import Operation, allowed
from workflows.selectors.learning import GRADE_ANSWERS, pick_for_product, price_rows, window_start

MAX_UPLOAD_BYTES = 2 * 2**20


class MarketPriceUploadForm(forms.Form):
    file = forms.FileField(label=_("Market prices (CSV)"))


def price_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("workflows.view_product"):
        raise PermissionDenied
    if request.method == "POST":
        _post(request)
        return HttpResponseRedirect(request.get_full_path())
    query = request.GET.get("q", "").strip()[:80]
    show_all = request.GET.get("show") == "all"
    products = Product.objects.all()
    if query:
        products = products.filter(
            Q(device_model__name__icontains=query) | Q(device_model__make__name__icontains=query)
        )
    rows = price_rows(products)
    if not show_all:
        rows = [r for r in rows if r.suggestion is not None or r.sent]
    threshold = Decimal(settings.PRICING_APPLY_THRESHOLD_PERCENT)
    context = {
        **admin.site.each_context(request),
        "title": _("Price list: offers that learn"),
        "rows": rows,
        "query": query,
        "show_all": show_all,
        "threshold": threshold,
        "beyond": len(pick_for_product(rows, threshold)),
        "can_apply": allowed(request.user, Operation.APPLY_PRICE_SUGGESTION),
        "can_import": allowed(request.user, Operation.IMPORT_MARKET_PRICES),
        "upload_form": MarketPriceUploadForm(),
        "history": PriceChange.objects.select_related("product__device_model__make", "actor")[:15],
        "window_days": settings.PRICING_WINDOW_DAYS,
        "since": window_start(),
        "min_sales": settings.PRICING_MIN_SALES,
        "margin": settings.PRICING_TARGET_MARGIN_PERCENT,
        "refurbishment": sorted(settings.PRICING_REFURBISHMENT.items()),
        "grade_answers": GRADE_ANSWERS,
    }
    return TemplateResponse(request, "backoffice/price_list.html", context)


def _post(request: HttpRequest) -> None:
    step = request.POST.get("step")
    if step == "apply":
        product = Product.objects.filter(pk=request.POST.get("product") or 0).first()
        if product is None:
            messages.error(request, _("That product does not exist."))
            return
        seen = _decimal(request.POST.get("seen_offer"))
        change = call_action(
            request,
            actions.price_suggestion_apply,
            actor=request.user,
            product=product,
            grade=request.POST.get("grade", ""),
            seen_offer=seen,
            success=_("Price list updated."),
        )
        if change:
            messages.info(
                request,
                _("%(product)s: base price %(old)s → %(new)s (%(basis)s).")
                % {
                    "product": product,
                    "old": change.old_price,
                    "new": change.new_price,
                    "basis": change.basis,
                },
            )
    elif step == "apply_all":
        threshold = _decimal(request.POST.get("threshold"))
        if threshold is None:
            messages.error(request, _("The threshold is a percentage, like 5."))
            return
        try:
            changes = actions.price_suggestions_apply_all(actor=request.user, threshold=threshold)
        except DomainError as exc:
            messages.error(request, exc.message)
            return
        messages.success(
            request,
            ngettext(
                "%(n)d price changed (suggestions more than %(t)s%% away).",
                "%(n)d prices changed (suggestions more than %(t)s%% away).",
                len(changes),
            )
            % {"n": len(changes), "t": threshold},
        )
    elif step == "import":
        form = MarketPriceUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, _("Choose a CSV file to import."))
            return
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            messages.error(request, _("The file is larger than 2 MB: split it."))
            return
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            messages.error(request, _("Nothing was imported: the file is not UTF-8 text (CSV)."))
            return
        imported = call_action(
            request,
            actions.market_prices_import,
            actor=request.user,
            text=text,
            success=_("Market prices imported."),
        )
        if imported:
            messages.info(request, _("%d rows imported.") % imported)
    else:
        messages.error(request, _("Unknown request."))


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value not in (None, "") else None
    except InvalidOperation:
        return None
