"""Photos are judged by their bytes: accepted types, size and pixel limits, EXIF location, thumbnails."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from linzhang.errors import InvalidInput
from linzhang.media import PhotoLimits, inspect_photo, make_thumbnail
from linzhang.media.store import LocalPhotoStore, original_key
from tests.support import photos

LIMITS = PhotoLimits(max_bytes=2_000_000, max_pixels=10_000_000, thumbnail_pixels=160)


def test_a_jpeg_is_described_with_its_gps_location_and_hash() -> None:
    data = photos.jpeg()
    facts = inspect_photo(data, LIMITS)
    assert facts.media_type == "image/jpeg"
    assert (facts.width, facts.height) == (640, 480)
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert facts.longitude == pytest.approx(108.38, abs=1e-6)
    assert facts.latitude == pytest.approx(30.81, abs=1e-6)


def test_png_and_webp_are_accepted_without_a_location() -> None:
    assert inspect_photo(photos.png(), LIMITS).media_type == "image/png"
    webp = inspect_photo(photos.webp(), LIMITS)
    assert webp.media_type == "image/webp"
    assert (webp.longitude, webp.latitude) == (None, None)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a not really", "photo_type_not_allowed"),
        (photos.gif(), "photo_type_not_allowed"),
        (b"%PDF-1.4 a document", "photo_type_not_allowed"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "photo_type_not_allowed"),
        (photos.truncated_jpeg(), "photo_unreadable"),
        (b"", "photo_empty"),
    ],
)
def test_what_is_not_a_whole_jpeg_png_or_webp_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        inspect_photo(data, LIMITS)
    assert refused.value.code == code
    assert refused.value.status_code == 422
    assert refused.value.extra["field"] == "photo"


def test_size_is_checked_on_the_bytes() -> None:
    data = photos.jpeg()
    with pytest.raises(InvalidInput) as refused:
        inspect_photo(data, PhotoLimits(max_bytes=len(data) - 1))
    assert refused.value.code == "photo_too_large"
    assert "KB" in refused.value.detail


def test_a_small_file_of_too_many_pixels_is_refused_before_decoding() -> None:
    data = photos.huge_png(8000)
    assert len(data) < 100_000
    with pytest.raises(InvalidInput) as refused:
        inspect_photo(data, LIMITS)
    assert refused.value.code == "photo_too_many_pixels"


def test_the_thumbnail_is_a_small_jpeg_without_exif() -> None:
    thumbnail = make_thumbnail(photos.jpeg(), LIMITS)
    image = Image.open(io.BytesIO(thumbnail))
    assert image.format == "JPEG"
    assert max(image.size) == 160
    assert not image.getexif().get_ifd(0x8825)
    assert Image.open(io.BytesIO(make_thumbnail(photos.png(), LIMITS))).mode == "RGB"


def test_the_local_store_writes_once_and_refuses_other_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalPhotoStore(tmp_path)
    data = photos.webp()
    key = original_key(hashlib.sha256(data).hexdigest())
    assert store.get(key) is None
    store.put(key, data)
    store.put(key, b"other bytes are never written over a content address")
    assert store.get(key) == data
    assert not list(tmp_path.rglob(".incoming-*"))
    with pytest.raises(ValueError, match="not a photo key"):
        store.get("../../etc/passwd")
