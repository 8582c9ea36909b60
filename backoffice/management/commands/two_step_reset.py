"""`manage.py two_step_reset USERNAME`: for a lost phone and lost recovery codes. The same as
`two_step_invite USERNAME --reset`: the account's devices are removed and an enrolment link
is printed, which the person opens to set up a new phone after their password."""

from __future__ import annotations

from backoffice.management.commands.two_step_invite import Command as InviteCommand


class Command(InviteCommand):
    help = "Remove a user's two-step devices and print an enrolment link."

    def handle(self, *args, **options) -> None:
        super().handle(*args, **{**options, "reset": True})
