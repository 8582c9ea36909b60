"""Every money field the admin shows (changelist cells, read-only fields, sections) reads as
workflows.formatting.money writes it: $195.00, as on the buyer's pages, in the emails and on
the receipt, instead of Django's bare 195.00.

Django and Unfold each call `display_for_field` from the module that imported it, so the one
wrapper is put in each of those modules at start-up (BackofficeConfig.ready). The list is
checked: a module that no longer imports the name stops the start-up instead of quietly going
back to 195.00 (and tests/test_email_format.py reads the pages).
"""

from __future__ import annotations

import importlib

from workflows.formatting import is_money_field, money

CALLERS = (
    "django.contrib.admin.helpers",
    "django.contrib.admin.templatetags.admin_list",
    "unfold.fields",
    "unfold.sections",
    "unfold.templatetags.unfold_list",
)


def install() -> None:
    for name in CALLERS:
        module = importlib.import_module(name)
        original = module.display_for_field
        if getattr(original, "shows_money", False):
            continue

        def display_for_field(value, field, empty_value_display, *args, _original=original):
            if value is not None and is_money_field(field):
                return money(value)
            return _original(value, field, empty_value_display, *args)

        display_for_field.shows_money = True
        module.display_for_field = display_for_field
