"""The benchmarks' own plumbing (`make bench`): their throwaway databases can always be dropped."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from workflows.models import TradeIn

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="only PostgreSQL refuses to drop a database another session is on",
    ),
]


def other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_the_sessions_another_thread_left_open_are_ended_before_the_drop():
    """`bench staff` stopped on PostgreSQL with "database … is being accessed by other users":
    a request thread of the live server still held its (persistent) connection when the
    throwaway database was dropped. The teardown now ends every other session first."""
    from bench.data import close_other_sessions

    opened, finish = threading.Event(), threading.Event()

    def request_thread() -> None:  # as the live server's: a query, the connection kept
        TradeIn.objects.exists()
        opened.set()
        finish.wait(30)

    thread = threading.Thread(target=request_thread)
    thread.start()
    try:
        assert opened.wait(30)
        assert other_sessions() >= 1
        close_other_sessions()
        assert other_sessions() == 0
    finally:
        finish.set()
        thread.join(30)
    assert TradeIn.objects.count() == 0  # this thread's connection opens again as usual
    connections.close_all()
