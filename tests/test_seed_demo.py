"""`make run`'s demo: loads once, runs twice without duplicates, and its books balance."""

from __future__ import annotations

from django.core.management import call_command
from django.test import Client

from tests.helpers import assert_books_balance
from workflows.models import Product, State, TradeIn


def test_it_seeds_the_demo_and_can_run_again(db):
    call_command("seed_demo")
    counts = (Product.objects.count(), TradeIn.objects.count())
    stock = sum(Product.objects.values_list("stock", flat=True))
    call_command("seed_demo")
    assert (Product.objects.count(), TradeIn.objects.count()) == counts
    assert sum(Product.objects.values_list("stock", flat=True)) == stock
    assert counts[0] >= 90 and Product.objects.values("device_model").distinct().count() >= 30
    states = set(TradeIn.objects.values_list("state", flat=True))
    assert {
        State.SUBMITTED,
        State.QUOTED,
        State.ACCEPTED,
        State.RECEIVED,
        State.CLOSED,
        State.DECLINED,
    } <= states
    assert TradeIn.objects.filter(imei_status="flagged").exists()
    for username in ("staff", "manager", "admin"):  # through the real, throttled sign-in form
        browser = Client()
        page = browser.post("/dashboard/login/", {"username": username, "password": "tradein-demo"})
        assert page.status_code == 302
        if username != "staff":  # the second step, with the code `manage.py demo_totp` prints
            from django_otp.plugins.otp_totp.models import TOTPDevice

            from tests.helpers import totp_code

            code = totp_code(TOTPDevice.objects.get(user__username=username))
            browser.post("/dashboard/two-step/", {"code": code})
        assert browser.get("/dashboard/").status_code == 200
    assert_books_balance()
