"""Two-step sign-in (django-otp): after the password, a code from an authenticator app.

Who must: `requires_two_step` (backoffice.roles), anyone who can reach money, ID numbers or
accounts (managers, admins). Staff may turn it on from their account page; whoever has a device
is asked for it at every sign-in.

The password form signs in as before. Until the second step is passed the session reaches only
the pages below (TwoStepMiddleware sends every other dashboard address here, and the admin site
refuses it too: BackofficeSite.has_permission). A manager or admin without a device enrols first:
a QR code and the secret, one code to confirm it, then ten recovery codes shown once (each works
once, in place of a code from the app). That first enrolment needs an enrolment link an admin
issued (the user's page, or `manage.py two_step_invite NAME`): the password alone does not let
someone who learnt it put their own phone on a manager's account. A link holds the new key's
device, is signed, lasts TWO_STEP_INVITE_HOURS and is void once used, re-issued or reset.

The lockout applies to both steps: a wrong code is a django-axes failure for the same username
and address as a wrong password, so LOGIN_FAILURE_LIMIT failures in all lock both steps, and the
count is cleared only when the whole sign-in succeeded (not by the password alone).

Over 400 lines on purpose: the whole second step (who is asked, the middleware, enrolment,
verification, recovery codes, invites) in one module, since each part guards the others.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import segno
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from unfold.widgets import UnfoldAdminTextInputWidget

from backoffice.roles import requires_two_step
from backoffice.signin import LOCKED, ThrottledLoginForm, _serialize_attempts, login_username

RECOVERY_CODES = 10
APP_DEVICE = "Authenticator app"
RECOVERY_DEVICE = "Recovery codes"
WRONG_CODE = _("That code is not right. Codes change every 30 seconds; a recovery code works once.")


# --- Who is asked ---------------------------------------------------------------------------


def has_app_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_step_pending(request: HttpRequest) -> bool:
    """Signed in with the password, and the second step is owed: required for the role, or
    turned on by this user. Computed once per request."""
    cached = getattr(request, "_second_step_pending", None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = bool(
            user is not None
            and user.is_authenticated
            and getattr(user, "otp_device", None) is None
            and (requires_two_step(user) or has_app_device(user))
        )
        request._second_step_pending = cached
    return cached


def _open_paths() -> tuple[str, ...]:
    return (
        reverse("admin:two_step_verify"),
        reverse("admin:login"),
        reverse("admin:logout"),
    )


class TwoStepMiddleware:
    """Every dashboard address but the second step's own pages, sign-in and sign-out sends a
    session that still owes the second step there (after django_otp's OTPMiddleware)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        dashboard = reverse("admin:index")
        path_info = request.path_info
        if (
            path_info.startswith(dashboard)
            and not path_info.startswith(_open_paths())
            and second_step_pending(request)
        ):
            step = "admin:two_step_verify"
            if not has_app_device(request.user):
                step = "admin:two_step_setup"
            return _step(step, request.get_full_path())
        return self.get_response(request)


def _step(url_name: str, next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        f"{reverse(url_name)}?{REDIRECT_FIELD_NAME}={quote(next_url, safe='/')}"
    )


# --- The lockout, shared with the password step ----------------------------------------------


def _credentials(user) -> dict:
    return {"username": user.get_username()}


def _locked(request: HttpRequest) -> bool:
    """Locked for this username and address (axes), or this address tried too many sign-ins
    whatever the usernames (LOGIN_FAILURES_PER_IP): as the password step."""
    if ThrottledLoginForm(request)._ip_limited(increment=False):
        return True
    return AxesProxyHandler.is_locked(request, _credentials(request.user))


def _count_failure(request: HttpRequest) -> None:
    """A wrong code counts like a wrong password (and locks both steps at the limit)."""
    user_login_failed.send(sender=__name__, credentials=_credentials(request.user), request=request)
    form = ThrottledLoginForm(request)
    form._ip_limited(increment=True)


def _clear_failures(request: HttpRequest, user) -> None:
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(request, _credentials(user))


@receiver(user_logged_in)
def _password_only_sign_in_done(sender, request, user, **kwargs) -> None:
    """Without a second step the password completes the sign-in: clear the failures (axes'
    own AXES_RESET_ON_SUCCESS is off, or the password alone would clear wrong codes)."""
    if request is not None and not (requires_two_step(user) or has_app_device(user)):
        _clear_failures(request, user)


def _signed_in(request: HttpRequest, device) -> None:
    otp_login(request, device)
    request.session.cycle_key()
    request._second_step_pending = False
    _clear_failures(request, request.user)


# --- Codes ---------------------------------------------------------------------------------------


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def match_code(user, code: str):
    """The device that accepts this code: six digits are the app's, anything else a recovery
    code (used up by matching). Rows locked, so one code cannot pass twice in parallel."""
    code = _normalised(code)
    if not code:
        return None
    model = TOTPDevice if (len(code) == 6 and code.isdigit()) else StaticDevice
    for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
        if device.verify_token(code):
            return device
    return None


def new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def otp_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it typed: base32 in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- Enrolment links -------------------------------------------------------------------------

INVITE_SALT = "backoffice.twostep.invite"
INVITED = "two_step_invited_device"  # session key: the device an enrolment link opened


def issue_invite(user, *, reset: bool = False) -> tuple[str, object]:
    """A new enrolment link for `user` and when it lapses. Any earlier link stops working (its
    unconfirmed device is removed); `reset` also removes the enrolled devices (a lost phone)."""
    with transaction.atomic():
        if reset:
            StaticDevice.objects.filter(user=user).delete()
            TOTPDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)
    token = signing.dumps([user.pk, device.pk, device.key[:12]], salt=INVITE_SALT)
    link = f"{settings.SITE_URL}{reverse('admin:two_step_setup')}?invite={token}"
    return link, timezone.now() + timezone.timedelta(hours=settings.TWO_STEP_INVITE_HOURS)


