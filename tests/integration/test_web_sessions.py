"""Browser sessions: the same accounts and passwords, ended by expiry, sign-out, disabling or a new password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.errors import PermissionDenied, Unauthorized
from linzhang.identity import Role, sessions
from linzhang.identity.tables import User, WebSession
from linzhang.settings import Settings
from tests.support.world import PASSWORD, add_user, seeded_world

TTL = 3600


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2021, 3, 1, 1, tzinfo=UTC))


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry, clock: FixedClock):  # type: ignore[no-untyped-def]
    with seeded_world(settings, registry, clock, {"village": (Role.CHIEF, "500101001001")}) as container:
        yield container


def open_session(container: Container, username: str = "village", password: str = PASSWORD) -> sessions.OpenedSession:
    with container.transaction() as session:
        return sessions.sign_in(session, container.passwords, container.clock, username, password, TTL)


def resolve(container: Container, cookie: str) -> sessions.SessionPrincipal | None:
    with container.reading() as session:
        return sessions.resolve(session, container.clock, cookie)


def test_a_session_is_the_account_and_keeps_only_a_digest(world: Container) -> None:
    opened = open_session(world)
    resolved = resolve(world, opened.cookie_value)
    assert resolved is not None
    assert resolved.principal.username == "village"
    assert resolved.principal.path == "/50/500101/500101001/500101001001/"
    assert resolved.csrf_token == opened.csrf_token
    with world.reading() as session:
        stored = session.scalars(select(WebSession.id)).all()
    assert opened.cookie_value not in stored
    assert len(stored[0]) == 64
    assert resolve(world, opened.cookie_value + "x") is None


def test_refusals_say_the_same_for_every_failure(world: Container) -> None:
    with pytest.raises(Unauthorized) as wrong:
        open_session(world, password="not it")
    with pytest.raises(Unauthorized) as unknown:
        open_session(world, username="nobody")
    assert wrong.value.detail == unknown.value.detail
    add_user(world, "feed", Role.INTEGRATION, "50")
    with pytest.raises(PermissionDenied):
        open_session(world, username="feed")


def test_expiry_sign_out_disabling_and_a_new_password_end_it(world: Container, clock: FixedClock) -> None:
    first = open_session(world)
    clock.advance(timedelta(seconds=TTL))
    assert resolve(world, first.cookie_value) is None  # expired
    second = open_session(world)  # signing in removes expired rows
    with world.reading() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 1
    with world.transaction() as session:
        sessions.sign_out(session, second.cookie_value)
    assert resolve(world, second.cookie_value) is None
    third = open_session(world)
    with world.transaction() as session:  # what a password change or disabling does to the account
        session.execute(update(User).where(User.username == "village").values(token_version=User.token_version + 1))
    assert resolve(world, third.cookie_value) is None
    fourth = open_session(world)
    with world.transaction() as session:
        session.execute(update(User).where(User.username == "village").values(active=False))
    assert resolve(world, fourth.cookie_value) is None
    with pytest.raises(Unauthorized):
        open_session(world)
