"""`manage.py check --deploy`: the demo ID encryption key must not reach production."""

from __future__ import annotations

from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def demo_id_key(app_configs, **kwargs) -> list[Warning]:
    from workflows.crypto import uses_demo_key

    if not uses_demo_key():
        return []
    return [
        Warning(
            "ID_ENCRYPTION_KEYS holds the public demo key: sellers' ID numbers would be "
            "readable by anyone with this repository.",
            hint="Set ID_ENCRYPTION_KEYS to a key of your own (README, Compliance).",
            id="workflows.W001",
        )
    ]
