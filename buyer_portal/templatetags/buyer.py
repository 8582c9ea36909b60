from __future__ import annotations

from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.templatetags.static import static

from workflows import formatting

register = template.Library()


# The one money format (workflows.formatting): $1,250.00 here as in emails and the back office.
register.filter("money", formatting.money)


@register.simple_tag
def built_static(path: str) -> str:
    """The URL of a static file that may not have been built (the scanner's vendor files come
    from npm, which a deploy may not have): "" when it is not there, instead of the 500 that
    {% static %} raises for a name missing from collectstatic's manifest."""
    if isinstance(staticfiles_storage, ManifestFilesMixin):
        present = staticfiles_storage.clean_name(path) in staticfiles_storage.hashed_files
    else:
        present = finders.find(path)
    return static(path) if present else ""


@register.simple_tag
def site_name() -> str:
    return settings.SITE_NAME


@register.filter
def masked_email(email: str) -> str:
    """ad…@example.com: enough for the buyer to recognise, not to read off a forwarded link
    (the confirmation and status pages open from a link, not a login)."""
    local, _at, domain = str(email).partition("@")
    return f"{local[:2]}…@{domain}" if domain else "…"
