"""The Content-Security-Policy on every page (django-csp), one policy with one exception.

Scripts come only from this site. The buyer's camera scanner compiles its zxing WebAssembly
('wasm-unsafe-eval', which allows WebAssembly and nothing else). The staff dashboard is Unfold,
whose Alpine.js evaluates its x-data/x-on expressions with new Function(): the dashboard's
pages alone also get 'unsafe-eval'. Styles may be inline (Unfold writes its theme colours in a
<style> block and uses style attributes); no page loads anything from another site.

The two headers are built once (django-csp builds its header again for every response, a third
of a millisecond each) and built again when a test changes the settings.
"""

from __future__ import annotations

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

STAFF_PREFIX = "/dashboard/"
STAFF_UPDATE = {"script-src": ["'unsafe-eval'"]}
# Set on a response (by django-csp's decorators) or a request (a nonce): that one is built.
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
_built: dict[bool, str] = {}


@receiver(setting_changed)
def _forget(setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


def _policy(staff: bool) -> str:
    if staff not in _built:
        _built[staff] = build_policy(update=STAFF_UPDATE if staff else None)
    return _built[staff]


class SiteCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(STAFF_PREFIX) and parts.update is None:
            parts.update = STAFF_UPDATE
        return parts

    def process_response(self, request, response):
        """The site's policy as built once; anything particular to this response (a
        decorator's policy, a nonce, a report-only policy, a debug error page) as django-csp
        builds it."""
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _PER_RESPONSE)
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get(
                "EXCLUDE_URL_PREFIXES"
            )
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        policy = _policy(request.path_info.startswith(STAFF_PREFIX))
        if policy and HEADER not in response:
            response[HEADER] = policy
        # As django-csp does once the header is written: asking for a nonce now is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
