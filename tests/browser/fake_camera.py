"""A video for Chromium's fake camera: a Code 128 barcode, as on a phone box's IMEI label."""

from __future__ import annotations

from pathlib import Path

import barcode

WIDTH, HEIGHT = 640, 480
WHITE, BLACK = 235, 20  # a printed label under a lamp, not pure black on white


def write_barcode_video(text: str, path: Path, *, frames: int = 10) -> Path:
    """Write a Y4M video (what --use-file-for-fake-video-capture reads) of `text` as Code 128."""
    modules = barcode.get("code128", text).build()[0]
    quiet = 10  # modules of white on each side, as the symbology requires
    px = WIDTH // (len(modules) + 2 * quiet)
    left = (WIDTH - px * len(modules)) // 2
    bars = bytearray([WHITE]) * WIDTH
    for i, module in enumerate(modules):
        if module == "1":
            bars[left + i * px : left + (i + 1) * px] = bytes([BLACK]) * px
    blank = bytes([WHITE]) * WIDTH
    top, bottom = HEIGHT // 3, HEIGHT * 2 // 3
    luma = b"".join(bytes(bars) if top <= y < bottom else blank for y in range(HEIGHT))
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)  # no colour
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path
