"""登录 and 退出: a session cookie over the same accounts and passwords as the API's tokens."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Response, Template

from linzhang.container import Container
from linzhang.errors import LinzhangError, TooManyRequests, Unauthorized
from linzhang.identity import sessions
from linzhang.identity.http import client_address
from linzhang.identity.throttle import LoginAttempt
from linzhang.web.session import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    Viewer,
    new_token,
    safe_next,
    session_cookie,
    sign_in_csrf_cookie,
)


class SignInForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    csrf_token: str = ""
    next: str = ""


def _form(container: Container, *, error: str | None, username: str, next_url: str, status: int) -> Response[Any]:
    token = new_token()
    response = Template(
        template_name="login.html",
        context={"error": error, "username": username, "next": next_url, "csrf_token": token, "viewer": None},
        status_code=status,
    )
    response.set_cookie(sign_in_csrf_cookie(container, token))
    return response


def _open_session(container: Container, username: str, password: str) -> sessions.OpenedSession:
    with container.transaction() as session:
        return sessions.sign_in(
            session,
            container.passwords,
            container.clock,
            username,
            password,
            container.settings.web.session_ttl_seconds,
        )


class SignInController(Controller):
    tags = ["pages"]
    include_in_schema = False

    @get("/login", sync_to_thread=False)
    def sign_in_page(self, container: NamedDependency[Container], next: FromQuery[str | None] = None) -> Response[Any]:
        return _form(container, error=None, username="", next_url=safe_next(next) or "", status=200)

    @post("/login")
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        container: NamedDependency[Container],
    ) -> Response[Any]:
        """Through the same login throttle as ``POST /api/v1/auth/token``: per account and per address."""
        next_url = safe_next(data.next) or ""
        expected = request.cookies.get(SIGN_IN_CSRF_COOKIE)
        if expected is None or not sessions.same_token(expected, data.csrf_token):
            return _form(
                container, error="登录页已过期，请重新输入", username=data.username, next_url=next_url, status=403
            )
        username = data.username.strip()
        throttle = container.login_throttle
        attempt = LoginAttempt(username, client_address(request))
        try:
            async with throttle.one_at_a_time(attempt):
                await anyio.to_thread.run_sync(throttle.check, attempt)
                try:
                    opened = await anyio.to_thread.run_sync(_open_session, container, username, data.password)
                except Unauthorized:
                    await anyio.to_thread.run_sync(throttle.failed, attempt)
                    raise
                await anyio.to_thread.run_sync(throttle.succeeded, attempt)
        except TooManyRequests as refused:
            await throttle.answer_slowly(refused)
            wait = f"请 {refused.retry_after} 秒后再试" if refused.retry_after < 120 else "请稍后再试"
            form = _form(
                container,
                error=f"登录失败次数过多，{wait}",
                username=data.username,
                next_url=next_url,
                status=refused.status_code,
            )
            form.headers["Retry-After"] = str(refused.retry_after)
            return form
        except LinzhangError as exc:
            return _form(container, error=exc.detail, username=data.username, next_url=next_url, status=exc.status_code)
        ttl = container.settings.web.session_ttl_seconds
        response: Response[Any] = Redirect(next_url or "/", status_code=303)
        response.set_cookie(session_cookie(container, opened.cookie_value, ttl))
        response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/login")
        return response

    @post("/logout", sync_to_thread=True)
    def sign_out(
        self, request: Request[Any, Any, Any], viewer: NamedDependency[Viewer], container: NamedDependency[Container]
    ) -> Response[Any]:
        cookie_value = request.cookies.get(SESSION_COOKIE, "")
        with container.transaction() as session:
            sessions.sign_out(session, cookie_value)
        response: Response[Any] = Redirect("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/", sync_to_thread=False)
    def home(self, viewer: NamedDependency[Viewer]) -> Redirect:
        """The page a person lands on depends on the role (the inbox, or the board)."""
        return Redirect(viewer.home, status_code=303)
