"""Login throttling: exponential back-off per account and per client address.

Each failed login counts against two keys, the (case-folded) username and the client's address. Past
a number of free failures every further attempt on that key has to wait ``backoff * 2^(n-1)``
seconds (capped), and an attempt during the wait answers 429 with ``Retry-After`` without checking
any password. A successful login clears the account's counter. Counters live in Redis when it is
configured (shared by every server, expiring by themselves), in the database otherwise.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import redis
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from linzhang.clock import Clock
from linzhang.errors import TooManyRequests
from linzhang.identity.tables import LoginFailure
from linzhang.metrics import LOGIN_FAILURES, LOGIN_THROTTLED
from linzhang.settings import LoginSettings, Settings

ACCOUNT_PREFIX = "account:"
ADDRESS_PREFIX = "address:"
REDIS_KEY_PREFIX = "linzhang:login:"
# Longest key kept: usernames are at most 64 characters and addresses shorter, but a client sends any.
MAX_KEY_LENGTH = 200


def backoff_seconds(failures: int, free: int, settings: LoginSettings) -> float:
    """The wait after ``failures`` failures: none up to ``free``, then doubling from ``backoff_seconds``."""
    over = failures - free
    if over <= 0:
        return 0.0
    # Capping the exponent keeps the arithmetic finite for any count.
    exponent = min(over - 1, 62)
    return float(min(settings.backoff_seconds * 2**exponent, settings.backoff_max_seconds))


class FailureCounters(Protocol):
    def blocked_for(self, key: str, now: datetime) -> float:
        """Seconds an attempt on ``key`` must still wait (0 when it may go ahead)."""
        ...

    def record_failure(self, key: str, free: int, now: datetime) -> None: ...

    def clear(self, key: str) -> None: ...

    def forget_everything(self) -> None: ...


class RedisFailureCounters:
    """Counters in Redis: a failure count that expires with the window, and a key that holds the wait."""

    def __init__(self, client: redis.Redis[bytes], settings: LoginSettings) -> None:
        self._redis = client
        self._settings = settings

    def blocked_for(self, key: str, now: datetime) -> float:
        remaining_ms = int(self._redis.pttl(REDIS_KEY_PREFIX + "wait:" + key))
        return max(remaining_ms, 0) / 1000

    def record_failure(self, key: str, free: int, now: datetime) -> None:
        count_key = REDIS_KEY_PREFIX + "failures:" + key
        with self._redis.pipeline() as pipe:
            pipe.incr(count_key)
            pipe.expire(count_key, self._settings.failure_window_seconds)
            failures = int(pipe.execute()[0])
        wait = backoff_seconds(failures, free, self._settings)
        if wait > 0:
            self._redis.set(REDIS_KEY_PREFIX + "wait:" + key, 1, px=max(int(wait * 1000), 1))

    def clear(self, key: str) -> None:
        self._redis.delete(REDIS_KEY_PREFIX + "failures:" + key, REDIS_KEY_PREFIX + "wait:" + key)

    def forget_everything(self) -> None:
        for key in self._redis.scan_iter(match=REDIS_KEY_PREFIX + "*", count=1000):
            self._redis.delete(key)


class DatabaseFailureCounters:
    """Counters in the ``identity_login_failures`` table, each update in a short transaction of its own."""

    def __init__(self, session_factory: sessionmaker[Session], settings: LoginSettings) -> None:
        self._sessions = session_factory
        self._settings = settings

    def blocked_for(self, key: str, now: datetime) -> float:
        with self._sessions() as session:
            until = session.scalar(select(LoginFailure.blocked_until).where(LoginFailure.key == key))
        return max((until - now).total_seconds(), 0.0) if until is not None else 0.0

    def record_failure(self, key: str, free: int, now: datetime) -> None:
        window_start = now - timedelta(seconds=self._settings.failure_window_seconds)
        for _attempt in range(2):
            try:
                with self._sessions() as session, session.begin():
                    row = session.execute(
                        select(LoginFailure).where(LoginFailure.key == key).with_for_update()
                    ).scalar_one_or_none()
                    if row is None:
                        row = LoginFailure(key=key, failures=0, last_failure_at=now, blocked_until=None)
                        session.add(row)
                    elif row.last_failure_at < window_start:
                        row.failures = 0
                    row.failures += 1
                    row.last_failure_at = now
                    wait = backoff_seconds(row.failures, free, self._settings)
                    row.blocked_until = now + timedelta(seconds=wait) if wait > 0 else None
                return
            except IntegrityError:
                # Another server inserted the same key first: count on its row.
                continue

    def clear(self, key: str) -> None:
        # Most logins succeed with no failure counted: a read spares them a write transaction.
        with self._sessions() as session:
            if session.scalar(select(LoginFailure.key).where(LoginFailure.key == key)) is None:
                return
        with self._sessions() as session, session.begin():
            session.execute(delete(LoginFailure).where(LoginFailure.key == key))

    def forget_everything(self) -> None:
        with self._sessions() as session, session.begin():
            session.execute(delete(LoginFailure))

    def purge(self, now: datetime) -> int:
        """Forget counters with no failure inside the window and no wait left."""
        window_start = now - timedelta(seconds=self._settings.failure_window_seconds)
        with self._sessions() as session, session.begin():
            result = session.execute(
                delete(LoginFailure).where(
                    LoginFailure.last_failure_at < window_start,
                    (LoginFailure.blocked_until.is_(None)) | (LoginFailure.blocked_until < now),
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)


def login_throttle(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> LoginThrottle:
    """The throttle on Redis when it is configured (shared by every server), else on the database."""
    counters: FailureCounters
    if settings.redis_url:
        counters = RedisFailureCounters(redis.Redis.from_url(settings.redis_url), settings.login)
    else:
        counters = DatabaseFailureCounters(session_factory, settings.login)
    return LoginThrottle(counters, settings.login, clock)


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    username: str
    address: str

    @property
    def keys(self) -> tuple[str, str]:
        return (
            (ACCOUNT_PREFIX + self.username.casefold())[:MAX_KEY_LENGTH],
            (ADDRESS_PREFIX + self.address)[:MAX_KEY_LENGTH],
        )


class LoginThrottle:
    """Decides whether a login may be tried now, and counts how it went."""

    def __init__(self, counters: FailureCounters, settings: LoginSettings, clock: Clock) -> None:
        self._counters = counters
        self._settings = settings
        self._clock = clock
        # One login per account at a time in this process (the event loop's): a burst of parallel
        # guesses would otherwise all pass the check before the first failure is counted.
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def one_at_a_time(self, attempt: LoginAttempt) -> AsyncIterator[None]:
        """Wait for the account's turn: its logins are checked one after the other, never in parallel."""
        key = attempt.keys[0]
        lock, waiting = self._turns.get(key, (asyncio.Lock(), 0))
        self._turns[key] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._turns[key]
            if waiting <= 1:
                del self._turns[key]
            else:
                self._turns[key] = (lock, waiting - 1)

    async def answer_slowly(self, refusal: TooManyRequests) -> None:
        """Hold a refused login's answer a moment: a client retrying in a loop costs the server nothing."""
        await asyncio.sleep(min(self._settings.refusal_delay_seconds, refusal.retry_after))

    def check(self, attempt: LoginAttempt) -> None:
        """Raise :class:`TooManyRequests` while either the account or the address has to wait."""
        now = self._clock.now()
        account_wait, address_wait = (self._counters.blocked_for(key, now) for key in attempt.keys)
        wait = max(account_wait, address_wait)
        if wait > 0:
            LOGIN_THROTTLED.labels(scope="account" if account_wait > 0 else "address").inc()
            raise TooManyRequests(
                "登录失败次数过多，请稍后再试", retry_after=max(math.ceil(wait), 1), code="login_throttled"
            )

    def failed(self, attempt: LoginAttempt) -> None:
        """A wrong username or password: counted against the account and the address (and in the metrics)."""
        LOGIN_FAILURES.inc()
        now = self._clock.now()
        account_key, address_key = attempt.keys
        self._counters.record_failure(account_key, self._settings.account_free_failures, now)
        self._counters.record_failure(address_key, self._settings.address_free_failures, now)

    def succeeded(self, attempt: LoginAttempt) -> None:
        """A good password clears the account's counter (the address keeps its own)."""
        self._counters.clear(attempt.keys[0])

    def forget_everything(self) -> None:
        """Clear every counter (operators after an incident; tests)."""
        self._counters.forget_everything()

    def clear_account(self, username: str) -> None:
        """An administrator reset the password or re-enabled the account: it may sign in at once."""
        self._counters.clear((ACCOUNT_PREFIX + username.casefold())[:MAX_KEY_LENGTH])
