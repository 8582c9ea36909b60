"""Try each configured outside system's credentials and say what works."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from workflows.integrations.status import configured, probe


class Command(BaseCommand):
    help = "Try the credentials of the IMEI service, ShipEngine, Stripe and SMTP; report each."

    def handle(self, *args, **options) -> None:
        failed = []
        for integration in configured():
            ok, message = probe(integration)
            kind = "demo" if integration.is_demo else "live"
            line = f"{integration.system:<16} {integration.provider:<22} {kind:<5} {message}"
            self.stdout.write(
                self.style.SUCCESS(f"OK    {line}") if ok else self.style.ERROR(f"FAIL  {line}")
            )
            if not ok:
                failed.append(integration.system)
        if failed:
            raise CommandError(f"Not working: {', '.join(failed)}")
