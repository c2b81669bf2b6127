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


class WebSession(Base):
    """A signed-in browser (the pages' session cookie). Only a digest of the cookie's secret is kept."""

    __tablename__ = "identity_web_sessions"
    __table_args__ = (
        Index("ix_identity_web_sessions_user", "user_id"),
        Index("ix_identity_web_sessions_expires", "expires_at"),
    )

    # SHA-256 of the cookie's random value, hex: a stolen table opens no session.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("identity_users.id"))
    # The account's token_version at sign-in: a disabled account or a new password ends the session.
    token_version: Mapped[int] = mapped_column(Integer)
    # The session's anti-forgery token, sent back with every form and HTMX request.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


web_sessions_table = cast(Table, WebSession.__table__)
