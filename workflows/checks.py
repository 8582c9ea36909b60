"""`manage.py check` refuses timeouts that would send one email twice."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


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
