"""`manage.py check` refuses timeouts that would send one email twice; `--deploy` warns
about the demo ID encryption key."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register()
def timeouts_nest(app_configs=None, **kwargs) -> list[Error]:
    from workflows.tasks.outbox import LEASE

    task = settings.Q_CLUSTER["timeout"]
    mail = (getattr(settings, "EMAIL_TIMEOUT", None) or 0) + settings.EMAIL_DATA_TIMEOUT
    errors = []
    if mail >= task:
        errors.append(
            Error(
                f"EMAIL_TIMEOUT + EMAIL_DATA_TIMEOUT ({mail} s) must be shorter than the task "
                f"timeout Q_TIMEOUT ({task} s): a send still waiting for the server's answer "
                "would be killed and sent again.",
                id="workflows.E001",
            )
        )
    if task >= LEASE.total_seconds():
        errors.append(
            Error(
                f"Q_TIMEOUT ({task} s) must be shorter than the outbox lease "
                f"({LEASE.total_seconds():.0f} s): a second worker would claim a side effect "
                "the first is still running.",
                id="workflows.E002",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def demo_id_key(app_configs, **kwargs) -> list[Warning]:
    from workflows.crypto import uses_demo_key

    if not uses_demo_key():
        return []
    return [
        Warning(
            "ID_ENCRYPTION_KEYS holds the public demo key: sellers' ID numbers would be "
            "readable by anyone with this repository.",
            hint="Set ID_ENCRYPTION_KEYS to a key of your own (docs/compliance.md).",
            id="workflows.W001",
        )
    ]