def invited_device(user, token: str) -> TOTPDevice | None:
    """The unconfirmed device an enrolment link for this user holds, if the link still works."""
    try:
        user_pk, device_pk, key = signing.loads(
            token, salt=INVITE_SALT, max_age=settings.TWO_STEP_INVITE_HOURS * 3600
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if user_pk != user.pk:
        return None
    device = TOTPDevice.objects.filter(pk=device_pk, user=user, confirmed=False).first()
    return device if device is not None and device.key[:12] == key else None


# --- Pages ---------------------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        widget=UnfoldAdminTextInputWidget(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _render(request: HttpRequest, template: str, status: int = 200, **context) -> HttpResponse:
    return TemplateResponse(
        request,
        f"backoffice/two_step/{template}.html",
        {
            **admin.site.each_context(request),
            "title": _("Two-step sign-in"),
            "next": _next(request),
            "next_field": REDIRECT_FIELD_NAME,
            **context,
        },
        status=status,
    )


def _signed_in_view(view):
    """The second step's pages: a password sign-in by a staff account, nothing else."""

    def wrapped(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return _step("admin:login", request.get_full_path())  # an enrolment link's too
        return view(request, *args, **kwargs)

    return never_cache(csrf_protect(sensitive_post_parameters("code")(wrapped)))


def _check_code(request: HttpRequest, form: CodeForm, check) -> object | None:
    """Run one code through `check` under the sign-in lockout; None (and the form's error, a
    counted failure) when it is wrong, LOCKED when the account and address are locked."""
    if not form.is_valid():
        return None
    if _locked(request):
        form.add_error(None, LOCKED)
        return LOCKED
    with transaction.atomic():
        _serialize_attempts(request, login_username(request, _credentials(request.user)))
        device = check(form.cleaned_data["code"])
        if device is None:
            _count_failure(request)
    if device is None:
        form.add_error(None, LOCKED if getattr(request, "axes_locked_out", False) else WRONG_CODE)
    return device


def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the app, or one recovery code."""
    if not second_step_pending(request):
        return redirect(_next(request))
    if not has_app_device(request.user):
        return _step("admin:two_step_setup", _next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        device = _check_code(request, form, lambda code: match_code(request.user, code))
        if device is LOCKED:
            return _render(request, "verify", status=429, form=form)
        if device is not None:
            _signed_in(request, device)
            return redirect(_next(request))
    return _render(request, "verify", form=form)


def setup(request: HttpRequest) -> HttpResponse:
    """Enrolment: a manager's or admin's first sign-in, through the enrolment link an admin
    issued, or a staff member turning it on from their account page (fully signed in).

    Someone who has only the password cannot enrol: not on an account that has a device (that
    session must pass the second step first), nor on one that owes its first enrolment (that
    needs the link, which the password does not give)."""
    user = request.user
    if has_app_device(user):
        if second_step_pending(request):
            return _step("admin:two_step_verify", _next(request))
        return redirect("admin:two_step_account")
    if second_step_pending(request):
        device = _invited(request)
        if device is None:
            return _render(request, "needs_invite", status=403)
    else:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST":

        def check(code: str):
            pending = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            code = _normalised(code)
            return pending if code.isdigit() and pending.verify_token(code) else None

        confirmed = _check_code(request, form, check)
        if confirmed is LOCKED:
            return _render(request, "setup", status=429, form=form, **_enrol_context(device))
        if confirmed is not None:
            confirmed.confirmed = True
            confirmed.save(update_fields=["confirmed"])
            codes = new_recovery_codes(user)
            _signed_in(request, confirmed)
            return _render(request, "recovery_codes", codes=codes)
    return _render(request, "setup", form=form, **_enrol_context(device))


def _invited(request: HttpRequest) -> TOTPDevice | None:
    """The device this session's enrolment link opened: from `?invite=` (then kept in the
    session, so the form can post), or None when there is no working link."""
    token = request.GET.get("invite")
    if token:
        device = invited_device(request.user, token)
        if device is not None:
            request.session[INVITED] = device.pk
        return device
    pk = request.session.get(INVITED)
    return TOTPDevice.objects.filter(pk=pk, user=request.user, confirmed=False).first()


def _enrol_context(device: TOTPDevice) -> dict:
    return {
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=4, border=2),
        "secret": otp_secret(device),
    }


def account(request: HttpRequest) -> HttpResponse:
    """Two-step sign-in on one's own account: on or off, new recovery codes."""
    user = request.user
    if second_step_pending(request):
        return redirect("admin:two_step_verify")
    enrolled = has_app_device(user)
    required = requires_two_step(user)
    if request.method == "POST" and enrolled:
        if request.POST.get("do") == "recovery":
            return _render(request, "recovery_codes", codes=new_recovery_codes(user))
        if request.POST.get("do") == "off" and not required:
            TOTPDevice.objects.filter(user=user).delete()
            StaticDevice.objects.filter(user=user).delete()
            return redirect("admin:two_step_account")
    remaining = StaticToken.objects.filter(device__user=user).count()
    return _render(
        request, "account", enrolled=enrolled, required=required, recovery_left=remaining
    )


def _may_invite(user) -> bool:
    return user.has_perm("auth.change_user")


@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, user_id: int) -> HttpResponse:
    """An admin issues an enrolment link for someone (shown once), or resets a lost phone."""
    if not _may_invite(request.user):
        raise PermissionDenied
    person = get_object_or_404(get_user_model(), pk=user_id)
    context = {
        "person": person,
        "enrolled": has_app_device(person),
        "title": _("Two-step sign-in for %(name)s") % {"name": person.get_username()},
        "hours": settings.TWO_STEP_INVITE_HOURS,
    }
    if request.method == "POST":
        reset = request.POST.get("do") == "reset"
        link, until = issue_invite(person, reset=reset)
        user_admin = admin.site._registry[get_user_model()]
        user_admin.log_change(
            request,
            person,
            "Two-step sign-in reset; enrolment link issued" if reset else "Enrolment link issued",
        )
        context.update(link=link, until=until, enrolled=has_app_device(person))
    return _render(request, "invite", **context)


def urls() -> list:
    return [
        path("two-step/", _signed_in_view(verify), name="two_step_verify"),
        path("two-step/setup/", _signed_in_view(setup), name="two_step_setup"),
        path("two-step/account/", _signed_in_view(account), name="two_step_account"),
    ]


def admin_urls(site) -> list:
    return [path("two-step/invite/<int:user_id>/", site.admin_view(invite), name="two_step_invite")]
