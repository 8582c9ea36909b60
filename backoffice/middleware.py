"""Requests no page of ours can use are refused before any view sees them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


class RejectNulMiddleware:
    """A NUL character in the path, the query or a form field gets 400, on every URL.

    No text a person types contains one, PostgreSQL refuses to store or compare one (a 500 from
    every search and every text field), and Django's form fields already refuse them one field
    at a time: this closes the places that are not a form field (search boxes, filters, ids).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            return HttpResponseBadRequest(
                "The request contains a NUL character, which no field accepts.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path_info:
        return True
    forms = [request.GET, request.POST] if request.method == "POST" else [request.GET]
    for data in forms:
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return True
    return False
