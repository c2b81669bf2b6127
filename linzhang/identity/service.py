"""Accounts: create, authenticate, resolve a token to a principal, change passwords, disable and enable."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linzhang.clock import Clock
from linzhang.errors import Conflict, InvalidInput, PermissionDenied, Unauthorized, not_found
from linzhang.identity.passwords import Passwords, check_password_rules
from linzhang.identity.scope import Action, Principal, Role, grant_refusal
from linzhang.identity.tables import User
from linzhang.identity.tokens import Tokens
from linzhang.paths import ROOT_PATH

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
# Actors are stored beside what they did in columns of this width.
DISPLAY_NAME_MAX_LENGTH = 64
# What others see for an account's acts when it was given no name of its own.
ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "系统管理员",
    Role.OFFICE: "林长办",
    Role.CHIEF: "林长",
    Role.INTEGRATION: "对接系统",
    Role.RANGER: "护林员",
}
# The level below which there is nothing: work "from below" never reaches an account bound here.
LOWEST_LEVEL = "village"
BAD_CREDENTIALS = "用户名或密码错误，或账号已停用"


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: Role
    jurisdiction_code: str | None
    chief_id: int | None
    active: bool
    grants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a login needs from the database, read before the (slow) password check."""

    user_id: int | None
    password_hash: str | None
    token_version: int
    active: bool


def _view(user: User) -> UserView:
    return UserView(
        user.id,
        user.username,
        user.display_name,
        Role(user.role),
        user.jurisdiction_code,
        user.chief_id,
        user.active,
        tuple(user.grants.split()),
    )


def fold(username: str) -> str:
    """The form usernames are compared in."""
    return username.casefold()


def validate_new_account(username: str, password: str, *, min_length: int) -> None:
    """Raise :class:`InvalidInput` for a username or password that cannot be used."""
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput("用户名为3至64位字母、数字或 . _ @ -", code="invalid_username", field="username")
    check_new_password(username, password, min_length=min_length)


def check_new_password(username: str, password: str, *, min_length: int) -> None:
    if refusal := check_password_rules(password, username=username, min_length=min_length):
        code, reason = refusal
        raise InvalidInput(reason, code=code, field="password")


def default_display_name(role: Role, jurisdiction_name: str | None) -> str:
    label = ROLE_LABELS[role]
    return (jurisdiction_name or "")[: DISPLAY_NAME_MAX_LENGTH - len(label)] + label


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
    display_name: str | None = None,
    jurisdiction_name: str | None = None,
    jurisdiction_level: str | None = None,
) -> UserView:
    """Create an account in the caller's transaction. Only admins may be bound to no jurisdiction."""
    validate_new_account(username, password, min_length=passwords.min_length)
    grants = frozenset(grants)
    if role is not Role.INTEGRATION and grants:
        raise InvalidInput("只有对接系统账号可以授权", code="grants_not_allowed", field="grants")
    if jurisdiction_path is None and role is not Role.ADMIN:
        raise InvalidInput("该类账号须绑定辖区", code="jurisdiction_required", field="jurisdiction_code")
    for grant in sorted(grants):
        if refusal := grant_refusal(
            grant, jurisdiction_path or ROOT_PATH, lowest_level=jurisdiction_level == LOWEST_LEVEL
        ):
            raise InvalidInput(refusal, code="grant_never_usable", field="grants", grant=grant.value)
    name = (display_name or "").strip() or default_display_name(role, jurisdiction_name)
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        raise InvalidInput(
            f"显示名称最多 {DISPLAY_NAME_MAX_LENGTH} 个字符", code="display_name_too_long", field="display_name"
        )
    if session.scalar(select(User.id).where(User.username_folded == fold(username))) is not None:
        raise Conflict(f"用户名 {username} 已被占用", code="username_taken", field="username")
    user = User(
        username=username,
        username_folded=fold(username),
        display_name=name,
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


def credentials_for(session: Session, username: str) -> Credentials:
    """The stored hash and state of ``username`` (a blank record for a name nobody has)."""
    user = session.scalar(select(User).where(User.username_folded == fold(username)))
    if user is None:
        return Credentials(None, None, 0, False)
    return Credentials(user.id, user.password_hash, user.token_version, user.active)


def issue_token(tokens: Tokens, clock: Clock, credentials: Credentials, password_matches: bool) -> IssuedToken:
    """A bearer token for a matching password of an active account; one answer for every failure."""
    if credentials.user_id is None or not password_matches or not credentials.active:
        raise Unauthorized(BAD_CREDENTIALS, code="bad_credentials")
    return IssuedToken(tokens.issue(credentials.user_id, credentials.token_version, clock.now()), tokens.ttl_seconds)


def authenticate(
    session: Session, passwords: Passwords, tokens: Tokens, clock: Clock, username: str, password: str
) -> IssuedToken:
    """A bearer token for valid credentials of an active account (blocking; the CLI and tests)."""
    credentials = credentials_for(session, username)
    return issue_token(tokens, clock, credentials, passwords.verify(credentials.password_hash, password))


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
        display_name=user.display_name or user.username,
    )


def _load_for_change(session: Session, user_id: int) -> User:
    user = session.execute(select(User).where(User.id == user_id).with_for_update()).scalar_one_or_none()
    if user is None:
        raise not_found("user")
    return user


def _revoke_tokens(user: User) -> None:
    # Every token carries the version it was issued under; a new version makes them all stale.
    user.token_version = user.token_version + 1


def change_own_password(
    session: Session, passwords: Passwords, principal: Principal, old_password: str, new_password: str
) -> None:
    """The caller changes its own password, proving the old one; every token of the account dies."""
    user = _load_for_change(session, principal.user_id)
    if not passwords.verify(user.password_hash, old_password):
        raise PermissionDenied("原密码不正确", code="old_password_wrong", field="old_password")
    if old_password == new_password:
        raise InvalidInput("新密码不能与原密码相同", code="password_unchanged", field="new_password")
    check_new_password(user.username, new_password, min_length=passwords.min_length)
    user.password_hash = passwords.hash(new_password)
    _revoke_tokens(user)


def reset_password(session: Session, passwords: Passwords, user_id: int, new_password: str) -> UserView:
    """An administrator sets a new password; every token of the account dies."""
    user = _load_for_change(session, user_id)
    check_new_password(user.username, new_password, min_length=passwords.min_length)
    user.password_hash = passwords.hash(new_password)
    _revoke_tokens(user)
    return _view(user)


def set_active(session: Session, user_id: int, *, active: bool, by_user_id: int | None = None) -> UserView:
    """Disable or enable an account; either way every token it holds dies."""
    user = _load_for_change(session, user_id)
    if not active and by_user_id == user_id:
        raise Conflict("不能停用自己的账号", code="cannot_disable_self")
    if user.active != active:
        user.active = active
        _revoke_tokens(user)
    return _view(user)


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


def find_user(session: Session, username: str) -> UserView | None:
    user = session.scalar(select(User).where(User.username_folded == fold(username)))
    return _view(user) if user else None


def list_users(session: Session, *, after_id: int, limit: int) -> list[UserView]:
    """Accounts in id order, ``limit`` at a time after ``after_id``."""
    rows = session.scalars(select(User).where(User.id > after_id).order_by(User.id).limit(limit)).all()
    return [_view(user) for user in rows]
