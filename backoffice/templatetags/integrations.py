"""`{% integrations_status %}`: the dashboard card saying which outside systems are live."""

from __future__ import annotations

from django import template

from workflows.integrations.status import configured

register = template.Library()


@register.inclusion_tag("backoffice/_integrations.html")
def integrations_status() -> dict:
    return {"integrations": configured()}
