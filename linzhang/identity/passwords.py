"""Password hashing with Argon2id on a bounded pool of its own, and the password policy."""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from linzhang.errors import TooManyRequests
from linzhang.settings import SecuritySettings

MAX_PASSWORD_LENGTH = 256
COMMON_PASSWORDS_FILE = "common-passwords.txt"
# A client told to come back when the hashing queue is full waits this long (seconds).
BUSY_RETRY_AFTER_SECONDS = 1
# The highest niceness Linux knows.
MAX_NICE = 19


class Passwords:
    """Hashes and checks passwords on ``password_hash_threads`` threads of their own.

    Argon2id is deliberately slow; on the threads that serve requests a login flood would starve every
    other request. Here a flood waits in a queue of ``password_hash_queue`` places and, beyond that,
    is told to come back (429) without any hashing at all.
    """

    def __init__(self, settings: SecuritySettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kib, parallelism=1
        )
        self.min_length = settings.password_min_length
        self._pool = ThreadPoolExecutor(
            settings.password_hash_threads,
            thread_name_prefix="password-hash",
            initializer=_lower_priority,
            initargs=(settings.password_hash_nice,),
        )
        self._places = threading.BoundedSemaphore(settings.password_hash_threads + settings.password_hash_queue)
        # Verifying against this when the user does not exist takes as long as a real check.
        self._dummy = self._hasher.hash("not a password of anyone")

    def _submit(self, function: object, *args: str | None) -> Future[object]:
        if not self._places.acquire(blocking=False):
            raise TooManyRequests(
                "登录请求过多，请稍后再试", retry_after=BUSY_RETRY_AFTER_SECONDS, code="password_checks_busy"
            )
        future: Future[object] = self._pool.submit(function, *args)  # type: ignore[arg-type]
        future.add_done_callback(lambda _done: self._places.release())
        return future

    def _hash_now(self, password: str) -> str:
        return str(self._hasher.hash(password))

    def _verify_now(self, password_hash: str | None, password: str) -> bool:
        try:
            return bool(self._hasher.verify(password_hash or self._dummy, password)) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def hash(self, password: str) -> str:
        """The Argon2id hash of ``password`` (blocks the calling thread, not the pool's queue order)."""
        return str(self._submit(self._hash_now, password).result())

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Does ``password`` match ``password_hash``? A missing hash takes as long and answers False."""
        return bool(self._submit(self._verify_now, password_hash, password).result())

    async def verify_async(self, password_hash: str | None, password: str) -> bool:
        """:meth:`verify` for the event loop: it waits without holding any request thread."""
        return bool(await asyncio.wrap_future(self._submit(self._verify_now, password_hash, password)))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _lower_priority(nice: int) -> None:
    """Make the calling thread nicer (Linux schedules threads one by one; elsewhere nothing happens)."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(os.getpriority(os.PRIO_PROCESS, thread) + nice, MAX_NICE))
    except OSError:
        pass  # not permitted here: the pool still bounds the hashing


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, case-folded."""
    text = files("linzhang.identity").joinpath(COMMON_PASSWORDS_FILE).read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_rules(password: str, *, username: str, min_length: int) -> tuple[str, str] | None:
    """The (code, Chinese reason) a new password is refused for, or None."""
    if len(password) < min_length:
        return "password_too_short", f"密码至少需要 {min_length} 个字符"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "password_too_long", f"密码最多 {MAX_PASSWORD_LENGTH} 个字符"
    folded = password.casefold()
    if folded == username.casefold():
        return "password_is_username", "密码不能与用户名相同"
    if folded in common_passwords():
        return "password_too_common", "这个密码过于常见，请换一个"
    return None
