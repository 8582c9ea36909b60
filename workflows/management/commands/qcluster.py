"""django-q2's qcluster, stopping cleanly and promptly on SIGTERM (and Ctrl-C).

On the signal every worker is told (workflows.tasks.outbox.STOPPING) to finish the side
effect it is in and start no other; the rest stay pending in the outbox for the sweep after
the restart. Should an outside call still hang after SHUTDOWN_GRACE seconds, the workers
are killed: their rows stay leased and are retried when the lease ends (an email with the
same Message-ID), so nothing is lost either way. (`workflows` comes before `django_q` in
INSTALLED_APPS so this command is the one `manage.py qcluster` runs.)
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from django.conf import settings
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as QclusterCommand

from workflows.tasks.heartbeat import start_heartbeat
from workflows.tasks.outbox import STOPPING

# Together with the time to stop the pusher and monitor, well inside the 10 s that process
# managers (docker stop, Kubernetes' default is 30 s) wait before they kill.
SHUTDOWN_GRACE = 7.0


def _descendants(pid: int) -> list[int]:
    """Child processes, grandchildren first (Linux /proc; psutil is not a dependency)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat:
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))

    def below(parent: int) -> list[int]:
        return [pid for child in children.get(parent, []) for pid in [*below(child), child]]

    return below(pid)


class GracefulCluster(Cluster):
    def sig_handler(self, signum, frame) -> None:
        STOPPING.set()
        timer = threading.Timer(SHUTDOWN_GRACE, self._kill_stragglers)
        timer.daemon = True
        timer.start()
        super().sig_handler(signum, frame)
        timer.cancel()

    def _kill_stragglers(self) -> None:
        for pid in _descendants(os.getpid()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Command(QclusterCommand):
    def handle(self, *args, **options) -> None:
        # django-q2's own handle(), with our Cluster.
        settings.SECRET_KEY  # noqa: B018 (signing needs it: fail now, not in a worker)
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        cluster = GracefulCluster()
        cluster.start()
        # /readyz's "worker seen" (backoffice.health): beats while the sentinel runs.
        start_heartbeat(cluster.sentinel)
        if options.get("run_once", False):
            cluster.stop()
