from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def money(amount: Decimal | str | None) -> str:
    """$1,250 for whole amounts and $99.50 otherwise: buyers read prices, not ledgers."""
    if amount in (None, ""):
        return ""
    value = Decimal(amount)
    text = f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"
    return f"{settings.CURRENCY_SYMBOL}{intcomma(text)}"


@register.simple_tag
def site_name() -> str:
    return settings.SITE_NAME


@register.filter
def masked_email(email: str) -> str:
    """ad…@example.com: enough for the buyer to recognise, not to read off a forwarded link
    (the confirmation and status pages open from a link, not a login)."""
    local, _at, domain = str(email).partition("@")
    return f"{local[:2]}…@{domain}" if domain else "…"
