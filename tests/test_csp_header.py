"""The Content-Security-Policy header, built once per process (backoffice/csp.py), is still the
site's policy, follows the settings, and yields to anything particular to one response."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import RequestFactory

from backoffice.csp import SiteCSPMiddleware


def respond(path: str, **attrs) -> HttpResponse:
    def view(request):
        response = HttpResponse("ok")
        for name, value in attrs.items():
            setattr(response, name, value)
        return response

    return SiteCSPMiddleware(view)(RequestFactory().get(path))


def test_the_buyer_and_staff_policies(settings):
    buyer = respond("/trade-in/")["Content-Security-Policy"]
    staff = respond("/dashboard/trade-ins/")["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in buyer and "'unsafe-eval'" not in buyer
    assert "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'" in staff
    assert respond("/trade-in/")["Content-Security-Policy"] == buyer  # the same, built once


def test_a_changed_setting_changes_the_header(settings):
    respond("/trade-in/")
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert respond("/trade-in/")["Content-Security-Policy"] == "default-src 'none'"


def test_a_response_with_its_own_policy_keeps_it():
    update = respond("/trade-in/", _csp_update={"img-src": ["https://img.example"]})
    assert "img-src 'self' data: https://img.example" in update["Content-Security-Policy"]
    assert "Content-Security-Policy" not in respond("/trade-in/", _csp_exempt=True)
