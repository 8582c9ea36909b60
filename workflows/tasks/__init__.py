"""django-q2 tasks: the side effects the actions scheduled, and the periodic sweeps.

Every side effect is an outbox row (workflows.models.SideEffect). The runner
(`workflows.tasks.outbox`) claims the row and calls its handler (`workflows.tasks.handlers`),
which talks to the outside service and then calls an action with the answer; the runner
records success or failure on the trade-in's timeline. A failure is retried with backoff by
the sweep (`workflows.tasks.sweeps`); nothing the person did is rolled back.

django-q2 stores task paths as text (queued tasks, and the schedules of migrations 0002 and
0007): `workflows.tasks.<name>` stays importable for each of them.
"""

from __future__ import annotations

from workflows.tasks.outbox import run_due_side_effects, run_side_effect, run_side_effects
from workflows.tasks.sweeps import (
    apply_revised_offer_defaults,
    cancel_unarrived_devices,
    expire_lapsed_quotes,
    poll_tracking,
)

__all__ = [
    "apply_revised_offer_defaults",
    "cancel_unarrived_devices",
    "expire_lapsed_quotes",
    "poll_tracking",
    "run_due_side_effects",
    "run_side_effect",
    "run_side_effects",
]
