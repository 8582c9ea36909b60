"""The Content-Security-Policy on every page (django-csp), one policy with one exception.

Scripts come only from this site. The buyer's camera scanner compiles its zxing WebAssembly
('wasm-unsafe-eval', which allows WebAssembly and nothing else). The staff dashboard is Unfold,
whose Alpine.js evaluates its x-data/x-on expressions with new Function(): the dashboard's
pages alone also get 'unsafe-eval'. Styles may be inline (Unfold writes its theme colours in a
<style> block and uses style attributes); no page loads anything from another site.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts

STAFF_PREFIX = "/dashboard/"


class SiteCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(STAFF_PREFIX) and parts.update is None:
            parts.update = {"script-src": ["'unsafe-eval'"]}
        return parts
