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
    # The username case-folded, unique: `Admin` cannot sit beside `admin`; logins look it up here.
    username_folded: Mapped[str] = mapped_column(String(64), unique=True)
    # The name others see for this account's acts (a chief's own name, an office's name).
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    jurisdiction_code: Mapped[str | None] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    # The chief this account belongs to (chiefs domain id), for chief accounts.
    chief_id: Mapped[int | None] = mapped_column(Integer)
    # Space-separated actions an integration account may take beyond reading.
    grants: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on every change of password, role, grants or status: older tokens stop working at once.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("identity_users.id"))


users_table = cast(Table, User.__table__)


class LoginFailure(Base):
    """Failed logins counted per account or client address when there is no Redis (see throttle)."""

    __tablename__ = "identity_login_failures"

    # ``account:<case-folded username>`` or ``address:<client address>``.
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
