"""Accounts."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, PathString, UTCDateTime


class User(Base):
    __tablename__ = "identity_users"
    __table_args__ = (Index("ix_identity_users_path", "jurisdiction_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    jurisdiction_code: Mapped[str | None] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    # The chief this account belongs to (chiefs domain id), for chief accounts.
    chief_id: Mapped[int | None] = mapped_column(Integer)
    # Space-separated actions an integration account may take beyond reading.
    grants: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped when the account is disabled or its password changes: older tokens stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("identity_users.id"))


users_table = cast(Table, User.__table__)
