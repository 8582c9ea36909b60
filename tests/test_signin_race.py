"""A burst of parallel guesses gets no more password tests than the limit (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import User
from django.db import connection, connections
from django.test import Client

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need PostgreSQL; set DATABASE_URL to run them",
    ),
]


class CountingHasher(MD5PasswordHasher):
    """Counts how many passwords were really tested, and takes a while like a real hash."""

    algorithm = "counting_md5"
    tested = 0
    lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with self.lock:
            type(self).tested += 1
        time.sleep(0.05)
        return super().verify(password, encoded)


def test_a_burst_of_guesses_gets_at_most_the_limit_of_password_tests(settings):
    settings.PASSWORD_HASHERS = ["tests.test_signin_race.CountingHasher"]
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURES_PER_IP = "1000/15m"  # only axes' per-user-and-address count here
    User.objects.create_user("manager", password="right-password-123", is_staff=True)
    CountingHasher.tested = 0
    barrier = threading.Barrier(30)
    statuses: list[int] = []

    def guess(i: int) -> None:
        try:
            client = Client()
            barrier.wait()
            response = client.post(
                "/dashboard/login/", {"username": "manager", "password": f"guess-{i}"}
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == 30
    assert CountingHasher.tested == 5
    # And the real manager, from the same address, is refused too until the cool-off.
    client = Client()
    client.post("/dashboard/login/", {"username": "manager", "password": "right-password-123"})
    assert "_auth_user_id" not in client.session
    assert CountingHasher.tested == 5
