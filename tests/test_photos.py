"""Intake photos: what the buyer's link serves carries no metadata, and a file declaring a huge
image is refused at the bench with a message (issue 18, item 6)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.urls import reverse
from PIL import Image

from tests.conftest import links_in_last_mail
from tests.test_inspection import png, revise_at_bench, snapshot
from tests.test_lifecycle_http import staff_client
from workflows.models import State

GPS_IFD = 0x8825
MAKE, MODEL, ORIENTATION = 0x010F, 0x0110, 0x0112


@pytest.fixture
def bench(staff):
    return staff_client(staff)


def jpeg_with_gps(name: str = "IMG_0001.jpg") -> io.BytesIO:
    """A phone photo: 40x20 pixels stored sideways (orientation 6), camera and GPS in its EXIF."""
    exif = Image.Exif()
    exif[MAKE] = "Apple"
    exif[MODEL] = "iPhone 15 Pro"
    exif[ORIENTATION] = 6  # rotate 90° clockwise to show
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (40.0, 44.0, 54.36), 3: "W", 4: (73.0, 59.0, 8.5)})
    data = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 120, 200)).save(data, "JPEG", exif=exif.tobytes())
    data.seek(0)
    data.name = name
    return data


def assert_no_metadata(body: bytes) -> None:
    assert b"Exif" not in body and b"iPhone" not in body and b"Apple" not in body
    with Image.open(io.BytesIO(body)) as served:
        assert not served.getexif()
        assert served.size == (20, 40)  # turned upright as the camera said, then the tag dropped


def test_a_photo_is_served_to_staff_and_buyer_without_its_exif(bench, client, make_trade_in, drain):
    trade_in = make_trade_in(State.ACCEPTED)
    original = jpeg_with_gps().getvalue()
    with Image.open(io.BytesIO(original)) as check:  # the upload does carry it
        assert check.getexif()[MODEL] == "iPhone 15 Pro" and check.getexif().get_ifd(GPS_IFD)
    revise_at_bench(bench, trade_in, photos=[jpeg_with_gps()])
    photo = trade_in.photos.get()
    assert photo.content_type == "image/jpeg"
    assert "IMG_0001" not in photo.image.name

    staff = bench.get(reverse("admin:inspection_photo", args=[photo.pk]))
    assert staff.status_code == 200 and staff["Content-Type"] == "image/jpeg"
    assert_no_metadata(b"".join(staff.streaming_content))

    drain()
    photo_url = [u for u in links_in_last_mail() if "/photos/" in u][0]
    buyer = client.get(photo_url.replace("http://testserver", ""))
    assert buyer.status_code == 200 and buyer["Content-Type"] == "image/jpeg"
    assert_no_metadata(b"".join(buyer.streaming_content))


def test_png_text_chunks_are_dropped_too(bench, make_trade_in):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at 12 Elm Street")
    data = io.BytesIO()
    Image.new("RGB", (8, 8)).save(data, "PNG", pnginfo=info)
    data.seek(0)
    data.name = "crack.png"
    trade_in = make_trade_in(State.ACCEPTED)
    revise_at_bench(bench, trade_in, photos=[data])
    stored = trade_in.photos.get().image.read()
    assert b"Elm Street" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG" and "Comment" not in image.info


def declared_png(width: int, height: int) -> io.BytesIO:
    """A small PNG whose header declares width x height grey pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width + 1) * 200, 9)  # the first rows; the rest would follow
    data = io.BytesIO(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )
    data.name = "bomb.png"
    return data


@pytest.mark.parametrize("side", [40_000, 7_000])  # beyond Pillow's own limit; beyond ours only
def test_a_photo_declaring_too_many_pixels_is_refused_with_the_answers_kept(
    bench, make_trade_in, side
):
    trade_in = make_trade_in(State.ACCEPTED)
    before = snapshot()
    response = revise_at_bench(bench, trade_in, photos=[png(), declared_png(side, side)])
    assert response.status_code == 400
    page = response.content.decode()
    assert "bomb.png is too large: at most 40 megapixels" in page
    assert "Crack across the top left corner" in page  # what was typed is still there
    assert snapshot() == before
    assert not trade_in.photos.exists()
    trade_in.refresh_from_db()
    assert trade_in.state == State.ACCEPTED


def test_the_pixel_limit_is_a_setting(bench, make_trade_in, settings):
    settings.INSPECTION_PHOTO_MAX_PIXELS = 50
    trade_in = make_trade_in(State.ACCEPTED)
    response = revise_at_bench(bench, trade_in, photos=[png()])  # 8x8 = 64 pixels
    assert response.status_code == 400 and "too large" in response.content.decode()
    assert not trade_in.photos.exists()
