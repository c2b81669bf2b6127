"""Use cases of the photo store: keep an uploaded photo, attach it to a record, show it to who may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linzhang.errors import not_found
from linzhang.identity import Principal, Role, can_read
from linzhang.media.photos import PhotoFacts, PhotoLimits, inspect_photo, make_thumbnail
from linzhang.media.store import PhotoStore, is_sha256, original_key, thumbnail_key
from linzhang.media.tables import Photo, PhotoOwner


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    sha256: str
    media_type: str
    size: int
    width: int
    height: int
    longitude: float | None
    latitude: float | None
    taken_at: str | None


def _stored(row: Photo) -> StoredPhoto:
    return StoredPhoto(
        row.sha256, row.media_type, row.size, row.width, row.height, row.longitude, row.latitude, row.taken_at
    )


def store_photo(session: Session, store: PhotoStore, data: bytes, limits: PhotoLimits, now: dt.datetime) -> StoredPhoto:
    """Check ``data`` by its content and keep it (with its thumbnail) under its SHA-256.

    The same bytes uploaded again are the same photo: nothing is written twice. Raises a 422
    (``photo_too_large``, ``photo_type_not_allowed``, ``photo_unreadable`` ...) and keeps nothing
    when the bytes are not an acceptable photo.
    """
    facts: PhotoFacts = inspect_photo(data, limits)
    existing = session.get(Photo, facts.sha256)
    if existing is not None:
        return _stored(existing)
    # Files first: a row never names bytes that are not there (bytes without a row are harmless).
    store.put(original_key(facts.sha256), data)
    store.put(thumbnail_key(facts.sha256), make_thumbnail(data, limits))
    row = Photo(
        sha256=facts.sha256,
        media_type=facts.media_type,
        size=facts.size,
        width=facts.width,
        height=facts.height,
        longitude=facts.longitude,
        latitude=facts.latitude,
        taken_at=facts.taken_at,
        stored_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # The same photo arrived at the same moment through another request.
        found = session.get(Photo, facts.sha256)
        assert found is not None
        return _stored(found)
    return _stored(row)


def attach(
    session: Session, sha256: str, *, owner_kind: str, owner_ref: str, owner_path: str, now: dt.datetime
) -> None:
    """Say that photo ``sha256`` belongs to the record ``owner_kind``/``owner_ref`` lying at ``owner_path``."""
    exists = session.execute(
        select(PhotoOwner.id).where(
            PhotoOwner.sha256 == sha256, PhotoOwner.owner_kind == owner_kind, PhotoOwner.owner_ref == owner_ref
        )
    ).first()
    if exists is None:
        session.add(
            PhotoOwner(
                sha256=sha256, owner_kind=owner_kind, owner_ref=owner_ref, owner_path=owner_path, attached_at=now
            )
        )


# Who may read a record of a kind whose reading is narrower than its jurisdiction's scope (a ranger's
# field report: the ranger and their supervisor): the owning domain registers the rule when imported.
OwnerRule = Callable[[Session, Principal, str], bool]
OWNER_RULES: dict[str, OwnerRule] = {}


def owner_rule(owner_kind: str) -> Callable[[OwnerRule], OwnerRule]:
    """Register who may read the records of ``owner_kind`` (and so see their photos)."""

    def register(rule: OwnerRule) -> OwnerRule:
        OWNER_RULES[owner_kind] = rule
        return rule

    return register


def _may_see(session: Session, principal: Principal, owner_kind: str, owner_ref: str, owner_path: str) -> bool:
    rule = OWNER_RULES.get(owner_kind)
    if rule is not None:
        return rule(session, principal, owner_ref)
    # A ranger account reads only its own records (or, a supervisor, its area's): never by place alone.
    if principal.role is Role.RANGER:
        return False
    return can_read(principal, owner_path)


def photo_for(session: Session, principal: Principal, sha256: str) -> StoredPhoto:
    """The photo ``sha256`` if ``principal`` may read a record it belongs to; otherwise 照片不存在 (404),
    the same answer as for a photo that does not exist."""
    if not is_sha256(sha256):
        raise not_found("photo")
    owners = session.execute(
        select(PhotoOwner.owner_kind, PhotoOwner.owner_ref, PhotoOwner.owner_path).where(PhotoOwner.sha256 == sha256)
    ).all()
    if not any(_may_see(session, principal, kind, ref, path) for kind, ref, path in owners):
        raise not_found("photo")
    row = session.get(Photo, sha256)
    if row is None:
        raise not_found("photo")
    return _stored(row)


def photo_bytes(store: PhotoStore, sha256: str, *, thumbnail: bool) -> bytes:
    """The photo's bytes (or its thumbnail's) from the store; 404 when the store lost them."""
    data = store.get(thumbnail_key(sha256) if thumbnail else original_key(sha256))
    if data is None:
        raise not_found("photo")
    return data


def photos_of(session: Session, owner_kind: str, owner_ref: str) -> list[StoredPhoto]:
    """The photos attached to one record, in the order they were attached."""
    rows = session.execute(
        select(Photo)
        .join(PhotoOwner, PhotoOwner.sha256 == Photo.sha256)
        .where(PhotoOwner.owner_kind == owner_kind, PhotoOwner.owner_ref == owner_ref)
        .order_by(PhotoOwner.id)
    ).scalars()
    return [_stored(row) for row in rows]
