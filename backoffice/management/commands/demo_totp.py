"""The demo's second step: `manage.py demo_totp` prints the code the demo manager and admin
type after their password (or add DEMO_TOTP_SECRET to an authenticator app).

Only `seed_demo` gives an account this secret (give_demo_devices); it is public in this
repository, so `manage.py check --deploy` fails while any account still has it.
"""

from __future__ import annotations

import base64
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

# Demo data only, like the demo accounts' password.
DEMO_TOTP_SECRET = "TRADEINDEMOTOTPSECRETDEMOONLY234"
DEMO_TOTP_KEY = base64.b32decode(DEMO_TOTP_SECRET).hex()
DEMO_TOTP_USERS = ("manager", "admin")


def give_demo_devices() -> None:
    """The demo manager and admin enrolled with the demo secret (seed_demo only)."""
    for user in get_user_model().objects.filter(username__in=DEMO_TOTP_USERS):
        TOTPDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.create(user=user, name="Demo authenticator", key=DEMO_TOTP_KEY)


def demo_code(at: float | None = None) -> str:
    totp = TOTP(bytes.fromhex(DEMO_TOTP_KEY))
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


class Command(BaseCommand):
    help = "Print the demo accounts' current two-step code (demo data only)."

    def handle(self, *args, **options) -> None:
        if not TOTPDevice.objects.filter(key=DEMO_TOTP_KEY).exists():
            raise CommandError("No account has the demo secret: run `manage.py seed_demo` first.")
        left = 30 - int(time.time()) % 30
        self.stdout.write(f"{demo_code()}  (valid {left} s more; manager and admin)")
