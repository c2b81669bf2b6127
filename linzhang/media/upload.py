"""Multipart uploads of photos: the body's size bounded before it is read, each photo's after.

An upload route declares ``request_max_body_size=UPLOAD_CEILING`` (the framework's own bound, fixed at
start-up) and calls :func:`read_form` with the bound the settings give, which refuses a declared
length above it before reading a byte; :func:`photo_uploads` then takes each file part's bytes, at
most ``max_bytes`` + 1 of them, whatever the part calls itself.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict, UploadFile

from linzhang.errors import InvalidInput, LinzhangError
from linzhang.media.photos import PhotoLimits, PhotoRefused
from linzhang.settings import MediaSettings

# The framework's bound on an upload route's body, whatever the settings (their largest allowed values).
UPLOAD_CEILING = 20 * 104_857_600 + 1_048_576


class UploadTooLarge(LinzhangError):
    status_code = 413
    title = "Content Too Large"
    default_code = "request_too_large"


def limits_of(settings: MediaSettings) -> PhotoLimits:
    return PhotoLimits(settings.max_photo_bytes, settings.max_photo_pixels, settings.thumbnail_pixels)


def body_limit(settings: MediaSettings, photos: int | None = None) -> int:
    """The largest upload body: every photo at its largest, and 1 MiB for the rest of the form."""
    count = settings.max_photos_per_report if photos is None else photos
    return max(count, 1) * settings.max_photo_bytes + 1_048_576


async def read_form(request: Request[Any, Any, Any], max_body: int) -> FormMultiDict:
    """The request's form, refused with a 413 when it declares a body larger than ``max_body``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise UploadTooLarge(f"上传内容过大，不能超过 {max_body // 1024} KB", limit=max_body)
    return await request.form()


async def photo_uploads(form: FormMultiDict, field: str, limits: PhotoLimits, max_count: int) -> list[bytes]:
    """The bytes of each file sent as ``field`` (an empty file input is no photo), bounded in number and size."""
    uploads = [value for value in form.getall(field) if isinstance(value, UploadFile)] if field in form else []
    found: list[bytes] = []
    for upload in uploads:
        data = await upload.read(limits.max_bytes + 1)
        await upload.close()
        if not data and not upload.filename:
            continue  # the browser's empty file input
        if len(data) > limits.max_bytes:
            raise PhotoRefused(
                f"照片不能超过 {limits.max_bytes // 1024} KB",
                code="photo_too_large",
                field=field,
                limit=limits.max_bytes,
            )
        found.append(data)
    if len(found) > max_count:
        raise InvalidInput(f"照片不能超过 {max_count} 张", code="too_many_photos", field=field, limit=max_count)
    return found
