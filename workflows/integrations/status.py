"""Which provider each outside system uses now, and whether its credentials work.

The dashboard shows `configured()`; `manage.py check_integrations` calls `probe()` on each.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection

from workflows.integrations import imei, payments, shipping
from workflows.integrations.http import IntegrationError, ProviderRefused


@dataclass(frozen=True)
class Integration:
    system: str
    provider: str
    is_demo: bool
    demo_note: str = ""


def configured() -> list[Integration]:
    checker, shipper, payer = imei.get_provider(), shipping.get_provider(), payments.get_provider()
    email_live = bool(settings.EMAIL_HOST)
    return [
        Integration(
            "IMEI check",
            checker.name,
            checker.is_demo,
            "check digit + the shop's blocklist; set IMEI_CHECK_URL and IMEI_CHECK_API_KEY",
        ),
        Integration(
            "Shipping labels",
            shipper.name,
            shipper.is_demo,
            "SAMPLE PDF labels, no carrier; set SHIPENGINE_API_KEY",
        ),
        Integration(
            "Stripe payouts",
            payer.name,
            payer.is_demo,
            "no money moves; set STRIPE_SECRET_KEY and both webhook secrets",
        ),
        Integration(
            "Email",
            f"smtp {settings.EMAIL_HOST}" if email_live else "files",
            not email_live,
            f"written to {getattr(settings, 'EMAIL_FILE_PATH', '')}; set EMAIL_HOST",
        ),
    ]


def probe(integration: Integration) -> tuple[bool, str]:
    """Try the configured credentials once. (ok, what happened)."""
    if integration.system == "IMEI check" and bool(settings.IMEI_CHECK_URL) != bool(
        settings.IMEI_CHECK_API_KEY
    ):
        return False, "set both IMEI_CHECK_URL and IMEI_CHECK_API_KEY, or neither"
    if integration.is_demo:
        return True, f"offline demo provider ({integration.demo_note})"
    try:
        if integration.system == "IMEI check":
            checker = imei.get_provider()
            assert isinstance(checker, imei.HttpImeiProvider)
            account = checker.account()
            balance = account.get("balance")
            said = "key accepted" + (f"; balance {balance}" if balance is not None else "")
            try:
                return True, f"{said}; {checker.service_readiness()}"
            except ProviderRefused as exc:
                return False, f"{said}, but {exc}"
        if integration.system == "Shipping labels":
            provider = shipping.get_provider()
            assert isinstance(provider, shipping.ShipEngineProvider)  # not a demo: the live one
            try:
                # Labels can be bought only with one carrier account that offers the service.
                return True, f"key accepted; {provider.label_readiness()}"
            except ProviderRefused as exc:
                return False, f"labels cannot be bought: {exc}"
        if integration.system == "Stripe payouts":
            balance = payments.get_provider().balance()
            mode = "live" if balance.get("livemode") else "test"
            missing = [
                name
                for name in ("STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET")
                if not getattr(settings, name)
            ]
            if missing:
                return False, (
                    f"key accepted ({mode} mode), but {' and '.join(missing)} "
                    f"{'is' if len(missing) == 1 else 'are'} not set: see docs/providers.md, Stripe"
                )
            return True, f"key accepted ({mode} mode); both webhook secrets set"
        connection = get_connection(fail_silently=False)
        connection.open()
        connection.close()
        return True, "SMTP server accepted the connection" + (
            " and login" if settings.EMAIL_HOST_USER else ""
        )
    except IntegrationError as exc:
        return False, str(exc)
    except OSError as exc:  # SMTP: refused, timed out, TLS or authentication failure
        return False, f"{type(exc).__name__}: {exc}"
