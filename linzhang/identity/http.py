"""Bearer authentication for every endpoint, and the account endpoints."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.params import FromPath, JSONBody

from linzhang.api.schemas import Id32
from linzhang.container import Container
from linzhang.errors import TooManyRequests, Unauthorized, not_found
from linzhang.identity import service
from linzhang.identity.passwords import MAX_PASSWORD_LENGTH
from linzhang.identity.scope import Action, Principal, Role, authorize
from linzhang.identity.throttle import LoginAttempt

PUBLIC_PATHS = ["^/healthz$", "^/readyz$", "^/schema"]
MAX_TOKEN_LENGTH = 4096
# A username longer than any account's is refused unread (usernames are at most 64 characters).
MAX_USERNAME_LENGTH = 64
Password = Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD_LENGTH)]
# A password being set: the policy's minimum length (the default; linzhang.identity.passwords checks the
# configured one, and that it is neither the username nor a common password).
NewPassword = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_PASSWORD_LENGTH,
        extra_json_schema={"description": "新密码：至少10个字符，不能是用户名或常见密码", "extra": {"min_length": 10}},
    ),
]
# A username (linzhang.identity.service.USERNAME_PATTERN).
Username = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_USERNAME_LENGTH,
        extra_json_schema={
            "description": "用户名：3至64位字母、数字或 . _ @ -",
            "extra": {"pattern": "^[A-Za-z0-9_.@-]{3,64}$"},
        },
    ),
]


def _resolve(container: Container, token: str) -> Principal | None:
    with container.reading() as session:
        return service.principal_for_token(session, container.tokens, container.wall_clock, token)


class BearerAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("请先登录：需要持有令牌（POST /api/v1/auth/token）", code="token_required")
        container: Container = connection.app.state.container
        # Tokens come from outside: a NUL or an absurd length is simply not one of ours.
        if "\x00" in token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized("令牌无效或已过期，或账号已停用", code="token_invalid")
        principal = await anyio.to_thread.run_sync(_resolve, container, token.strip())
        if principal is None:
            raise Unauthorized("令牌无效或已过期，或账号已停用", code="token_invalid")
        return AuthenticationResult(user=principal, auth=token)


authentication_middleware = DefineMiddleware(BearerAuthentication, exclude=PUBLIC_PATHS)


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=MAX_USERNAME_LENGTH)]
    password: Password


class TokenResponse(msgspec.Struct):
    access_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class Me(msgspec.Struct):
    username: str
    role: str
    jurisdiction_code: str | None
    chief_id: int | None
    display_name: str


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: NewPassword
    role: Role
    jurisdiction_code: str | None = None
    grants: list[Action] = []
    display_name: str | None = None


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    old_password: Password
    new_password: NewPassword


class PasswordReset(msgspec.Struct, forbid_unknown_fields=True):
    new_password: NewPassword


class UserOut(msgspec.Struct):
    id: int
    username: str
    role: str
    jurisdiction_code: str | None
    chief_id: int | None
    active: bool
    display_name: str


def _user_out(user: service.UserView) -> UserOut:
    return UserOut(
        user.id, user.username, user.role.value, user.jurisdiction_code, user.chief_id, user.active, user.display_name
    )


def client_address(request: Request[Any, Any, Any]) -> str:
    """The address a login comes from, for its throttle (the proxy's own when behind one)."""
    return request.client.host if request.client else "unknown"


class IdentityController(Controller):
    tags = ["identity"]

    @post("/auth/token", exclude_from_auth=True, status_code=200)
    async def issue_token(
        self, request: Request[Any, Any, Any], data: JSONBody[TokenRequest], container: NamedDependency[Container]
    ) -> TokenResponse:
        """Exchange a username and password for a bearer token (throttled per account and address)."""
        throttle = container.login_throttle
        attempt = LoginAttempt(data.username, client_address(request))
        try:
            async with throttle.one_at_a_time(attempt):
                await anyio.to_thread.run_sync(throttle.check, attempt)
                credentials = await anyio.to_thread.run_sync(_credentials, container, data.username)
                # The slow hash runs on the passwords' own pool; no request thread waits for it.
                matches = await container.passwords.verify_async(credentials.password_hash, data.password)
                try:
                    issued = service.issue_token(container.tokens, container.wall_clock, credentials, matches)
                except Unauthorized:
                    await anyio.to_thread.run_sync(throttle.failed, attempt)
                    raise
                await anyio.to_thread.run_sync(throttle.succeeded, attempt)
        except TooManyRequests as refused:
            await throttle.answer_slowly(refused)
            raise
        return TokenResponse(issued.access_token, issued.expires_in)

    @get("/me", sync_to_thread=False)
    def me(self, principal: NamedDependency[Principal]) -> Me:
        """Who the token belongs to."""
        return Me(
            principal.username,
            principal.role.value,
            principal.jurisdiction_code,
            principal.chief_id,
            principal.shown_as,
        )

    @post("/me/password", status_code=204, sync_to_thread=True)
    def change_own_password(
        self,
        data: JSONBody[PasswordChange],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> None:
        """Change one's own password (the old one required); every token of the account stops working."""
        with container.transaction() as session:
            service.change_own_password(session, container.passwords, principal, data.old_password, data.new_password)

    @post("/users", sync_to_thread=True)
    def create_user(
        self, data: JSONBody[NewUser], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> UserOut:
        """Create an account (administrators)."""
        authorize(principal, Action.MANAGE_USERS)
        with container.transaction() as session:
            reference = None
            if data.jurisdiction_code is not None:
                reference = container.lookup_jurisdiction(session, data.jurisdiction_code)
                if reference is None:
                    raise not_found("jurisdiction", field="jurisdiction_code")
            user = service.create_user(
                session,
                container.passwords,
                container.clock,
                username=data.username,
                password=data.password,
                role=data.role,
                jurisdiction_code=reference.code if reference else None,
                jurisdiction_path=reference.path if reference else None,
                grants=data.grants,
                created_by=principal.user_id,
                display_name=data.display_name,
                jurisdiction_name=reference.name if reference else None,
                jurisdiction_level=reference.level if reference else None,
            )
        return _user_out(user)

    @get("/users/{user_id:int}", sync_to_thread=True)
    def get_user(
        self, user_id: FromPath[Id32], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> UserOut:
        """One account (administrators)."""
        authorize(principal, Action.MANAGE_USERS)
        with container.reading() as session:
            user = service.get_user(session, user_id)
        if user is None:
            raise not_found("user")
        return _user_out(user)

    @post("/users/{user_id:int}/password", status_code=204, sync_to_thread=True)
    def reset_password(
        self,
        user_id: FromPath[Id32],
        data: JSONBody[PasswordReset],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> None:
        """Set an account's password (administrators); its tokens stop working and its login throttle clears."""
        authorize(principal, Action.MANAGE_USERS)
        with container.transaction() as session:
            user = service.reset_password(session, container.passwords, user_id, data.new_password)
        container.login_throttle.clear_account(user.username)

    @post("/users/{user_id:int}/disable", status_code=204, sync_to_thread=True)
    def disable_user(
        self, user_id: FromPath[Id32], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> None:
        """Disable an account (administrators): it cannot sign in and its tokens stop working at once."""
        authorize(principal, Action.MANAGE_USERS)
        with container.transaction() as session:
            service.set_active(session, user_id, active=False, by_user_id=principal.user_id)

    @post("/users/{user_id:int}/enable", status_code=204, sync_to_thread=True)
    def enable_user(
        self, user_id: FromPath[Id32], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> None:
        """Enable a disabled account again (administrators); it signs in with its password."""
        authorize(principal, Action.MANAGE_USERS)
        with container.transaction() as session:
            user = service.set_active(session, user_id, active=True)
        container.login_throttle.clear_account(user.username)


def _credentials(container: Container, username: str) -> service.Credentials:
    with container.reading() as session:
        return service.credentials_for(session, username)
