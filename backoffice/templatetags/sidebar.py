"""The sidebar's cache key: everything the rendered navigation depends on.

Unfold builds the sidebar on every page (permissions, active link, badges), a sixth of the
queue's time. The rendered links are kept per process for a minute under a key of the user,
their permissions, the page's path and every badge's current value, so a hit is always what
a fresh render would draw (backoffice/overrides/unfold/helpers/navigation.html).
"""

from __future__ import annotations

import hashlib

from django import template
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import get_language

register = template.Library()


def _badges() -> list[str]:
    """The dotted paths of every badge callback in the sidebar configuration."""
    paths = []
    for group in settings.UNFOLD["SIDEBAR"].get("navigation", []):
        for entry in (group, *group.get("items", [])):
            if isinstance(entry.get("badge"), str):
                paths.append(entry["badge"])
    return paths


@register.simple_tag(takes_context=True)
def sidebar_key(context) -> str:
    request = context["request"]
    user = request.user
    parts = [
        str(user.pk),
        str(user.is_superuser),
        request.path,
        get_language() or "",
        *sorted(user.get_all_permissions()),
        *(str(import_string(path)(request)) for path in _badges()),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
