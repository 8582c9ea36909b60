"""Endpoints outside systems call. Each verifies the caller, then hands over to one action."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from workflows import actions
from workflows.integrations import payments

log = logging.getLogger("workflows")


@csrf_exempt  # Stripe cannot send our CSRF token; the Stripe-Signature header proves the sender
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = payments.get_provider().parse_webhook(
            request.body, request.headers.get("Stripe-Signature", "")
        )
    except payments.WebhookRejected as exc:
        log.warning("Stripe webhook rejected: %s", exc)
        return JsonResponse({"error": "rejected"}, status=400)
    outcome = actions.stripe_event_apply(event=event)
    log.info("Stripe webhook %s %s: %s", event["type"], event["id"], outcome)
    return JsonResponse({"received": True, "outcome": outcome})
