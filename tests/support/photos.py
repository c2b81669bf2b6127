"""Photos made by the tests: a JPEG with an EXIF GPS location, a PNG, a WebP, and broken ones."""

from __future__ import annotations

import io

from PIL import Image

# 重庆万州 (108.38° E, 30.81° N) as EXIF degrees, minutes, seconds.
LONGITUDE = (108.0, 22.0, 48.0)
LATITUDE = (30.0, 48.0, 36.0)


def jpeg(width: int = 640, height: int = 480, *, gps: bool = True, color: str = "green") -> bytes:
    image = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    if gps:
        exif[0x8825] = {1: "N", 2: LATITUDE, 3: "E", 4: LONGITUDE}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png(width: int = 200, height: int = 100) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 0, 128)).save(out, format="PNG")
    return out.getvalue()


def webp(width: int = 120, height: int = 90) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "brown").save(out, format="WEBP")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, format="GIF")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    data = jpeg(400, 300, gps=False, color="red")
    return data[: len(data) // 2]


def huge_png(side: int = 8000) -> bytes:
    """A small file that decodes to side x side pixels (a decompression bomb in miniature)."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, format="PNG", optimize=True)
    return out.getvalue()
