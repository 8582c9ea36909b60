"""The counter: buy a phone from a customer standing at the desk (issue 21).

Start (customer, device and IMEI on one page; the IMEI check runs before the next page) →
inspection → offer → the customer page (the screen turned round: declaration, drawn
signature, or no) → payout → receipt; and the day's cash drawer. Each POST calls one action
(workflows.actions.counter_buyback); which step a buyback is at is asked of
workflows.rules.counter. Not backoffice/counter.py, which is the store-credit counter.
(Over 400 lines: the sitting's pages share their lookups and read best in the order staff
meet them.)
"""

from __future__ import annotations

import uuid
from datetime import date

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.actions import IdentityInput
from workflows.actions import counter_buyback as counter
from workflows.actions.compliance import DeclarationInput
from workflows.documents.receipts import purchase_receipt_pdf, receipt_filename
from workflows.errors import DomainError, NeedsConfirmation
from workflows.formatting import money
from workflows.models import (
    CashDrawer,
    CounterBuyback,
    IdType,
    Order,
    PayoutMethod,
    Product,
)
from workflows.rules import counter as rules
from workflows.rules.compliance import (
    declaration_text,
    identity_of,
    identity_required_before,
)
from workflows.rules.inspection import CHECKLIST
from workflows.rules.permissions import Operation, allowed
from workflows.rules.redflags import red_flags
from workflows.tasks.counter import check_imei_now

PERMISSION = "workflows.buy_at_counter"
# "Everything as expected": the one-click inspection of a clean phone (staff vouch for it).
ALL_CLEAR = {
    "powers_on": "yes",
    "activation_lock": "off",
    "screen": "flawless",
    "body": "like_new",
    "battery": "good",
    "accessories": "complete",
}


def urls(site: admin.AdminSite) -> list:
    return [
        path("counter/", site.admin_view(counter_home), name="counter"),
        path("counter/start/", site.admin_view(counter_start), name="counter_start"),
        path("counter/<int:pk>/", site.admin_view(counter_buyback), name="counter_buyback"),
        path(
            "counter/<int:pk>/customer/",
            site.admin_view(counter_customer),
            name="counter_customer",
        ),
        path(
            "counter/<int:pk>/receipt.pdf", site.admin_view(counter_receipt), name="counter_receipt"
        ),
        path("counter/<int:pk>/step/", site.admin_view(counter_step), name="counter_step"),
    ]


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _context(request: HttpRequest, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _here(buyback: CounterBuyback) -> str:
    return reverse("admin:counter_buyback", args=[buyback.pk])


# --- the counter's home: the drawer and today's buybacks ---------------------------------------
class DrawerOpenForm(forms.Form):
    opening_float = forms.DecimalField(min_value=0, max_digits=10, decimal_places=2)


class DrawerCloseForm(forms.Form):
    counted = forms.DecimalField(min_value=0, max_digits=10, decimal_places=2)
    note = forms.CharField(required=False, max_length=500)


def counter_home(request: HttpRequest) -> HttpResponse:
    _require(request)
    drawer = CashDrawer.objects.filter(day=timezone.localdate()).first()
    close_form = DrawerCloseForm()
    if request.method == "POST":
        try:
            if request.POST.get("do") == "open_drawer":
                form = DrawerOpenForm(request.POST)
                if form.is_valid():
                    counter.cash_drawer_open(
                        actor=request.user, opening_float=form.cleaned_data["opening_float"]
                    )
                    messages.success(request, _("Today's drawer is open."))
                    return HttpResponseRedirect(reverse("admin:counter"))
                messages.error(request, _("Enter the opening float as an amount."))
            elif request.POST.get("do") == "close_drawer" and drawer is not None:
                close_form = DrawerCloseForm(request.POST)
                if close_form.is_valid():
                    counter.cash_drawer_close(
                        drawer=drawer,
                        actor=request.user,
                        counted=close_form.cleaned_data["counted"],
                        note=close_form.cleaned_data["note"],
                    )
                    messages.success(request, _("Today's drawer is closed."))
                    return HttpResponseRedirect(reverse("admin:counter"))
                messages.error(request, _("Enter the counted amount."))
        except DomainError as exc:
            messages.error(request, exc.message)
    today = timezone.localdate()
    buybacks = (
        CounterBuyback.objects.filter(started_at__date=today)
        .select_related(
            "trade_in__product__device_model__make", "trade_in__payout", "trade_in__order"
        )
        .order_by("-started_at")[:50]
    )
    rows = [(b, rules.counter_step(b)) for b in buybacks]
    return TemplateResponse(
        request,
        "backoffice/counter/home.html",
        _context(
            request,
            _("Counter"),
            drawer=drawer,
            expected=rules.drawer_expected(drawer) if drawer else None,
            paid_out=rules.drawer_paid_out(drawer) if drawer else None,
            close_form=close_form,
            rows=rows,
            abandonable=rules.ABANDONABLE,
            cash_limit=settings.COUNTER_CASH_LIMIT,
        ),
    )


# --- start: customer, device and IMEI on one page ---------------------------------------------
class StartForm(forms.Form):
    name = forms.CharField(max_length=120)
    email = forms.EmailField(required=False, max_length=254)
    phone = forms.CharField(required=False, max_length=30)
    device = forms.CharField(max_length=200)
    imei = forms.CharField(max_length=40)
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)


