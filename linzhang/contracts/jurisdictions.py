"""Events of the jurisdictions domain."""

from __future__ import annotations

from linzhang.contracts.base import Event


class JurisdictionCreated(Event, frozen=True, kw_only=True):
    code: str
    name: str
    level: str
    parent_code: str | None
    path: str


class JurisdictionRenamed(Event, frozen=True, kw_only=True):
    code: str
    old_name: str
    name: str
    path: str
