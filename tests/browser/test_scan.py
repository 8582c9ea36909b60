"""Camera IMEI scanning in Chromium. Linux Chromium has no native BarcodeDetector, so this runs
the barcode-detector polyfill and its wasm, served from our static files.

The camera is Chromium's fake device playing a video of a Code 128 IMEI label that the test
draws. Camera permission is given (or not) per browser context rather than by
--use-fake-ui-for-media-stream, so one browser covers both the allowed and the refused camera.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.checks import assert_page_is_good, record_hosts
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE_UA, screenshot
from tests.browser.fake_camera import write_barcode_video
from tests.factories import valid_imei

pytestmark = pytest.mark.django_db(transaction=True)

IMEI = valid_imei("35209900")
INSECURE_HOST = "shop.insecure.test"  # resolves to 127.0.0.1 but is not a secure context


@pytest.fixture(scope="module")
def camera_browser(chromium, tmp_path_factory):
    """A second Chromium, from the same Playwright, whose camera plays our video."""
    video = write_barcode_video(IMEI, tmp_path_factory.mktemp("camera") / "imei-label.y4m")
    browser = chromium.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
            f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
        ],
    )
    yield browser
    browser.close()


def phone_on_form(browser, site, product, *, camera: bool, origin: str = ""):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_UA,
        base_url=origin or site,
    )
    if camera:
        context.grant_permissions(["camera"])
    page = context.new_page()
    page.goto(f"/trade-in/?make={product.device_model.make.slug}&model={product.device_model.slug}")
    return page


def test_it_fills_the_imei_from_the_camera(camera_browser, site, product):
    page = phone_on_form(camera_browser, site, product, camera=True)
    hosts = record_hosts(page)
    scanner_files = []
    page.on("request", lambda r: scanner_files.append(r.url) if "/vendor/" in r.url else None)
    page.reload()
    assert scanner_files == []  # nothing of the scanner before Scan is tapped
    assert page.evaluate("'BarcodeDetector' in window") is False  # so the polyfill is what runs

    page.tap("#scan")
    page.wait_for_function(f"() => document.getElementById('id_imei').value === '{IMEI}'")
    assert page.inner_text("#scan-note") == "IMEI found and filled in."
    assert page.evaluate("document.getElementById('scanner').open") is False  # camera closed
    assert any(url.endswith("zxing_reader.wasm") for url in scanner_files)
    assert hosts == {urlsplit(site).netloc}  # polyfill and wasm from us, no CDN
    assert_page_is_good(page)
    screenshot(page, "390-form-scanned")
    page.context.close()


def test_a_refused_camera_leaves_the_buyer_typing(camera_browser, site, product):
    page = phone_on_form(camera_browser, site, product, camera=False)
    page.tap("#scan")
    page.wait_for_function("() => document.getElementById('scan-note').textContent !== ''")
    assert page.inner_text("#scan-note").startswith("The camera was not allowed.")
    assert page.evaluate("document.activeElement.id") == "id_imei"
    assert_page_is_good(page)
    page.context.close()


def test_no_camera_leaves_the_buyer_typing(phone, product):
    phone.goto(
        f"/trade-in/?make={product.device_model.make.slug}&model={product.device_model.slug}"
    )
    phone.tap("#scan")  # the shared browser has no camera at all
    phone.wait_for_function("() => document.getElementById('scan-note').textContent !== ''")
    assert phone.inner_text("#scan-note") == "No camera was found. Please type the IMEI."
    assert phone.evaluate("document.activeElement.id") == "id_imei"


def test_an_insecure_page_explains_instead_of_scanning(camera_browser, site, product, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, INSECURE_HOST]
    port = urlsplit(site).port
    page = phone_on_form(
        camera_browser, site, product, camera=True, origin=f"http://{INSECURE_HOST}:{port}"
    )
    assert page.evaluate("window.isSecureContext") is False
    page.tap("#scan")
    assert page.inner_text("#scan-note").startswith("Scanning needs a secure (https) page.")
    assert page.evaluate("document.activeElement.id") == "id_imei"
    page.context.close()