def _products() -> list[Product]:
    return list(
        Product.objects.filter(device_model__is_active=True)
        .select_related("device_model__make")
        .order_by("device_model__make__name", "device_model__name", "storage_gb")
    )


def _product_for(text: str, products: list[Product]) -> Product | None:
    """The catalog picker's choice: its exact label, or the one product whose label contains
    every typed word ("13 128" finds "Apple iPhone 13 128 GB")."""
    text = " ".join(text.split()).lower()
    exact = [p for p in products if str(p).lower() == text]
    if exact:
        return exact[0]
    # "iPhone 13 128" is the iPhone 13's, not the iPhone 13 Pro's: the label as typed first.
    started = [
        p for p in products if f"{p.device_model.name} {p.storage_label}".lower().startswith(text)
    ]
    if len(started) == 1:
        return started[0]
    words = text.split()
    found = [p for p in products if all(w in str(p).lower() for w in words)]
    return found[0] if len(found) == 1 else None


def _customers(query: str) -> list[dict]:
    """Returning customers by email, phone or name: their latest details, one row each."""
    query = query.strip()
    if len(query) < 2:
        return []
    digits = "".join(c for c in query if c.isdigit())
    match = Q(buyer_email__iexact=query) | Q(buyer_name__icontains=query)
    if len(digits) >= 4:
        match |= Q(buyer_phone__contains=digits)
    seen, found = set(), []
    # The details are the order's; an order's devices are anonymised together.
    for name, email, phone in (
        Order.objects.filter(match)
        .exclude(devices__anonymised_at__isnull=False)
        .order_by("-created_at")
        .values_list("buyer_name", "buyer_email", "buyer_phone")[:200]
    ):
        who = (email or name).lower()
        if who not in seen:
            seen.add(who)
            found.append({"name": name, "email": email, "phone": phone})
        if len(found) == 10:
            break
    return found


