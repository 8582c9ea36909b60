"""Display helpers shared by the admin classes and the fast list template tag."""

from __future__ import annotations

import functools

from django.db import models
from django.utils.translation import get_language


@functools.cache
def _choice_labels(model: type[models.Model], field_name: str, language: str | None) -> dict:
    return {value: str(label) for value, label in model._meta.get_field(field_name).flatchoices}


def choice_label(obj: models.Model, field_name: str) -> str:
    """obj.get_<field>_display(), without Django rebuilding and translating every choice on
    each call (the queue calls it 300 times a page)."""
    value = getattr(obj, field_name)
    return _choice_labels(type(obj), field_name, get_language()).get(value, value)
