"""Password hashing with Argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from linzhang.settings import SecuritySettings

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


class Passwords:
    def __init__(self, settings: SecuritySettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kib, parallelism=1
        )
        # Verifying against this when the user does not exist takes as long as a real check.
        self._dummy = self._hasher.hash("not a password of anyone")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False


def check_password_rules(password: str) -> str | None:
    """The reason a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少{MIN_PASSWORD_LENGTH}个字符"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"密码最多{MAX_PASSWORD_LENGTH}个字符"
    return None
