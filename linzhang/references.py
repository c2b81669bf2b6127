"""Reference data every part of the system may hold: a jurisdiction as the tree knows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class JurisdictionRef:
    code: str
    name: str
    level: str
    parent_code: str | None
    path: str  # /50/500101/.../


class JurisdictionLookup(Protocol):
    def __call__(self, session: Session, code: str) -> JurisdictionRef | None: ...
