"""Endpoints outside systems call. Each verifies the caller, then hands over to one action."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from workflows import actions
from workflows.integrations import payments
from workflows.integrations.http import ProviderRefused, TemporaryError

log = logging.getLogger("workflows")


@csrf_exempt  # Stripe cannot send our CSRF token; the Stripe-Signature header proves the sender
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Both Stripe endpoints (platform and Connect) post here; README says which sends what."""
    provider = payments.get_provider()
    try:
        event = provider.parse_webhook(request.body, request.headers.get("Stripe-Signature", ""))
    except payments.WebhookRejected as exc:
        log.warning("Stripe webhook rejected: %s", exc)
        return JsonResponse({"error": "rejected"}, status=400)
    mismatch = provider.mode_mismatch(event)
    if mismatch:
        # Answered 200: Stripe would otherwise resend it for days, and it must never apply.
        log.warning("Stripe webhook %s %s ignored: %s", event["type"], event["id"], mismatch)
        return JsonResponse({"received": True, "outcome": f"ignored: {mismatch}"})
    carried: list[str] | None = None
    if event["type"] in ("payout.paid", "payout.failed") and event.get("account"):
        try:
            # Which of our transfers this bank payout carried: only Stripe knows.
            carried = provider.transfers_in_bank_payout(
                account_id=str(event["account"]), payout_id=str(event["data"]["object"].get("id"))
            )
        except ProviderRefused as exc:
            log.warning("Stripe webhook %s: %s", event["id"], exc.safe)
            carried = []  # Stripe knows no such payout of that account: nothing of ours in it
        except TemporaryError as exc:
            log.warning("Stripe webhook %s: %s; Stripe will send it again", event["id"], exc.safe)
            return JsonResponse({"error": "try again"}, status=503)
    outcome = actions.stripe_event_apply(event=event, carried_transfers=carried)
    log.info("Stripe webhook %s %s: %s", event["type"], event["id"], outcome)
    return JsonResponse({"received": True, "outcome": outcome})
