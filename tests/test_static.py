"""What a phone downloads under `make run`: compressed, cached static files, a favicon; and
expected refusals logged as one line."""

from __future__ import annotations

import logging
import re

from django.core.management import call_command
from django.test import Client, override_settings

from tests.helpers import staff_client


def test_collected_static_files_are_compressed_and_cached(tmp_path, product):
    collected = {
        "STATIC_ROOT": tmp_path,
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
        "WHITENOISE_USE_FINDERS": False,
        "WHITENOISE_AUTOREFRESH": False,
    }
    with override_settings(**collected):
        call_command("collectstatic", interactive=False, verbosity=0)
        client = Client()
        page = client.get("/").content.decode()
        urls = re.findall(r"/static/buyer_portal/portal\.[0-9a-f]{12}\.(?:css|js)", page)
        assert len(urls) == 2, "hashed names, so they can be cached for good"
        for url in urls:
            plain = client.get(url)
            zipped = client.get(url, headers={"accept-encoding": "gzip"})
            assert zipped["Content-Encoding"] == "gzip"
            assert "immutable" in zipped["Cache-Control"]
            assert "max-age=315360000" in zipped["Cache-Control"]
            size = int(zipped["Content-Length"])
            assert size < int(plain["Content-Length"]) / 2
        favicon = client.get("/favicon.ico")
        assert favicon.status_code == 200
        assert b"".join(favicon.streaming_content)[:4] == b"\x00\x00\x01\x00"


def test_pages_name_a_favicon(client, staff):
    assert 'rel="icon"' in client.get("/").content.decode()
    assert "favicon.svg" in staff_client(staff).get("/dashboard/").content.decode()


def test_an_expected_403_is_one_line_not_a_traceback(staff):
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    # django.request does not propagate (its console handler redacts): listen on it directly.
    logger = logging.getLogger("django.request")
    handler = Keep()
    logger.addHandler(handler)
    try:
        response = staff_client(staff).get("/dashboard/auth/user/")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 403
    (record,) = records
    assert record.getMessage().startswith("Forbidden")
    assert record.exc_info is None