def counter_start(request: HttpRequest) -> HttpResponse:
    _require(request)
    products = _products()
    if request.method == "POST":
        form = StartForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            product = _product_for(data["device"], products)
            if product is None:
                form.add_error("device", _("Pick the device from the list."))
            else:
                try:
                    buyback = counter.counter_buyback_start(
                        actor=request.user,
                        customer=counter.Customer(
                            name=data["name"], email=data["email"], phone=data["phone"]
                        ),
                        product=product,
                        imei=data["imei"],
                        key=data["key"],
                    )
                except DomainError as exc:
                    form.add_error(None, exc.message)
                else:
                    # The customer waits: ask the IMEI service now, before any price.
                    check_imei_now(buyback.trade_in)
                    return HttpResponseRedirect(_here(buyback))
    else:
        form = StartForm(
            initial={
                "key": uuid.uuid4().hex,
                **{f: request.GET.get(f, "")[:120] for f in ("name", "email", "phone")},
            }
        )
    query = request.GET.get("q", "")[:120]
    first_empty = next(
        (f for f in ("name", "device", "imei") if not (form[f].value() or "").strip()), "imei"
    )
    return TemplateResponse(
        request,
        "backoffice/counter/start.html",
        _context(
            request,
            _("Start a buyback"),
            form=form,
            products=products,
            query=query,
            customers=_customers(query),
            autofocus=first_empty,
        ),
    )


# --- one buyback: the steps -------------------------------------------------------------------
def _buyback(pk: int) -> CounterBuyback:
    return get_object_or_404(
        CounterBuyback.objects.select_related(
            "trade_in__product__device_model__make", "trade_in__order"
        ),
        pk=pk,
    )


def _identity(post) -> IdentityInput | None:
    if not post.get("id_number"):
        return None

    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(post.get(name, ""))
        except ValueError:
            return None

    return IdentityInput(
        id_type=post.get("id_type", ""),
        id_number=post.get("id_number", ""),
        issuer=post.get("id_issuer", ""),
        birth_date=day("id_birth_date"),
        expires_on=day("id_expires_on"),
    )


