"""Run by tests/test_storage.py in its own process (not a test): migrates a fresh database and
leaves a staff member signed in and an accepted trade-in waiting at the intake bench.

Prints JSON: the session cookie, the bench's URL and the POST that takes the device in.
"""

from __future__ import annotations

import json
import uuid

import django

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from backoffice.roles import sync_roles  # noqa: E402
from tests.factories import ProductFactory, load_deductions  # noqa: E402
from tests.helpers import PASSWORD, declared, intake_data, submission  # noqa: E402
from workflows import actions  # noqa: E402
from workflows.tasks import run_due_side_effects  # noqa: E402


def drain() -> None:
    while run_due_side_effects():
        pass


call_command("migrate", verbosity=0)
sync_roles()
staff = User.objects.create_user("bench", "bench@shop.example", PASSWORD, is_staff=True)
staff.groups.add(Group.objects.get(name="Staff"))
load_deductions()
trade_in = actions.trade_in_submit(
    submission=submission(ProductFactory()), submission_key=uuid.uuid4().hex
)
drain()
quote = actions.trade_in_quote(trade_in=trade_in, actor=staff, amount="300.00")
drain()
actions.trade_in_accept(quote=quote, declaration=declared())
drain()
trade_in.refresh_from_db()
client = Client()
client.force_login(staff)
data = {
    **intake_data(trade_in, outcome="revise", grade="C", screen="cracked"),
    "amount": "180.00",
    "notes": "Crack across the top left corner",
}
print(
    json.dumps(
        {
            "session": client.cookies["sessionid"].value,
            "bench": reverse("admin:intake_bench"),
            "trade_in": reverse("admin:workflows_tradein_change", args=[trade_in.pk]),
            "photo": reverse("admin:inspection_photo", args=[123456789]),
            "data": data,
        }
    )
)
