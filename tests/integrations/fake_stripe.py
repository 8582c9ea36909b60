"""A loopback server that speaks the part of Stripe's API we use, the way Stripe documents it.

Every request is first held against Stripe's published API (tests/integrations/provider_spec.py:
the path and method in spec3.json, the form-encoded parameters against the pinned
stripe-python's params, with their types, enums, required and deprecated fields); one that does
not conform gets Stripe's 400 `{"error": {...}}` and does nothing. Answers are Stripe's own
object shapes from fixtures3.json with this server's ids and values on top.

Form-encoded requests, bearer key, JSON answers and errors (`{"error": {...}}`), and
idempotency: the first answer to an `Idempotency-Key` is saved and replayed for every retry
with that key. It counts what it created per key, so a test can prove nobody was paid twice.
A test can make it drop the next answer (the work is done, the caller never hears back),
answer slowly, or answer with an error or with garbage.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.integrations import provider_spec
from tests.integrations.provider_spec import decode_form, stripe_fixture

KEY = "sk_test_loopback"
# Calls that create something must carry an Idempotency-Key: our rule (a retry must never
# create a second account or pay twice), checked here so a request without one fails a test.
NEEDS_IDEMPOTENCY_KEY = {("POST", "/v1/accounts"), ("POST", "/v1/transfers")}


class FakeStripe:
    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.saved: dict[str, tuple[int, bytes]] = {}  # idempotency key -> first answer
        self.created_per_key: Counter[str] = Counter()
        self.requests: list[tuple[str, str, str]] = []  # method, path, idempotency key
        self.params: list[tuple[str, str, dict[str, Any], str]] = []  # ..., Stripe-Account
        self.refused: list[tuple[str, str, list[str]]] = []
        self.refusals_expected = False
        # Bank payouts on connected accounts: payout id -> (account, transfer ids it carried)
        self.bank_payouts: dict[str, tuple[str, list[str]]] = {}
        # What to do to the next requests, in order: "drop", ("slow", seconds),
        # ("status", code, body bytes). Injected trouble happens before any work is done,
        # except "drop" and "slow", which do the work and then lose or delay the answer.
        self.trouble: list[Any] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.port = 0
        self.running = False
        provider_spec.warm()
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        """Listen (again, on the same port after `down()`), keeping everything Stripe knows."""
        self.server = _Server(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        # A short poll interval: going down (and the fixture's teardown) takes no half second.
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.running = True

    def down(self) -> None:
        """An outage: the port stops listening (connection refused) until `up()`."""
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.running = False

    def stop(self) -> None:
        self.down()

    def transfers_for(self, key: str) -> int:
        return self.created_per_key[key]

    def finish_onboarding(self, account_id: str) -> dict[str, Any]:
        account = self.accounts[account_id]
        account.update(details_submitted=True, payouts_enabled=True, charges_enabled=True)
        return account

    def bank_payout(self, account_id: str, transfer_ids: list[str]) -> dict[str, Any]:
        """The connected account's bank payout carrying these transfers (Stripe makes these on
        its own schedule); returns the payout object its `payout.*` webhooks carry."""
        po = f"po_{next(self._ids):06d}"
        self.bank_payouts[po] = (account_id, list(transfer_ids))
        amount = sum(self.transfers[t]["amount"] for t in transfer_ids)
        return stripe_fixture("payout", id=po, amount=amount, livemode=False)

    def assert_nothing_refused(self) -> None:
        assert self.refusals_expected or not self.refused, (
            f"the fake Stripe refused requests Stripe would refuse: {self.refused}"
        )

    # --- the API -------------------------------------------------------------------------------
    def _route(
        self, method: str, path: str, params: dict[str, Any], on_behalf: str
    ) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/accounts":
            acct = f"acct_{next(self._ids):06d}"
            self.accounts[acct] = stripe_fixture(
                "account",
                id=acct,
                email=params.get("email"),
                country=params.get("country"),
                business_type=params.get("business_type"),
                controller=params.get("controller") or {"type": "account"},
                tos_acceptance=params.get("tos_acceptance") or {},
                details_submitted=False,
                payouts_enabled=False,
                charges_enabled=False,
                metadata=params.get("metadata") or {},
            )
            return 200, self.accounts[acct]
        if method == "GET" and path.startswith("/v1/accounts/"):
            account = self.accounts.get(path.rsplit("/", 1)[1])
            return (200, account) if account else _error(404, "No such account")
        if method == "POST" and path == "/v1/account_links":
            if params.get("account") not in self.accounts:
                return _error(400, "No such account", param="account")
            return 200, stripe_fixture(
                "account_link",
                url=f"{self.url}/setup/{params['account']}",
                expires_at=int(time.time()) + 300,
                created=int(time.time()),
            )
        if method == "POST" and path == "/v1/transfers":
            destination = params.get("destination")
            if destination not in self.accounts:
                return _error(400, f"No such destination: '{destination}'", param="destination")
            if not self.accounts[destination]["payouts_enabled"]:
                return _error(
                    400,
                    "The destination account needs to have the transfers capability enabled.",
                    code="insufficient_capabilities",
                )
            n = next(self._ids)
            tr = f"tr_{n:06d}"
            self.transfers[tr] = stripe_fixture(
                "transfer",
                id=tr,
                amount=params["amount"],
                currency=params["currency"],
                destination=destination,
                destination_payment=f"py_{n:06d}",
                transfer_group=params.get("transfer_group"),
                amount_reversed=0,
                metadata=params.get("metadata") or {},
                created=int(time.time()),
            )
            return 200, self.transfers[tr]
        if method == "GET" and path == "/v1/transfers":
            group = params.get("transfer_group")
            data = [
                t for t in self.transfers.values() if group is None or t["transfer_group"] == group
            ]
            return 200, _list("/v1/transfers", data[: params.get("limit", 10)])
        if method == "GET" and path == "/v1/balance_transactions":
            return self._balance_transactions(params, on_behalf)
        if method == "GET" and path == "/v1/balance":
            return 200, stripe_fixture("balance", livemode=False)
        return _error(404, f"Unrecognized request URL ({method}: {path})")

    def _balance_transactions(
        self, params: dict[str, Any], on_behalf: str
    ) -> tuple[int, dict[str, Any]]:
        """A bank payout's balance transactions, read on the connected account: one `payment`
        per transfer it carried (source: the transfer's `py_` payment on that account)."""
        payout = params.get("payout")
        if payout not in self.bank_payouts:
            return _error(404, f"No such payout: '{payout}'", param="payout")
        account, transfer_ids = self.bank_payouts[payout]
        if on_behalf != account:
            # A platform-side read (no Stripe-Account header) never sees another account's payout.
            return _error(404, f"No such payout: '{payout}'", param="payout")
        expand = set(params.get("expand") or [])
        data = []
        for tr in transfer_ids:
            transfer = self.transfers[tr]
            payment = transfer["destination_payment"]
            source: Any = payment
            if "data.source" in expand:
                source = {"id": payment, "object": "charge", "source_transfer": tr}
            data.append(
                stripe_fixture(
                    "balance_transaction",
                    id=f"txn_{payment[3:]}",
                    amount=transfer["amount"],
                    net=transfer["amount"],
                    currency=transfer["currency"],
                    type="payment",
                    reporting_category="charge",
                    source=source,
                )
            )
        limit = params.get("limit", 10)
        return 200, _list("/v1/balance_transactions", data[:limit], has_more=len(data) > limit)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                key = self.headers.get("Idempotency-Key", "")
                on_behalf = self.headers.get("Stripe-Account", "")
                with fake._lock:
                    fake.requests.append((self.command, parts.path, key))
                    trouble = fake.trouble.pop(0) if fake.trouble else None
                if isinstance(trouble, tuple) and trouble[0] == "status":
                    return self._send(trouble[1], trouble[2])
                request = provider_spec.Request(
                    method=self.command,
                    path=parts.path,
                    query=parts.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                status, problems = provider_spec.stripe_problems(request, key=KEY)
                if not problems and (self.command, parts.path) in NEEDS_IDEMPOTENCY_KEY:
                    if not key:
                        status, problems = 400, ["an Idempotency-Key header is required here"]
                if problems:
                    with fake._lock:
                        fake.refused.append((self.command, parts.path, problems))
                    return self._send(*_encode((status, _refusal(status, problems))))
                raw = parts.query if self.command == "GET" else body.decode()
                schema = _schema_for(self.command, parts.path)
                params = provider_spec.coerce(decode_form(raw), schema, schema["definitions"])
                with fake._lock:
                    fake.params.append((self.command, parts.path, params, on_behalf))
                    if key and key in fake.saved:
                        status, answer = fake.saved[key]
                    else:
                        status, answer = _encode(
                            fake._route(self.command, parts.path, params, on_behalf)
                        )
                        if key:
                            fake.saved[key] = (status, answer)
                            if status == 200:
                                fake.created_per_key[key] += 1
                if trouble == "drop":
                    self.close_connection = True  # the work is done; the answer is lost
                    return None
                if isinstance(trouble, tuple) and trouble[0] == "slow":
                    time.sleep(trouble[1])
                return self._send(status, answer)

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

        return Handler


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that stopped waiting (the slow answers) is what the test wanted


def _error(status: int, message: str, **extra: str) -> tuple[int, dict[str, Any]]:
    return status, provider_spec.stripe_error(message, **extra)


def _refusal(status: int, problems: list[str]) -> dict[str, Any]:
    return provider_spec.stripe_error("; ".join(problems)[:1000])


def _list(url: str, data: list[dict[str, Any]], *, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _schema_for(method: str, path: str) -> dict[str, Any]:
    _, table = provider_spec._stripe_spec()
    route, _, _ = provider_spec.match(table, method, path)
    name = provider_spec._stripe_operations()[(method, route.template)]
    return provider_spec.stripe_params_schema(name)


def _encode(answer: tuple[int, dict[str, Any]]) -> tuple[int, bytes]:
    return answer[0], json.dumps(answer[1]).encode()


def signed(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe computes it (HMAC-SHA256 of "t.payload")."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"
