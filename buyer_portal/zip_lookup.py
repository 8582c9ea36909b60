"""City and state for a ZIP, from the offline table: the buyer types five digits, not three
fields. Nothing leaves the machine (workflows.rules.addresses)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from workflows.rules.addresses import lookup_zip


@require_GET
@cache_control(public=True, max_age=86400)
def zip_lookup(request: HttpRequest) -> JsonResponse:
    found = lookup_zip(request.GET.get("zip", ""))
    if found is None:
        return JsonResponse({"found": False}, status=404)
    city, state = found
    return JsonResponse({"found": True, "city": city, "state": state})
