"""Loopback HTTP servers that refuse what the real service would refuse.

Each is pytest-httpserver (the test says what to answer) with one step in front: the request is
held against the provider's published spec (tests/integrations/provider_spec.py) and, when it
does not conform, answered with the provider's own error shape and status instead of reaching
the test's handler. `refused` lists what was turned away; the fixtures fail a test whose
client sent a request the provider would refuse, unless the test expected it.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.integrations import provider_spec


def as_request(request: Request) -> provider_spec.Request:
    return provider_spec.Request(
        method=request.method,
        path=request.path,
        query=request.query_string.decode(),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.get_data(),
    )


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class SpecServer(HTTPServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("threaded", True)
        super().__init__(host=host, port=port, **kwargs)
        self.refused: list[tuple[str, str, list[str]]] = []  # method, path, problems
        self.refusals_expected = False
        # Requests as they arrive (`log` has them only once answered: a slow answer is late).
        self.arrivals: list[tuple[str, str]] = []
        provider_spec.warm()

    def application(self, request: Request) -> Response:
        self.arrivals.append((request.method, request.path))
        return super().application(request)

    def check(self, request: provider_spec.Request) -> tuple[int, Any, list[str]] | None:
        """(status, error body, problems) when the provider would refuse it; else None."""
        return None

    def dispatch(self, request: Request) -> Response:
        if self._readiness_check_pending:
            return super().dispatch(request)
        refusal = self.check(as_request(request))
        if refusal is not None:
            status, body, problems = refusal
            self.refused.append((request.method, request.path, problems))
            return json_response(body, status)
        return super().dispatch(request)

    def assert_nothing_refused(self) -> None:
        assert self.refusals_expected or not self.refused, (
            f"the loopback server refused requests the real service would refuse: {self.refused}"
        )


class ShipEngineServer(SpecServer):
    """api.shipengine.com: every request held against ShipEngine's OpenAPI document."""

    def check(self, request: provider_spec.Request) -> tuple[int, Any, list[str]] | None:
        if request.path.startswith("/v1/downloads/"):
            return None  # label files: plain downloads, not part of the API document
        problems = provider_spec.shipengine_problems(request)
        if not problems:
            return None
        status = 401 if any("API-Key header" in p for p in problems) else 400
        if any("no such path" in p or "the spec documents" in p for p in problems):
            status = 404
        return status, provider_spec.shipengine_error(problems, status=status), problems

    def validates_addresses(self, status: str = "verified", **corrections: str) -> list[Any]:
        """Answer `POST /v1/addresses/validate` as ShipEngine does (the spec's example answer):
        the address `status`, matched with `corrections` applied; returns the bodies sent."""
        sent: list[Any] = []

        def validate(request: Request) -> Response:
            addresses = request.get_json()
            sent.append(addresses)
            results = []
            for address in addresses:
                result = provider_spec.shipengine_example("/v1/addresses/validate", "post")[0]
                original = {**dict.fromkeys(result["original_address"]), **address}
                result.update(
                    status=status,
                    original_address=original,
                    matched_address=None if status == "error" else {**original, **corrections},
                    messages=[]
                    if status == "verified"
                    else [
                        {
                            "code": "a1004",
                            "message": "Address not found" if status == "error" else "Unit added",
                            "type": "error" if status == "error" else "warning",
                            "detail_code": "address_not_found"
                            if status == "error"
                            else "suite_missing",
                        }
                    ],
                )
                results.append(result)
            return json_response(results)

        self.expect_request("/v1/addresses/validate", method="POST").respond_with_handler(validate)
        return sent


class ImeiCheckServer(SpecServer):
    """api.imeicheck.net: every request held against its documented API."""

    def check(self, request: provider_spec.Request) -> tuple[int, Any, list[str]] | None:
        status, body = provider_spec.imeicheck_problems(request)
        if body is None:
            return None
        return status, body, [str(body.get("message"))]
