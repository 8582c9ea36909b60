"""Paying buyers by bank transfer: Stripe Connect.

`get_provider()` returns `StripePayouts` when `STRIPE_SECRET_KEY` is set, else `DemoPayouts`
for the embedded demo, which pays nobody and says so.

With Stripe (stripe-python's `StripeClient`), each buyer gets an Express connected account;
the buyer finishes Stripe's hosted onboarding from a link we email, and we then send the
money with a transfer (`POST /v1/transfers`) whose idempotency key is `payout-<id>`: a retry
after a lost answer gets Stripe's first answer back instead of paying twice. Stripe tells us
what happened later through signed webhooks (see `parse_webhook`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import stripe
from django.conf import settings

from workflows.integrations.http import BadResponse, ProviderRefused, TemporaryError

SERVICE = "Stripe"
# Currencies Stripe counts in whole units (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}


class WebhookRejected(Exception):
    """A webhook we cannot trust or read; nothing is changed."""


@dataclass(frozen=True)
class ConnectedAccount:
    account_id: str
    payouts_enabled: bool
    details_submitted: bool


class PayoutProvider(Protocol):
    name: str
    is_demo: bool

    def create_account(self, *, email: str, country: str, idempotency_key: str) -> str: ...

    def retrieve_account(self, account_id: str) -> ConnectedAccount: ...

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str: ...

    def transfer(
        self,
        *,
        account_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: dict[str, str],
    ) -> str: ...

    def find_transfer(self, *, transfer_group: str) -> str | None: ...

    def parse_webhook(self, payload: bytes, signature: str) -> dict[str, Any]: ...


def minor_units(amount: Decimal, currency: str) -> int:
    if currency.lower() in ZERO_DECIMAL:
        return int(amount.to_integral_value())
    return int((amount * 100).to_integral_value())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class DemoPayouts:
    """Stands in for Stripe in the demo: the same steps, no money, and every id says demo."""

    name = "demo-payouts"
    is_demo = True

    def create_account(self, *, email: str, country: str, idempotency_key: str) -> str:
        return f"acct_demo_{_digest(email.lower())}"

    def retrieve_account(self, account_id: str) -> ConnectedAccount:
        # The demo onboarding page finishes onboarding itself; asking "is it done?" says no.
        return ConnectedAccount(account_id, payouts_enabled=False, details_submitted=False)

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        return refresh_url.rstrip("/") + "/demo/"

    def transfer(
        self,
        *,
        account_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: dict[str, str],
    ) -> str:
        return f"tr_demo_{_digest(idempotency_key)}"

    def find_transfer(self, *, transfer_group: str) -> str | None:
        return None

    def parse_webhook(self, payload: bytes, signature: str) -> dict[str, Any]:
        raise WebhookRejected("Stripe is not configured (demo payouts)")


def _translate(exc: stripe.StripeError) -> Exception:
    """Stripe's errors as ours: no answer and 429/5xx are temporary, the rest a refusal."""
    status = exc.http_status
    message = exc.user_message or str(exc) or type(exc).__name__
    if isinstance(exc, stripe.APIConnectionError):
        return TemporaryError(
            f"{SERVICE} did not answer: {message}", safe=f"{SERVICE}: {type(exc).__name__}"
        )
    if isinstance(exc, stripe.RateLimitError):
        retry_after = str((exc.headers or {}).get("Retry-After", ""))
        return TemporaryError(
            f"{SERVICE} asked us to slow down (HTTP 429): {message}",
            safe=f"{SERVICE}: HTTP 429",
            status=status,
            retry_after=float(retry_after) if retry_after.isdigit() else None,
        )
    if isinstance(exc, stripe.APIError):  # 5xx, or a body that is not Stripe's JSON
        cls = BadResponse if "Invalid response body" in str(exc) else TemporaryError
        return cls(
            f"{SERVICE} failed (HTTP {status}): {message[:300]}",
            safe=f"{SERVICE}: {type(exc).__name__} HTTP {status}",
            status=status,
        )
    code = f" [{exc.code}]" if exc.code else ""
    return ProviderRefused(
        f"{SERVICE} refused (HTTP {status}){code}: {message[:300]}",
        safe=f"{SERVICE}: {type(exc).__name__} HTTP {status}{code}",
        status=status,
    )


