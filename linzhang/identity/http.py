"""Bearer authentication for every endpoint, and the account endpoints."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import msgspec
from litestar import Controller, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.params import FromPath, JSONBody

from linzhang.container import Container
from linzhang.errors import Unauthorized, not_found
from linzhang.identity import service
from linzhang.identity.scope import Action, Principal, Role, authorize

PUBLIC_PATHS = ["^/healthz$", "^/readyz$", "^/schema"]


def _resolve(container: Container, token: str) -> Principal | None:
    with container.reading() as session:
        return service.principal_for_token(session, container.tokens, container.wall_clock, token)


class BearerAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("请先登录：需要持有令牌（POST /api/v1/auth/token）", code="token_required")
        container: Container = connection.app.state.container
        principal = await anyio.to_thread.run_sync(_resolve, container, token.strip())
        if principal is None:
            raise Unauthorized("令牌无效或已过期，或账号已停用", code="token_invalid")
        return AuthenticationResult(user=principal, auth=token)


authentication_middleware = DefineMiddleware(BearerAuthentication, exclude=PUBLIC_PATHS)


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str


class TokenResponse(msgspec.Struct):
    access_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class Me(msgspec.Struct):
    username: str
    role: str
    jurisdiction_code: str | None
    chief_id: int | None


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str
    role: Role
    jurisdiction_code: str | None = None
    grants: list[Action] = []


class UserOut(msgspec.Struct):
    id: int
    username: str
    role: str
    jurisdiction_code: str | None
    chief_id: int | None
    active: bool


def _user_out(user: service.UserView) -> UserOut:
    return UserOut(user.id, user.username, user.role.value, user.jurisdiction_code, user.chief_id, user.active)


class IdentityController(Controller):
    tags = ["identity"]

    @post("/auth/token", exclude_from_auth=True, status_code=200, sync_to_thread=True)
    def issue_token(self, data: JSONBody[TokenRequest], container: NamedDependency[Container]) -> TokenResponse:
        """Exchange a username and password for a bearer token."""
        with container.reading() as session:
            issued = service.authenticate(
                session, container.passwords, container.tokens, container.wall_clock, data.username, data.password
            )
        return TokenResponse(issued.access_token, issued.expires_in)

    @get("/me", sync_to_thread=False)
    def me(self, principal: NamedDependency[Principal]) -> Me:
        """Who the token belongs to."""
        return Me(principal.username, principal.role.value, principal.jurisdiction_code, principal.chief_id)

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
            )
        return _user_out(user)

    @get("/users/{user_id:int}", sync_to_thread=True)
    def get_user(
        self, user_id: FromPath[int], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> UserOut:
        """One account (administrators)."""
        authorize(principal, Action.MANAGE_USERS)
        with container.reading() as session:
            user = service.get_user(session, user_id)
        if user is None:
            raise not_found("user")
        return _user_out(user)
