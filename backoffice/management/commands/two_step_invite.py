"""`manage.py two_step_invite USERNAME [--reset]`: print an enrolment link for someone's
two-step sign-in (the first admin of a new install, or when no admin can sign in). `--reset`
first removes their devices (a lost phone and lost recovery codes)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from backoffice.twostep import issue_invite


class Command(BaseCommand):
    help = "Print a two-step enrolment link for a user (--reset removes their devices first)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reset", action="store_true", help="remove their devices first")

    def handle(self, *args, username: str, reset: bool = False, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        link, until = issue_invite(user, reset=reset)
        done = "two-step devices removed; " if reset else ""
        self.stdout.write(
            f"{username}: {done}enrolment link (works once, until {until:%Y-%m-%d %H:%M %Z}):\n"
            f"{link}"
        )
