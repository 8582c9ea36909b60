from __future__ import annotations

from django import template

from workflows import formatting

register = template.Library()
register.filter("money", formatting.money)
register.filter("when", formatting.when)
