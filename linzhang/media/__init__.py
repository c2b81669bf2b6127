"""Photos as evidence: checked by their content, stored under their SHA-256, shown to those who may see
the record they belong to.

A platform package (no domain imports): a domain that takes photos (the public signboards, patrols'
field reports) calls :func:`~linzhang.media.service.store_photo` with the uploaded bytes, then
:func:`~linzhang.media.service.attach` with the record the photo belongs to and that record's
jurisdiction path; the photo routes answer a viewer whose scope covers one of those records, and
answer 404 to everyone else, exactly as for a photo that does not exist.
"""

from linzhang.media.photos import PhotoFacts, PhotoLimits, inspect_photo, make_thumbnail
from linzhang.media.service import StoredPhoto, attach, photo_bytes, photo_for, photos_of, store_photo
from linzhang.media.store import LocalPhotoStore, PhotoStore, store_for

__all__ = [
    "LocalPhotoStore",
    "PhotoFacts",
    "PhotoLimits",
    "PhotoStore",
    "StoredPhoto",
    "attach",
    "inspect_photo",
    "make_thumbnail",
    "photo_bytes",
    "photo_for",
    "photos_of",
    "store_for",
    "store_photo",
]
