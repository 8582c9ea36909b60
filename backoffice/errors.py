"""Errors that reach someone: Sentry, when SENTRY_DSN is set (off by default).

What is sent gets the same redaction as the logs (backoffice.redaction): every string in the
event (message, exception values, the request's URL, query and body, breadcrumbs, stack frame
variables) goes through redact(), values of the secret query parameters (q, imei, email, token,
code, password...) are dropped whole, and nothing personal is collected (no cookies, no user, no
client address: `data_collection` below, what send_default_pii=False meant). Performance
tracing stays off: errors only.
"""

from __future__ import annotations

from typing import Any

from backoffice.redaction import SECRET_PARAMS, redact

REDACTED = "[redacted]"


def scrub(value: Any, key: str | None = None) -> Any:
    """The value with every string redacted, recursively; secret fields dropped whole."""
    if key is not None and key.lower() in SECRET_PARAMS:
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: scrub(v, k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def before_send(event: dict, hint: dict) -> dict:
    return scrub(event)


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    return scrub(crumb)


def init_sentry(dsn: str, *, environment: str = "", release: str = "") -> None:
    # Only when SENTRY_DSN is set: the SDK's Django integration takes ~1 s to import.
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration()],
        # What send_default_pii=False collects (that option is deprecated for this one), and
        # less: no user, no cookies, no client-address headers, no SQL parameters.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {
                "request": {
                    "mode": "denylist",
                    "terms": ["forwarded", "-ip", "remote-", "via", "-user", "cookie"],
                }
            },
            "database_query_data": False,
            "queues": False,
            "gen_ai": {"inputs": False, "outputs": False},
            "graphql": {"document": False, "variables": False},
        },
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        traces_sample_rate=0,
        max_request_body_size="small",
    )
