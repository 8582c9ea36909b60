"""What can go wrong talking to an outside service, and one `requests` call that sorts it out.

Every client raises one of two errors, and the outbox (workflows.tasks) treats them alike for
every service:

- `TemporaryError`: no answer, a timeout, a 429 or 5xx, or a reply that is not what the
  documented API sends. Retrying later may work, so the work is retried with backoff (at least
  `retry_after` seconds later when the service said so).
- `ProviderRefused`: the service understood and said no (a 4xx with its error body). The same
  request will get the same answer, so it is not retried; a person has to fix something first.

`safe` is a short description without personal data, for the log; `str(exc)` is the full
reason, for the timeline that staff read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests


class IntegrationError(Exception):
    def __init__(self, message: str, *, safe: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.safe = safe or message
        self.status = status


class TemporaryError(IntegrationError):
    def __init__(
        self,
        message: str,
        *,
        safe: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, safe=safe, status=status)
        self.retry_after = retry_after


class BadResponse(TemporaryError):
    """The service answered with something its documented API never sends."""


class ProviderRefused(IntegrationError):
    pass


def _retry_after(response: requests.Response) -> float | None:
    # Only the delay-seconds form; an HTTP date is rare and the backoff covers it.
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 24 * 3600 else None


def parse_json(response: requests.Response, service: str) -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        raise BadResponse(
            f"{service} answered HTTP {response.status_code} with {kind} instead of JSON: "
            f"{response.text[:200]!r}",
            safe=f"{service}: HTTP {response.status_code}, not JSON ({kind})",
            status=response.status_code,
        ) from None


def json_object(response: requests.Response, service: str) -> dict[str, Any]:
    body = parse_json(response, service)
    if not isinstance(body, dict):
        raise BadResponse(
            f"{service} answered with JSON that is not an object: {str(body)[:200]}",
            safe=f"{service}: JSON is not an object",
            status=response.status_code,
        )
    return body


def call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    service: str,
    timeout: float,
    refusal: Callable[[Any], str],
    **kwargs: Any,
) -> requests.Response:
    """One HTTP call; returns a 2xx response or raises TemporaryError / ProviderRefused.

    `refusal` turns the service's documented 4xx error body into the sentence staff see.
    """
    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout:
        raise TemporaryError(
            f"{service} did not answer within {timeout:g} s",
            safe=f"{service}: timeout after {timeout:g} s",
        ) from None
    except requests.RequestException as exc:
        raise TemporaryError(
            f"{service} could not be reached: {type(exc).__name__}",
            safe=f"{service}: {type(exc).__name__}",
        ) from None
    status = response.status_code
    if status == 429:
        retry_after = _retry_after(response)
        raise TemporaryError(
            f"{service} asked us to slow down (HTTP 429)"
            + (f"; retry after {retry_after:g} s" if retry_after is not None else ""),
            safe=f"{service}: HTTP 429",
            status=status,
            retry_after=retry_after,
        )
    if status >= 500:
        raise TemporaryError(
            f"{service} had a server error (HTTP {status}): {response.text[:200]!r}",
            safe=f"{service}: HTTP {status}",
            status=status,
            retry_after=_retry_after(response),
        )
    if status >= 400:
        try:
            reason = refusal(response.json())
        except Exception:  # an HTML error page or an undocumented body: show what we got
            reason = ""
        reason = reason or f"{response.text[:300]!r}"
        raise ProviderRefused(
            f"{service} refused (HTTP {status}): {reason}",
            safe=f"{service}: HTTP {status}",
            status=status,
        )
    if status < 200 or status >= 300:
        raise BadResponse(
            f"{service} answered with unexpected HTTP {status}",
            safe=f"{service}: HTTP {status}",
            status=status,
        )
    return response
