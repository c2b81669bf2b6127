"""Accounts: create, authenticate, resolve a token to a principal, disable."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linzhang.clock import Clock
from linzhang.errors import Conflict, InvalidInput, Unauthorized
from linzhang.identity.passwords import Passwords, check_password_rules
from linzhang.identity.scope import Action, Principal, Role
from linzhang.identity.tables import User
from linzhang.identity.tokens import Tokens
from linzhang.paths import ROOT_PATH

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    role: Role
    jurisdiction_code: str | None
    chief_id: int | None
    active: bool


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


def _view(user: User) -> UserView:
    return UserView(user.id, user.username, Role(user.role), user.jurisdiction_code, user.chief_id, user.active)


def validate_new_account(username: str, password: str) -> None:
    """Raise :class:`InvalidInput` for a username or password that cannot be used."""
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("用户名为3至64位字母、数字或 . _ @ -", code="invalid_username", field="username")
    if reason := check_password_rules(password):
        raise InvalidInput(reason, code="password_too_weak", field="password")


def create_user(
    session: Session,
    passwords: Passwords,
    clock: Clock,
    *,
    username: str,
    password: str,
    role: Role,
    jurisdiction_code: str | None,
    jurisdiction_path: str | None,
    chief_id: int | None = None,
    grants: Iterable[Action] = (),
    created_by: int | None = None,
) -> UserView:
    """Create an account in the caller's transaction. Only admins may be bound to no jurisdiction."""
    validate_new_account(username, password)
    grants = frozenset(grants)
    if role is not Role.INTEGRATION and grants:
        raise InvalidInput("只有对接系统账号可以授权", code="grants_not_allowed", field="grants")
    if jurisdiction_path is None and role is not Role.ADMIN:
        raise InvalidInput("该类账号须绑定辖区", code="jurisdiction_required", field="jurisdiction_code")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已被占用", code="username_taken", field="username")
    user = User(
        username=username,
        password_hash=passwords.hash(password),
        role=role.value,
        jurisdiction_code=jurisdiction_code,
        jurisdiction_path=jurisdiction_path or ROOT_PATH,
        chief_id=chief_id,
        grants=" ".join(sorted(grant.value for grant in grants)),
        active=True,
        token_version=0,
        created_at=clock.now(),
        created_by=created_by,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        # Two requests raced for the same name; the unique constraint decided.
        raise Conflict(f"用户名 {username} 已被占用", code="username_taken", field="username") from None
    return _view(user)


def authenticate(
    session: Session, passwords: Passwords, tokens: Tokens, clock: Clock, username: str, password: str
) -> IssuedToken:
    """A bearer token for valid credentials of an active account; one answer for every failure."""
    user = session.scalar(select(User).where(User.username == username))
    valid = passwords.verify(user.password_hash if user else None, password)
    if user is None or not valid or not user.active:
        raise Unauthorized("用户名或密码错误，或账号已停用", code="bad_credentials")
    return IssuedToken(tokens.issue(user.id, user.token_version, clock.now()), tokens.ttl_seconds)


def principal_for_token(session: Session, tokens: Tokens, clock: Clock, token: str) -> Principal | None:
    """The principal behind a bearer token, if the token is valid and its account still active."""
    claims = tokens.read(token, clock.now())
    if claims is None:
        return None
    user = session.get(User, claims.user_id)
    if user is None or not user.active or user.token_version != claims.token_version:
        return None
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        jurisdiction_code=user.jurisdiction_code,
        path=user.jurisdiction_path,
        chief_id=user.chief_id,
        grants=frozenset(Action(grant) for grant in user.grants.split()),
    )


def disable_accounts_of_chief(session: Session, chief_id: int) -> int:
    """Disable every account of a chief whose term ended; their tokens stop working at once."""
    result = session.execute(
        update(User)
        .where(User.chief_id == chief_id, User.active.is_(True))
        .values(active=False, token_version=User.token_version + 1)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def get_user(session: Session, user_id: int) -> UserView | None:
    user = session.get(User, user_id)
    return _view(user) if user else None
