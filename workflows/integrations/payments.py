"""Paying buyers by bank transfer: Stripe Connect.

`get_provider()` returns `StripePayouts` when `STRIPE_SECRET_KEY` is set, else `DemoPayouts`
for the embedded demo, which pays nobody and says so.

With Stripe (stripe-python's `StripeClient`), each buyer gets a connected account described by
its `controller` properties (Express Dashboard, the platform pays the fees and carries the
losses, Stripe collects the requirements: what the deprecated `type=express` meant); an account
in another country than the platform's gets the `recipient` service agreement, which
cross-border payouts require. The buyer finishes Stripe's hosted onboarding from a link we
email, and we then send the money with a transfer (`POST /v1/transfers`) whose idempotency key
is `payout-<id>`: a retry after a lost answer gets Stripe's first answer back instead of paying
twice.

Stripe tells us what happened later through signed webhooks from two endpoints (see
`parse_webhook`): the platform's own (`transfer.*`, signed with `STRIPE_WEBHOOK_SECRET`) and the
Connect endpoint for events of connected accounts (`account.updated`, `payout.*`, signed with
`STRIPE_CONNECT_WEBHOOK_SECRET`). An event whose `livemode` is not the key's mode is ignored.

Over 400 lines on purpose: the provider interface, Stripe's client and the demo provider sit
together so the two implementations can be read side by side.
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

    def mode_mismatch(self, event: dict[str, Any]) -> str: ...

    def transfers_in_bank_payout(self, *, account_id: str, payout_id: str) -> list[str]: ...


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

    def mode_mismatch(self, event: dict[str, Any]) -> str:
        return ""

    def transfers_in_bank_payout(self, *, account_id: str, payout_id: str) -> list[str]:
        return []


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
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        base_url: str,
        timeout: float,
        connect_webhook_secret: str = "",
        platform_country: str = "US",
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
        self.connect_webhook_secret = connect_webhook_secret
        self.platform_country = platform_country.upper()
        # sk_live_/rk_live_ keys move real money; sk_test_/rk_test_ keys never do.
        self.livemode = "_live_" in secret_key[:8]

    def _call(self, request: Callable[[], Any], *required: str) -> dict[str, Any]:
        try:
            return _data(request(), *required)
        except stripe.StripeError as exc:
            raise _translate(exc) from None

    def create_account(self, *, email: str, country: str, idempotency_key: str) -> str:
        params: dict[str, Any] = {
            # What `type=express` meant, in the properties Stripe asks for instead.
            "controller": {
                "fees": {"payer": "application"},
                "losses": {"payments": "application"},
                "requirement_collection": "stripe",
                "stripe_dashboard": {"type": "express"},
            },
            "email": email,
            "country": country.upper(),
            "capabilities": {"transfers": {"requested": True}},
            "business_type": "individual",
        }
        if country.upper() != self.platform_country:
            # Cross-border payouts: only the recipient agreement (transfers, no card payments).
            params["tos_acceptance"] = {"service_agreement": "recipient"}
        account = self._call(
            lambda: self.client.v1.accounts.create(
                params=params, options={"idempotency_key": idempotency_key}
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

    def transfers_in_bank_payout(self, *, account_id: str, payout_id: str) -> list[str]:
        """The transfers a connected account's bank payout carried: its balance transactions
        (`GET /v1/balance_transactions?payout=`, read on that account with the Stripe-Account
        header), each a payment whose source came from one of our transfers."""
        found: list[str] = []
        params: dict[str, Any] = {"payout": payout_id, "limit": 100, "expand": ["data.source"]}
        for _ in range(100):  # 10,000 transfers in one bank payout is more than a shop makes
            page = self._call(
                lambda asked=params: self.client.v1.balance_transactions.list(
                    params=asked, options={"stripe_account": account_id}
                )
            )
            rows = [row for row in page.get("data") or [] if isinstance(row, dict)]
            for row in rows:
                source = row.get("source")
                transfer = source.get("source_transfer") if isinstance(source, dict) else None
                if isinstance(transfer, dict):
                    transfer = transfer.get("id")
                if isinstance(transfer, str) and transfer:
                    found.append(transfer)
            if not page.get("has_more") or not rows:
                break
            params = {**params, "starting_after": rows[-1]["id"]}
        return found

    def parse_webhook(self, payload: bytes, signature: str) -> dict[str, Any]:
        """A verified event from either endpoint. An event of a connected account (it names
        the `account`) must be signed with the Connect endpoint's secret, any other with the
        platform endpoint's: a leaked secret of one endpoint cannot forge the other's events."""
        secrets = [
            (secret, connect)
            for secret, connect in (
                (self.webhook_secret, False),
                (self.connect_webhook_secret, True),
            )
            if secret
        ]
        if not secrets:
            raise WebhookRejected(
                "neither STRIPE_WEBHOOK_SECRET nor STRIPE_CONNECT_WEBHOOK_SECRET is set"
            )
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookRejected("the body is not UTF-8") from None
        signed_by: list[bool] = []
        last_error = ""
        for secret, connect in secrets:
            try:
                stripe.WebhookSignature.verify_header(
                    text, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE
                )
                signed_by.append(connect)
            except stripe.SignatureVerificationError as exc:
                last_error = str(exc.user_message or exc)
        if not signed_by:
            raise WebhookRejected(f"bad Stripe-Signature: {last_error}")
        try:
            event = json.loads(text)
        except ValueError:
            raise WebhookRejected("the body is not JSON") from None
        if not (
            isinstance(event, dict)
            and isinstance(event.get("id"), str)
            and isinstance(event.get("type"), str)
            and isinstance((event.get("data") or {}).get("object"), dict)
        ):
            raise WebhookRejected("the body is not a Stripe event")
        of_connected_account = bool(event.get("account"))
        if of_connected_account not in signed_by:
            which = "Connect" if of_connected_account else "platform"
            raise WebhookRejected(
                f"{event['type']} {'of' if of_connected_account else 'without'} a connected "
                f"account must be signed with the {which} endpoint's secret"
            )
        return event

    def mode_mismatch(self, event: dict[str, Any]) -> str:
        """Why this event must not change anything here ("" when it may): a test-mode event
        never touches a live payout, nor a live event a test one."""
        event_live = event.get("livemode")
        if not isinstance(event_live, bool):
            return "the event does not say whether it is live"
        if event_live != self.livemode:
            return (
                f"a {'live' if event_live else 'test'}-mode event, but the key is "
                f"{'live' if self.livemode else 'test'}-mode"
            )
        return ""


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
            connect_webhook_secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET,
            base_url=settings.STRIPE_API_BASE,
            timeout=settings.STRIPE_TIMEOUT,
            platform_country=settings.STRIPE_PLATFORM_COUNTRY,
        )
    return DemoPayouts()
