"""Signed bearer tokens (JWT, HS256)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

ISSUER = "linzhang"
ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    token_version: int


class Tokens:
    def __init__(self, secret_key: str, ttl_seconds: int) -> None:
        self._key = secret_key
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: int, token_version: int, now: datetime) -> str:
        claims = {
            "iss": ISSUER,
            "sub": str(user_id),
            "ver": token_version,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.ttl_seconds)).timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def read(self, token: str, now: datetime) -> TokenClaims | None:
        """The claims of a valid, unexpired token; None for anything else."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iss"], "verify_exp": False},
            )
            if int(claims["exp"]) <= now.timestamp():
                return None
            return TokenClaims(int(claims["sub"]), int(claims.get("ver", 0)))
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            return None
