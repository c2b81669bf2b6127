"""What a photo is, judged by its bytes alone: type, size, pixels, EXIF location; and its thumbnail.

The file's name and the type the client claims are never read. A photo is accepted when Pillow
recognises it as JPEG, PNG or WebP from its leading bytes, its header is sound (``verify``) and it
decodes completely within the pixel limit (a small file that expands to a huge image is refused before
it is decoded).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from linzhang.errors import InvalidInput, LinzhangError

# Pillow's format name to the media type stored and served.
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    max_bytes: int = 10_485_760
    max_pixels: int = 40_000_000
    thumbnail_pixels: int = 320


@dataclass(frozen=True, slots=True)
class PhotoFacts:
    sha256: str
    media_type: str
    size: int
    width: int
    height: int
    # Where the camera says it was taken (EXIF GPS), kept as evidence; None when the photo has none.
    longitude: float | None
    latitude: float | None
    # When the camera says it was taken (EXIF DateTimeOriginal, the camera's local time, as written).
    taken_at: str | None


class PhotoRefused(InvalidInput):
    default_code = "photo_invalid"


def _too_large(limit: int) -> LinzhangError:
    return PhotoRefused(f"照片不能超过 {limit // 1024} KB", code="photo_too_large", field="photo", limit=limit)


def _ratio(value: Any) -> float:
    # EXIF rationals arrive as IFDRational (float() works) or as (numerator, denominator) pairs.
    if isinstance(value, tuple):
        numerator, denominator = value
        return float(numerator) / float(denominator) if denominator else 0.0
    return float(value)


def _degrees(dms: Any, ref: Any) -> float | None:
    try:
        degrees, minutes, seconds = (_ratio(part) for part in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if str(ref).strip().upper() in {"S", "W"}:
        value = -value
    return round(value, 7)


def gps_of(image: Image.Image) -> tuple[float | None, float | None]:
    """The (longitude, latitude) the EXIF GPS block records, or (None, None)."""
    try:
        gps = image.getexif().get_ifd(_GPS_IFD)
    except Exception:  # a broken EXIF block is no location, not a broken photo
        return None, None
    if not gps or 2 not in gps or 4 not in gps:
        return None, None
    latitude = _degrees(gps[2], gps.get(1, "N"))
    longitude = _degrees(gps[4], gps.get(3, "E"))
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None, None
    return longitude, latitude


def _taken_at(image: Image.Image) -> str | None:
    try:
        value = image.getexif().get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL)
    except Exception:
        return None
    return str(value)[:32] if value else None


def _open(data: bytes, limits: PhotoLimits) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=tuple(MEDIA_TYPES))
    except UnidentifiedImageError:
        raise PhotoRefused(
            "只能上传 JPEG、PNG 或 WebP 格式的照片", code="photo_type_not_allowed", field="photo"
        ) from None
    except (OSError, ValueError, SyntaxError):
        raise PhotoRefused("照片已损坏，无法读取", code="photo_unreadable", field="photo") from None
    width, height = image.size
    if width * height > limits.max_pixels:
        raise PhotoRefused(
            f"照片像素过多（不能超过 {limits.max_pixels} 像素）", code="photo_too_many_pixels", field="photo"
        )
    return image


def inspect_photo(data: bytes, limits: PhotoLimits) -> PhotoFacts:
    """Check ``data`` as a photo and describe it, or raise a 422 with a Chinese detail and a code."""
    if len(data) > limits.max_bytes:
        raise _too_large(limits.max_bytes)
    if not data:
        raise PhotoRefused("照片为空", code="photo_empty", field="photo")
    try:
        # verify() checks the structure on a freshly opened image; decoding every pixel of another
        # finds a truncated file.
        _open(data, limits).verify()
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = _open(data, limits)
            image.load()
    except LinzhangError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused("照片已损坏，无法读取", code="photo_unreadable", field="photo") from None
    media_type = MEDIA_TYPES[image.format or ""]
    longitude, latitude = gps_of(image)
    taken_at = _taken_at(image)
    return PhotoFacts(
        sha256=hashlib.sha256(data).hexdigest(),
        media_type=media_type,
        size=len(data),
        width=image.width,
        height=image.height,
        longitude=longitude,
        latitude=latitude,
        taken_at=taken_at,
    )


def make_thumbnail(data: bytes, limits: PhotoLimits) -> bytes:
    """A JPEG no larger than ``thumbnail_pixels`` on its longer side, turned upright, without EXIF."""
    image = _open(data, limits)
    image = ImageOps.exif_transpose(image)
    image.thumbnail((limits.thumbnail_pixels, limits.thumbnail_pixels))
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()
