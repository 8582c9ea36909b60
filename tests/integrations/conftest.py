"""Outside systems as real HTTP and SMTP servers on loopback, configured like production."""

from __future__ import annotations

import asyncio
import email
import socket

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from tests.integrations.fake_stripe import KEY, FakeStripe
from tests.integrations.loopback import ImeiCheckServer, ShipEngineServer
from workflows.models import SideEffect, SideEffectStatus

WEBHOOK_SECRET = "whsec_loopback"
CONNECT_WEBHOOK_SECRET = "whsec_loopback_connect"


@pytest.fixture
def imei_service(settings):
    """A loopback imeicheck.net (`/v1/checks`) that refuses what the real one would."""
    server = ImeiCheckServer()
    server.start()
    settings.IMEI_CHECK_URL = server.url_for("/").rstrip("/")
    settings.IMEI_CHECK_API_KEY = "imei-key"
    settings.IMEI_CHECK_SERVICE_ID = "12"
    settings.IMEI_CHECK_TIMEOUT = 0.5
    yield server
    server.clear()
    server.stop()
    server.assert_nothing_refused()


@pytest.fixture
def shipengine(settings):
    """A loopback api.shipengine.com that holds each request against ShipEngine's OpenAPI."""
    server = ShipEngineServer()
    server.start()
    settings.SHIPENGINE_API_KEY = "TEST_shipengine_key"
    settings.SHIPENGINE_BASE_URL = server.url_for("/").rstrip("/")
    settings.SHIPENGINE_CARRIER_ID = "se-123"
    settings.SHIPENGINE_TIMEOUT = 0.5
    # Addresses validate as they are unless a test answers otherwise (a oneshot goes first).
    server.address_checks = server.validates_addresses()
    yield server
    server.clear()
    server.stop()
    server.assert_nothing_refused()


@pytest.fixture
def stripe_server(settings):
    fake = FakeStripe()
    settings.STRIPE_SECRET_KEY = KEY
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_WEBHOOK_SECRET
    settings.STRIPE_TIMEOUT = 0.5
    yield fake
    fake.stop()
    fake.assert_nothing_refused()


def make_due() -> None:
    """Skip the backoff wait: every pending side effect is due now."""
    SideEffect.objects.filter(status=SideEffectStatus.PENDING).update(
        next_attempt_at=timezone.now()
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An SMTP server's handler: keeps what it accepts; can say "try later" first."""

    def __init__(self, refuse_first: int = 0, delay: float = 0) -> None:
        self.messages: list[email.message.Message] = []
        self.refuse_first = refuse_first
        self.delay = delay  # seconds between storing a message and saying so

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:  # a slow server: the mail is stored, the answer comes late
            self.messages.append(email.message_from_bytes(envelope.content))
            await asyncio.sleep(self.delay)
            return "250 Message accepted for delivery"
        if self.refuse_first:
            self.refuse_first -= 1
            return "451 4.3.0 Mail server temporarily rejected message"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


@pytest.fixture
def smtp(settings):
    """Mail goes through SMTP to 127.0.0.1:<port>; `start()` brings the server up."""
    settings.EMAIL_BACKEND = "workflows.integrations.mail.SMTPBackend"  # as production sets it
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 2
    controllers = []

    class Server:
        def start(self, inbox: Inbox) -> Inbox:
            controller = Controller(inbox, hostname="127.0.0.1", port=settings.EMAIL_PORT)
            controller.start()
            controllers.append(controller)
            return inbox

    yield Server()
    for controller in controllers:
        controller.stop()