def _data(obj: Any, *required: str) -> dict[str, Any]:
    data = obj.to_dict() if hasattr(obj, "to_dict") else obj
    if not isinstance(data, dict) or any(not data.get(key) for key in required):
        raise BadResponse(
            f"{SERVICE} answered without {', '.join(required)}: {str(data)[:200]}",
            safe=f"{SERVICE}: answer without {', '.join(required)}",
        )
    return data


class StripePayouts:
    name = "stripe"
    is_demo = False

    def __init__(
        self, *, secret_key: str, webhook_secret: str, base_url: str, timeout: float
    ) -> None:
        base = {"api": base_url.rstrip("/")} if base_url else {}
        # Retries are the outbox's (visible on the timeline); the idempotency key makes them safe.
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses=base,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self.webhook_secret = webhook_secret

    def _call(self, request: Callable[[], Any], *required: str) -> dict[str, Any]:
        try:
            return _data(request(), *required)
        except stripe.StripeError as exc:
            raise _translate(exc) from None

    def create_account(self, *, email: str, country: str, idempotency_key: str) -> str:
        account = self._call(
            lambda: self.client.v1.accounts.create(
                params={
                    "type": "express",
                    "email": email,
                    "country": country,
                    "capabilities": {"transfers": {"requested": True}},
                    "business_type": "individual",
                },
                options={"idempotency_key": idempotency_key},
            ),
            "id",
        )
        return account["id"]

    def retrieve_account(self, account_id: str) -> ConnectedAccount:
        account = self._call(lambda: self.client.v1.accounts.retrieve(account_id), "id")
        return account_state(account)

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        link = self._call(
            lambda: self.client.v1.account_links.create(
                params={
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                }
            ),
            "url",
        )
        return link["url"]

    def transfer(
        self,
        *,
        account_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: dict[str, str],
    ) -> str:
        transfer = self._call(
            lambda: self.client.v1.transfers.create(
                params={
                    "amount": minor_units(amount, currency),
                    "currency": currency.lower(),
                    "destination": account_id,
                    "transfer_group": transfer_group,
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            ),
            "id",
        )
        return transfer["id"]

    def find_transfer(self, *, transfer_group: str) -> str | None:
        page = self._call(
            lambda: self.client.v1.transfers.list(
                params={"transfer_group": transfer_group, "limit": 1}
            )
        )
        found = [t for t in page.get("data") or [] if isinstance(t, dict) and t.get("id")]
        return found[0]["id"] if found else None

    def balance(self) -> dict[str, Any]:
        """`GET /v1/balance`: proves the key works."""
        return self._call(self.client.v1.balance.retrieve)

    def parse_webhook(self, payload: bytes, signature: str) -> dict[str, Any]:
        if not self.webhook_secret:
            raise WebhookRejected("STRIPE_WEBHOOK_SECRET is not set")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                signature,
                self.webhook_secret,
                stripe.Webhook.DEFAULT_TOLERANCE,
            )
            event = json.loads(payload)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"bad Stripe-Signature: {exc.user_message or exc}") from None
        except (UnicodeDecodeError, ValueError):
            raise WebhookRejected("the body is not JSON") from None
        if not (
            isinstance(event, dict)
            and isinstance(event.get("id"), str)
            and isinstance(event.get("type"), str)
            and isinstance((event.get("data") or {}).get("object"), dict)
        ):
            raise WebhookRejected("the body is not a Stripe event")
        return event


def account_state(account: dict[str, Any]) -> ConnectedAccount:
    return ConnectedAccount(
        account_id=str(account["id"]),
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
    )


def get_provider() -> PayoutProvider:
    if settings.STRIPE_SECRET_KEY:
        return StripePayouts(
            secret_key=settings.STRIPE_SECRET_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            base_url=settings.STRIPE_API_BASE,
            timeout=settings.STRIPE_TIMEOUT,
        )
    return DemoPayouts()
