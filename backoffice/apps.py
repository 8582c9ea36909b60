from django.apps import AppConfig
from django.core import checks
from django.db import DatabaseError


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Back office"

    def ready(self) -> None:
        from backoffice import (
            money_display,
            twostep,  # noqa: F401  (its sign-in signal receiver)
        )

        money_display.install()

        checks.register(demo_totp_secret_in_use, checks.Tags.security, deploy=True)


def demo_totp_secret_in_use(app_configs=None, **kwargs) -> list:
    """The demo's second-step secret is public: no real deployment may keep an account on it."""
    # Imported when the check runs: this module is loaded before any model can be.
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from backoffice.management.commands.demo_totp import DEMO_TOTP_KEY

    try:
        users = list(
            TOTPDevice.objects.filter(key=DEMO_TOTP_KEY).values_list("user__username", flat=True)
        )
    except DatabaseError:
        return []
    if not users:
        return []
    return [
        checks.Error(
            f"Accounts {', '.join(sorted(users))} use the demo's public two-step secret.",
            hint="Run `manage.py two_step_reset NAME` for each; they enrol again at sign-in.",
            id="backoffice.E001",
        )
    ]
