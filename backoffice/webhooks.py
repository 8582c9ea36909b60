"""Endpoints outside systems call. Each verifies the caller, then hands over to one action."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from workflows import actions
from workflows.integrations import payments
from workflows.integrations.http import IntegrationError

log = logging.getLogger("workflows")


@csrf_exempt  # Stripe cannot send our CSRF token; the Stripe-Signature header proves the sender
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Both Stripe endpoints (platform and Connect) post here; docs/providers.md says which."""
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
        except IntegrationError as exc:
            # Refused (a rotated key), failed or silent: that is no answer, never "none of
            # ours". The event is kept and asked again from the outbox (answered 200: it is
            # ours to retry now, visible on the dashboard, not Stripe's to resend for 3 days).
            log.warning("Stripe webhook %s: %s; kept to ask again", event["id"], exc.safe)
            outcome = actions.stripe_bank_payout_keep(event=event, error=str(exc))
            return JsonResponse({"received": True, "outcome": outcome})
    outcome = actions.stripe_event_apply(event=event, carried_transfers=carried)
    log.info("Stripe webhook %s %s: %s", event["type"], event["id"], outcome)
    return JsonResponse({"received": True, "outcome": outcome})
