"""A radio button's <input> without a template per button.

`{{ radio.tag }}` renders Django's input and attrs templates once per option; the intake
bench shows 17 checklist items of two to four options each after every scan, and those small
renders were most of what made a scan slower than before the checklist. `{{ radio|radio_input }}`
writes the same markup as django/forms/widgets/input.html and attrs.html, in the same order,
straight from the option Django already built.
"""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def radio_input(radio) -> SafeString:
    option = radio.data
    html = f'<input type="{escape(option["type"])}" name="{escape(option["name"])}"'
    if option["value"] is not None:
        html += f' value="{escape(str(option["value"]))}"'
    for name, value in option["attrs"].items():
        if value is True:
            html += f" {escape(name)}"
        elif value is not False:
            html += f' {escape(name)}="{escape(str(value))}"'
    return mark_safe(html + ">")
