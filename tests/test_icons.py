"""Yes/no badges say Yes / No / Unknown in the page's text; the icon's ligature word
("check_small", "close_small") is CSS-generated content, never text."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils.html import strip_tags

from workflows.models import DeviceModel


def test_a_yes_no_column_reads_as_words_not_icon_names(admin_client, product):
    DeviceModel.objects.filter(pk=product.device_model.pk).update(is_active=False)
    page = admin_client.get(reverse("admin:workflows_devicemodel_changelist")).content.decode()
    text = strip_tags(page)
    assert not re.search(r"\b(check_small|close_small|question_mark)\b", text)
    assert re.search(r"\bNo\b", text)
    assert 'data-icon="close_small"' in page
