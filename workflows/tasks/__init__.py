"""django-q2 tasks: the side effects the actions scheduled, and the periodic sweeps.

Every side effect is an outbox row (workflows.models.SideEffect). The runner
(`workflows.tasks.outbox`) claims the row and calls its handler (`workflows.tasks.handlers`),
which talks to the outside service and then calls an action with the answer; the runner
records success or failure on the trade-in's timeline. A failure is retried with backoff by
the sweep (`workflows.tasks.sweeps`); nothing the person did is rolled back.

django-q2 stores task paths as text (queued tasks, and the schedules of migrations 0002, 0007,
0011, 0029 and 0032): `workflows.tasks.<name>` stays importable for each of them. The compliance
work (police report, retention sweep) is in `workflows.tasks.compliance`; the counter's IMEI
check while the customer waits and its abandon sweep in `workflows.tasks.counter`.
"""

from __future__ import annotations

from workflows.tasks.compliance import anonymise_expired_records, send_police_reports
from workflows.tasks.counter import abandon_stale_counter_buybacks
from workflows.tasks.outbox import run_due_side_effects, run_side_effect, run_side_effects
from workflows.tasks.sweeps import (
    apply_revised_offer_defaults,
    cancel_unarrived_devices,
    expire_lapsed_quotes,
    poll_tracking,
)

__all__ = [
    "abandon_stale_counter_buybacks",
    "anonymise_expired_records",
    "apply_revised_offer_defaults",
    "cancel_unarrived_devices",
    "expire_lapsed_quotes",
    "poll_tracking",
    "run_due_side_effects",
    "run_side_effect",
    "run_side_effects",
    "send_police_reports",
]