def counter_buyback(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    buyback = _buyback(pk)
    extra: dict = {}
    if request.method == "POST":
        do = request.POST.get("do", "")
        try:
            response = _step_post(request, buyback, do, extra)
        except NeedsConfirmation as exc:
            extra["confirm"] = {"reason": exc.message, "amount": request.POST.get("amount", "")}
            response = None
        except DomainError as exc:
            messages.error(request, exc.message)
            response = (
                None if do in ("offer", "inspect", "pay") else HttpResponseRedirect(_here(buyback))
            )
        if response is not None:
            return response
        buyback = _buyback(pk)
    return _step_page(request, buyback, **extra)


def _step_post(request: HttpRequest, buyback: CounterBuyback, do: str, extra: dict):
    user, post = request.user, request.POST
    if do == "check_again":
        counter.counter_buyback_check_again(buyback=buyback, actor=user)
        check_imei_now(buyback.trade_in)
    elif do == "override":
        counter.counter_buyback_override(buyback=buyback, actor=user, reason=post.get("reason", ""))
    elif do == "inspect":
        if post.get("all_clear"):
            checklist, grade = ALL_CLEAR, "A"
        else:
            checklist = {item.key: post.get(item.key, "") for item in CHECKLIST}
            grade = post.get("grade", "")
        counter.counter_buyback_inspect(
            buyback=buyback,
            actor=user,
            checklist=checklist,
            grade=grade,
            notes=post.get("notes", ""),
        )
    elif do == "offer":
        counter.counter_buyback_offer(
            buyback=buyback,
            actor=user,
            amount=post.get("amount", ""),
            payout_method=post.get("payout_method", ""),
            confirmed_amount=post.get("confirmed_amount") or None,
            identity=_identity(post),
        )
        return HttpResponseRedirect(reverse("admin:counter_customer", args=[buyback.pk]))
    elif do == "pay":
        paid = counter.counter_buyback_pay(
            buyback=buyback, actor=user, check_number=post.get("check_number", "")
        )
        if paid.store_credit is not None:
            # Shown whole this once, for the receipt; never stored or shown again.
            extra["store_credit_code"] = paid.store_credit.code_for_buyer()
            return None
    elif do == "abandon":
        counter.counter_buyback_abandon(buyback=buyback, actor=user, reason=post.get("reason", ""))
        messages.success(request, _("Abandoned: nothing was bought."))
        return HttpResponseRedirect(reverse("admin:counter"))
    else:
        raise PermissionDenied
    return HttpResponseRedirect(_here(buyback))


def _step_page(request: HttpRequest, buyback: CounterBuyback, **extra) -> HttpResponse:
    trade_in = buyback.trade_in
    step = rules.counter_step(buyback)
    payout = getattr(trade_in, "payout", None)
    context = _context(
        request,
        f"{_('Counter')} {trade_in.reference}",
        buyback=buyback,
        t=trade_in,
        step=step,
        steps=rules.Step,
        check=trade_in.latest_imei_check(),
        flags=red_flags(trade_in) if step == rules.Step.STOPPED else [],
        can_override=allowed(request.user, Operation.OVERRIDE_RED_FLAG),
        checklist=CHECKLIST,
        grades=[("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")],
        methods=PayoutMethod.choices,
        needs_id=(identity_required_before("dropoff") or identity_required_before("payout"))
        and identity_of(trade_in) is None,
        id_types=IdType.choices,
        payout=payout,
        cash_over_limit=payout is not None
        and payout.method == PayoutMethod.CASH
        and rules.cash_needs_manager(payout.amount)
        and not allowed(request.user, Operation.PAY_CASH_OVER_LIMIT),
        drawer=CashDrawer.objects.filter(day=timezone.localdate(), closed_at__isnull=True).first(),
        abandonable=step in rules.ABANDONABLE,
        amount=(trade_in.offer_amount or trade_in.suggested_offer or ""),
        customer_url=request.build_absolute_uri(reverse("buyer_portal:counter_code")),
        **extra,
    )
    return TemplateResponse(request, "backoffice/counter/buyback.html", context)


# --- the customer page: the screen turned round -----------------------------------------------
def counter_customer(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    buyback = _buyback(pk)
    if request.method == "POST":
        try:
            if request.POST.get("do") == "decline":
                counter.counter_buyback_decline(buyback=buyback, actor=request.user)
                messages.info(request, _("The customer declined: nothing was bought."))
                return HttpResponseRedirect(reverse("admin:counter"))
            birth = request.POST.get("birth_date", "")
            counter.counter_buyback_accept(
                buyback=buyback,
                actor=request.user,
                declaration=DeclarationInput(
                    confirmed=request.POST.get("confirm") == "on",
                    wording=request.POST.get("wording", ""),
                    birth_date=date.fromisoformat(birth) if _iso(birth) else None,
                    ip=request.META.get("REMOTE_ADDR"),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                ),
                signature_png=rules.signature_bytes(request.POST.get("signature", "")),
            )
            return HttpResponseRedirect(_here(buyback))
        except DomainError as exc:
            messages.error(request, exc.message)
        buyback = _buyback(pk)
    step = rules.counter_step(buyback)
    if step != rules.Step.CUSTOMER:
        return HttpResponseRedirect(_here(buyback))
    return TemplateResponse(
        request,
        "workflows/counter_customer.html",
        {
            "buyback": buyback,
            "t": buyback.trade_in,
            "offer": money(buyback.trade_in.offer_amount),
            "method": buyback.trade_in.get_payout_method_display(),
            "wording": declaration_text(),
            "asks_birth_date": settings.DECLARATION_ASKS_BIRTH_DATE,
            "messages_list": messages.get_messages(request),
        },
    )


def counter_step(request: HttpRequest, pk: int) -> JsonResponse:
    """Where the buyback stands, for the staff screen waiting on the customer's own device
    (backoffice/static/backoffice/counter_wait.js reloads the page when it moves on)."""
    _require(request)
    return JsonResponse({"step": str(rules.counter_step(_buyback(pk)))})


def _iso(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def counter_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    trade_in = _buyback(pk).trade_in
    if not hasattr(trade_in, "payout"):
        raise PermissionDenied
    response = HttpResponse(purchase_receipt_pdf(trade_in), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{receipt_filename(trade_in)}"'
    return response
