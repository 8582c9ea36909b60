"""What a phone downloads under `make run`: compressed, cached static files, a favicon; and
expected refusals logged as one line."""

from __future__ import annotations

import logging
import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from tests.helpers import form_url, staff_client


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


def collected_without_vendor(tmp_path, ignore: list[str]) -> dict:
    """Settings as in production (DEBUG off, collectstatic's manifest), collected into tmp_path."""
    collected = {
        "DEBUG": False,
        "STATIC_ROOT": tmp_path,
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
        "WHITENOISE_USE_FINDERS": False,
        "WHITENOISE_AUTOREFRESH": False,
    }
    with override_settings(**collected):
        call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=ignore)
    return collected


def test_without_npm_the_trade_in_form_answers_and_scan_says_it_is_unavailable(tmp_path, product):
    # The scanner's vendor files are never built (no npm at deploy): not in the manifest.
    collected = collected_without_vendor(tmp_path, ["vendor"])
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "buyer_portal/portal.js" in manifest
    assert "buyer_portal/vendor/" not in manifest
    with override_settings(**collected):
        response = Client(raise_request_exception=False).get(form_url(product))
        assert response.status_code == 200
        page = response.content.decode()
        assert "data-module" not in page
        assert "Camera scanning is not available on this site. Please type the IMEI." in page
        assert 'id="id_imei"' in page


def test_with_the_vendor_files_built_scan_loads_their_hashed_names(tmp_path, product):
    collected = collected_without_vendor(tmp_path, [])
    if "buyer_portal/vendor/ponyfill.js" not in (tmp_path / "staticfiles.json").read_text():
        pytest.skip("the scanner's vendor files are not built here (no npm)")
    with override_settings(**collected):
        page = Client().get(form_url(product)).content.decode()
        assert re.search(
            r'data-module="/static/buyer_portal/vendor/ponyfill\.[0-9a-f]{12}\.js"', page
        )
        assert re.search(
            r'data-wasm="/static/buyer_portal/vendor/zxing_reader\.[0-9a-f]{12}\.wasm"', page
        )
        assert "not available" not in page
