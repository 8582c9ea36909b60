"""Chromium for the staff benchmarks (`bench staff`, `bench counter`): Debian's chromium at
1440×900, signed in to the dashboard as a bench user. (`bench buyer` drives a phone-sized
Chromium of its own.)"""

from __future__ import annotations

import os
import shutil

from django.core.management.base import CommandError

PASSWORD = "bench-clicks-only"


def chromium_path() -> str:
    """Debian's chromium, asked for before any database is made; refuses without it."""
    # Playwright's sync API runs an event loop in this thread; our ORM calls are safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise CommandError("Debian's chromium is needed (apt-get install chromium)")
    return chromium


def staff_user(role: str):
    """The bench user with `role`, who signs in with PASSWORD."""
    from bench.data import bench_user

    user = bench_user(role)
    user.set_password(PASSWORD)
    user.save()
    return user


def signed_in_page(playwright, chromium: str, url: str, username: str):
    """Chromium at 1440×900 on the live server at `url`, signed in as `username` through the
    dashboard's sign-in form: the browser (the caller closes it) and the page, on the
    dashboard."""
    browser = playwright.chromium.launch(
        executable_path=chromium,
        args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    )
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=url)
    page = context.new_page()
    page.goto("/dashboard/login/?next=/dashboard/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")
    return browser, page
