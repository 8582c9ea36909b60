"""A loopback server that speaks the part of Stripe's API we use, the way Stripe documents it.

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
from urllib.parse import parse_qsl, urlsplit

KEY = "sk_test_loopback"


class FakeStripe:
    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.saved: dict[str, tuple[int, bytes]] = {}  # idempotency key -> first answer
        self.created_per_key: Counter[str] = Counter()
        self.requests: list[tuple[str, str, str]] = []  # method, path, idempotency key
        # What to do to the next requests, in order: "drop", ("slow", seconds),
        # ("status", code, body bytes). Injected trouble happens before any work is done,
        # except "drop" and "slow", which do the work and then lose or delay the answer.
        self.trouble: list[Any] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.port = 0
        self.running = False
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

    # --- the API -------------------------------------------------------------------------------
    def _route(
        self, method: str, path: str, params: dict[str, str], query: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/accounts":
            acct = f"acct_{next(self._ids):06d}"
            self.accounts[acct] = {
                "id": acct,
                "object": "account",
                "type": params.get("type"),
                "email": params.get("email"),
                "country": params.get("country"),
                "details_submitted": False,
                "payouts_enabled": False,
                "charges_enabled": False,
            }
            return 200, self.accounts[acct]
        if method == "GET" and path.startswith("/v1/accounts/"):
            account = self.accounts.get(path.rsplit("/", 1)[1])
            return (200, account) if account else _error(404, "No such account")
        if method == "POST" and path == "/v1/account_links":
            if params.get("account") not in self.accounts:
                return _error(400, "No such account", param="account")
            return 200, {
                "object": "account_link",
                "url": f"{self.url}/setup/{params['account']}",
                "expires_at": int(time.time()) + 300,
                "params": params,
            }
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
            tr = f"tr_{next(self._ids):06d}"
            self.transfers[tr] = {
                "id": tr,
                "object": "transfer",
                "amount": int(params["amount"]),
                "currency": params["currency"],
                "destination": destination,
                "transfer_group": params.get("transfer_group"),
                "amount_reversed": 0,
                "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            }
            return 200, self.transfers[tr]
        if method == "GET" and path == "/v1/transfers":
            group = query.get("transfer_group")
            data = [
                t for t in self.transfers.values() if group is None or t["transfer_group"] == group
            ]
            return 200, {
                "object": "list",
                "data": data[: int(query.get("limit", 10))],
                "has_more": False,
                "url": "/v1/transfers",
            }
        if method == "GET" and path == "/v1/balance":
            return 200, {
                "object": "balance",
                "livemode": False,
                "available": [{"amount": 100000, "currency": "usd"}],
            }
        return _error(404, f"Unrecognized request URL ({method}: {path})")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(parse_qsl(self.rfile.read(length).decode()))
                query = dict(parse_qsl(parts.query))
                key = self.headers.get("Idempotency-Key", "")
                with fake._lock:
                    fake.requests.append((self.command, parts.path, key))
                    trouble = fake.trouble.pop(0) if fake.trouble else None
                if isinstance(trouble, tuple) and trouble[0] == "status":
                    return self._send(trouble[1], trouble[2])
                if self.headers.get("Authorization") != f"Bearer {KEY}":
                    return self._send(*_encode(_error(401, "Invalid API Key provided")))
                with fake._lock:
                    if key and key in fake.saved:
                        status, body = fake.saved[key]
                    else:
                        status, body = _encode(fake._route(self.command, parts.path, params, query))
                        if key:
                            fake.saved[key] = (status, body)
                            if status == 200:
                                fake.created_per_key[key] += 1
                if trouble == "drop":
                    self.close_connection = True  # the work is done; the answer is lost
                    return None
                if isinstance(trouble, tuple) and trouble[0] == "slow":
                    time.sleep(trouble[1])
                return self._send(status, body)

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
    return status, {"error": {"type": "invalid_request_error", "message": message, **extra}}


def _encode(answer: tuple[int, dict[str, Any]]) -> tuple[int, bytes]:
    return answer[0], json.dumps(answer[1]).encode()


def signed(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe computes it (HMAC-SHA256 of "t.payload")."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"
