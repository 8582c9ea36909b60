"""A sign-in whose request carries no address (Django's own login() after a successful
authenticate hands axes a bare request) must not crash: on PostgreSQL axes stores the
address in an inet column, which refused the placeholder "unknown" (HTTP 500 on every
sign-in through the test client, and in any code path without REMOTE_ADDR)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.test import Client

from backoffice.signin import axes_client_ip


def test_it_signs_in_through_a_request_without_an_address(db):
    User.objects.create_user("clerk", password="pw-12345", is_staff=True)
    assert Client().login(request=HttpRequest(), username="clerk", password="pw-12345")


def test_axes_gets_no_address_rather_than_a_word(db):
    bare = HttpRequest()
    assert axes_client_ip(bare) is None
    bare.META["REMOTE_ADDR"] = "192.0.2.7"
    assert axes_client_ip(bare) == "192.0.2.7"
