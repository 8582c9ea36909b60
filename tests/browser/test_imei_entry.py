"""The IMEI as buyers copy it, in the browser: portal.js reads it by the server's rules
(workflows.actions.normalize_imei), typed or scanned."""

from __future__ import annotations

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.fake_camera import write_barcode_video
from tests.browser.test_scan import phone_on_form
from tests.factories import valid_imei

pytestmark = pytest.mark.django_db(transaction=True)

IMEI = valid_imei("35209900")


def on_form(phone, product) -> None:
    phone.goto(
        f"/trade-in/?make={product.device_model.make.slug}&model={product.device_model.slug}"
    )


@pytest.mark.parametrize(
    "typed",
    [
        f"{IMEI}/01",
        f"{IMEI[:14]}01",
        IMEI[:14],
        f"{IMEI[:6]} {IMEI[6:12]}-{IMEI[12:]}",
        "".join(chr(0xFF10 + int(d)) for d in IMEI),
        "".join(chr(0x660 + int(d)) for d in IMEI),
    ],
)
def test_the_page_accepts_what_the_server_accepts(phone, product, typed):
    # Before: the script said "only digits" / "exactly 15 digits" to each of these.
    on_form(phone, product)
    phone.fill("#id_imei", typed)
    assert phone.inner_text("#scan-note") == "Looks right."
    assert phone.locator("#f-imei .error:visible").count() == 0


def test_the_page_names_an_meid_and_still_refuses_a_typo(phone, product):
    on_form(phone, product)
    phone.fill("#id_imei", "A1000012345678")
    assert "This is an MEID, the number of a CDMA phone" in phone.inner_text("#f-imei")
    phone.fill("#id_imei", IMEI[:-1] + str((int(IMEI[-1]) + 1) % 10))
    assert "last digit does not match" in phone.inner_text("#f-imei")


@pytest.fixture(scope="module")
def imeisv_camera(chromium, tmp_path_factory):
    """A Chromium whose camera shows a box label's IMEISV barcode (16 digits)."""
    video = write_barcode_video(
        f"{IMEI[:14]}01", tmp_path_factory.mktemp("camera") / "imeisv-label.y4m"
    )
    browser = chromium.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    yield browser
    browser.close()


def test_a_scanned_imeisv_fills_in_the_imei(imeisv_camera, site, product):
    # Before: only a run of exactly 15 digits was taken from a barcode.
    page = phone_on_form(imeisv_camera, site, product, camera=True)
    page.tap("#scan")
    # An arrow function, not a string: the page's CSP forbids evaluating strings.
    page.wait_for_function("imei => document.getElementById('id_imei').value === imei", arg=IMEI)
    assert page.inner_text("#scan-note") == "IMEI found and filled in."
    page.context.close()
