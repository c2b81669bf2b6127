"""Browser sessions for the pages: the same accounts, passwords and scope rule as bearer tokens.

The cookie carries a random secret; the table keeps its SHA-256 only. A session ends when it expires,
when its person signs out, or when the account is disabled or its password changes (token_version).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from linzhang.clock import Clock
from linzhang.errors import PermissionDenied, Unauthorized
from linzhang.identity.passwords import Passwords
from linzhang.identity.scope import ROLE_NAMES, Action, Principal, Role
from linzhang.identity.tables import User, WebSession

SECRET_BYTES = 32
PAGE_ROLES = frozenset({Role.ADMIN, Role.OFFICE, Role.CHIEF, Role.RANGER})


@dataclass(frozen=True, slots=True)
class OpenedSession:
    cookie_value: str
    csrf_token: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SessionPrincipal:
    principal: Principal
    csrf_token: str


def _digest(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        jurisdiction_code=user.jurisdiction_code,
        path=user.jurisdiction_path,
        chief_id=user.chief_id,
        grants=frozenset(Action(grant) for grant in user.grants.split()),
    )


def sign_in(
    session: Session,
    passwords: Passwords,
    clock: Clock,
    username: str,
    password: str,
    ttl_seconds: int,
    roles: frozenset[Role] = PAGE_ROLES,
) -> OpenedSession:
    """Open a session for valid credentials of an active account; one answer for every failure.

    Only people's roles sign in to the pages (an integration account is another system). Expired
    sessions of every account are removed on the way (a sign-in is rare enough to pay for it).
    """
    user = session.scalar(select(User).where(User.username_folded == username.casefold()))
    valid = passwords.verify(user.password_hash if user else None, password)
    if user is None or not valid or not user.active:
        raise Unauthorized("用户名或密码错误，或账号已停用", code="bad_credentials")
    if Role(user.role) not in roles:
        if Role(user.role) is Role.INTEGRATION:
            raise PermissionDenied("系统对接账号不能登录页面，请使用接口", code="role_not_for_pages")
        raise PermissionDenied(f"{ROLE_NAMES[Role(user.role)]}账号不能登录此页面", code="role_not_for_pages")
    now = clock.now()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    cookie_value = secrets.token_urlsafe(SECRET_BYTES)
    opened = OpenedSession(cookie_value, secrets.token_urlsafe(SECRET_BYTES), now + dt.timedelta(seconds=ttl_seconds))
    session.add(
        WebSession(
            id=_digest(cookie_value),
            user_id=user.id,
            token_version=user.token_version,
            csrf_token=opened.csrf_token,
            created_at=now,
            expires_at=opened.expires_at,
        )
    )
    return opened


def resolve(session: Session, clock: Clock, cookie_value: str) -> SessionPrincipal | None:
    """The principal of a live session: not expired, not signed out, its account active and unchanged."""
    row = session.get(WebSession, _digest(cookie_value))
    if row is None or row.expires_at <= clock.now():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active or user.token_version != row.token_version:
        return None
    return SessionPrincipal(principal_of(user), row.csrf_token)


def sign_out(session: Session, cookie_value: str) -> None:
    """End a session at once (its cookie opens nothing afterwards)."""
    session.execute(delete(WebSession).where(WebSession.id == _digest(cookie_value)))


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of an anti-forgery token."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
