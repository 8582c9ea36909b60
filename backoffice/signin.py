"""The dashboard sign-in, throttled by django-axes.

Failures are counted per username *and* client address together (AXES_LOCKOUT_PARAMETERS), so
someone guessing the manager's password from elsewhere locks only their own address out, never
the manager at the shop. Usernames are counted as Django compares them (NFKC, so a full-width
"ｍａｎａｇｅｒ" is "manager"), and each attempt for one username and address waits for the
previous one to be counted, so a burst of parallel guesses gets no more tries than one by one.
A coarser per-address limit (django-ratelimit) slows one address trying many usernames.
"""

from __future__ import annotations

import hashlib
import unicodedata

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import is_ratelimited
from unfold.forms import AuthenticationForm

LOCKED = _("Too many failed sign-ins. Wait a few minutes, then try again.")


def login_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The name axes counts: NFKC as Django's username field makes it, and case-folded."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    return unicodedata.normalize("NFKC", get_user_model().normalize_username(raw or "")).casefold()


def login_client_ip(request: HttpRequest) -> str | None:
    """The address the buyer form's rate limit uses too (a proxy's header when configured);
    None when there is none (axes stores it in an inet column on PostgreSQL)."""
    return request.META.get(settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR") or None


def axes_client_ip(request: HttpRequest) -> str | None:
    """The address axes records, or None when the request has none (Django's own login()
    after a successful sign-in passes a bare request): on PostgreSQL axes keeps addresses in
    an inet column, which refuses a placeholder like "unknown"."""
    address = login_client_ip(request)
    return None if address == "unknown" else address


def login_locked_out(request: HttpRequest, response: HttpResponse | None, credentials=None):
    """axes' lockout answer: the sign-in page itself, with the form's message, as 429."""
    if response is None:
        response = HttpResponse(str(LOCKED), content_type="text/plain; charset=utf-8")
    response.status_code = 429
    return response


def _serialize_attempts(request: HttpRequest, username: str) -> None:
    """Hold a lock for this username and address until the attempt is counted (the end of
    the surrounding transaction). SQLite already runs one writing transaction at a time."""
    if connection.vendor == "postgresql":
        key = f"signin:{username}:{login_client_ip(request) or ''}"
        lock_id = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id - (1 << 63)])


class ThrottledLoginForm(AuthenticationForm):
    def _ip_limited(self, *, increment: bool) -> bool:
        return is_ratelimited(
            self.request,
            group="login-ip",
            key="ip",
            rate=settings.LOGIN_FAILURES_PER_IP,
            method="POST",
            increment=increment,
        )

    def clean(self) -> dict:
        if self.request is None:
            return super().clean()
        if self._ip_limited(increment=False):
            raise forms.ValidationError(LOCKED, code="throttled")
        error = None
        # The counting happens in axes' signal handlers inside authenticate(): the lock and
        # the transaction cover the check, the password test and the count together, and a
        # failure is kept (raised after the block, so the transaction commits).
        with transaction.atomic():
            _serialize_attempts(self.request, login_username(self.request))
            try:
                return super().clean()
            except forms.ValidationError as exc:
                error = exc
        self._ip_limited(increment=True)
        if getattr(self.request, "axes_locked_out", False):
            raise forms.ValidationError(LOCKED, code="throttled")
        raise error
