"""Who is looking at a page: the session cookie, the anti-forgery check, and what follows a refusal."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Request
from litestar.datastructures import Cookie

from linzhang.container import Container
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.identity import Principal, Role, sessions

SESSION_COOKIE = "linzhang_session"
# The sign-in form's double-submit token (there is no session yet to hold one).
SIGN_IN_CSRF_COOKIE = "linzhang_signin_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
BOARD_LEVELS = frozenset({"city", "district"})


class SignInRequired(Exception):
    """No live session: the person goes to the sign-in page (and comes back afterwards)."""


class ForgedRequest(Exception):
    """A state-changing request without the session's anti-forgery token."""


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal
    csrf_token: str
    place_name: str  # the jurisdiction's name ("" for an administrator)
    level: str  # city, district, township, village; "city" for an administrator (sees everything)

    @property
    def role(self) -> str:
        return self.principal.role.value

    @property
    def sees_board(self) -> bool:
        """The escalation board is the city's and each district's (a ranger's pages are the patrols')."""
        return self.level in BOARD_LEVELS and self.principal.role is not Role.RANGER

    @property
    def sees_inbox(self) -> bool:
        """The inbox (我的待办) is a jurisdiction's: chiefs' and offices', never a ranger's."""
        return bool(self.principal.jurisdiction_code) and self.principal.role is not Role.RANGER

    @property
    def home(self) -> str:
        """The page a person lands on: the board for the city and the offices, the inbox for chiefs below."""
        if self.principal.role is Role.RANGER:
            return "/patrols"
        if self.principal.role is Role.ADMIN or (self.sees_board and self.principal.role is Role.OFFICE):
            return "/board"
        if self.level == "city":
            return "/board"
        return "/inbox"


def session_cookie(container: Container, value: str, max_age: int) -> Cookie:
    """The session cookie: HttpOnly, SameSite=Lax, Secure when the settings say so (HTTPS)."""
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=container.settings.web.cookie_secure,
    )


def sign_in_csrf_cookie(container: Container, value: str) -> Cookie:
    return Cookie(
        key=SIGN_IN_CSRF_COOKIE,
        value=value,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=container.settings.web.cookie_secure,
    )


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _resolve(container: Container, cookie_value: str, csrf_given: str | None, check_csrf: bool) -> Viewer | None:
    with container.reading() as session:
        resolved = sessions.resolve(session, container.clock, cookie_value)
        if resolved is None:
            return None
        if check_csrf and not sessions.same_token(resolved.csrf_token, csrf_given):
            raise ForgedRequest
        principal = resolved.principal
        place = jurisdictions.lookup(session, principal.jurisdiction_code) if principal.jurisdiction_code else None
    return Viewer(
        principal,
        resolved.csrf_token,
        place.name if place else "",
        place.level if place else "city",
    )


async def provide_viewer(request: Request[Any, Any, Any]) -> Viewer:
    """The signed-in person, or :class:`SignInRequired`. Unsafe methods also need the anti-forgery token."""
    container: Container = request.app.state.container
    cookie_value = request.cookies.get(SESSION_COOKIE)
    if not cookie_value:
        raise SignInRequired
    check_csrf = request.method not in SAFE_METHODS
    given = request.headers.get(CSRF_HEADER) if check_csrf else None
    if check_csrf and given is None and request.content_type[0] in FORM_TYPES:
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    viewer = await anyio.to_thread.run_sync(_resolve, container, cookie_value, given, check_csrf)
    if viewer is None:
        raise SignInRequired
    request.state.viewer = viewer
    return viewer


def sign_in_url(request: Request[Any, Any, Any]) -> str:
    """The sign-in page, with the page to come back to (only a local path)."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return "/login?next=" + quote(target, safe="/")


def safe_next(value: str | None) -> str | None:
    """A redirect target after sign-in: a local path only (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value
