"""Store-credit codes work like cash, so guessing them is throttled: wrong codes are counted
per staff login and per client address (STORE_CREDIT_CODE_FAILURES, e.g. "10/10m"), and once
either reaches the limit every code look-up (the counter, redeeming, the managers' search by
code) is refused with a message, without checking the code, until the window passes."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

THROTTLED = _(
    "Too many wrong store-credit codes from this login or this place: code look-ups are "
    "paused for a few minutes. Nothing was checked."
)
KEYS = (("store-credit-code:user", "user"), ("store-credit-code:ip", "ip"))


def _usage(request: HttpRequest, *, increment: bool) -> list[dict]:
    found = []
    for group, key in KEYS:
        usage = get_usage(
            request,
            group=group,
            key=key,
            rate=settings.STORE_CREDIT_CODE_FAILURES,
            increment=increment,
        )
        if usage is not None:  # None: the cache did not answer (RATELIMIT_FAIL_OPEN)
            found.append(usage)
    return found


def code_lookups_paused(request: HttpRequest) -> bool:
    """True once this login or this address typed the limit of wrong codes in the window."""
    return any(u["count"] >= u["limit"] for u in _usage(request, increment=False))


def count_wrong_code(request: HttpRequest) -> None:
    _usage(request, increment=True)
