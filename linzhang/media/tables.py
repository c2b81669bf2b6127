"""Tables of the photo store: what each photo is, and the records it belongs to."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import BigInteger, Float, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, PathString, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Photo(Base):
    """One stored photo, by the SHA-256 of its bytes."""

    __tablename__ = "media_photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # The EXIF GPS location the photo carries (evidence of where it was taken), if any.
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    taken_at: Mapped[str | None] = mapped_column(String(32))
    stored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PhotoOwner(Base):
    """A record a photo belongs to (a public report, a field report ...) and where that record lies.

    Whoever may read the jurisdiction ``owner_path`` may see the photo.
    """

    __tablename__ = "media_photo_owners"
    __table_args__ = (
        UniqueConstraint("sha256", "owner_kind", "owner_ref"),
        Index("ix_media_photo_owners_owner", "owner_kind", "owner_ref"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64))
    owner_kind: Mapped[str] = mapped_column(String(32))
    owner_ref: Mapped[str] = mapped_column(String(100))
    owner_path: Mapped[str] = mapped_column(PathString)
    attached_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


photos_table = cast(Table, Photo.__table__)
photo_owners_table = cast(Table, PhotoOwner.__table__)
