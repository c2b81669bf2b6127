"""Events of the chiefs domain."""

from __future__ import annotations

import datetime as dt

from linzhang.contracts.base import Event


class ChiefAppointed(Event, frozen=True, kw_only=True):
    chief_id: int
    name: str
    post: str
    role: str  # general 总林长 | deputy 副总林长 | chief 林长
    jurisdiction_code: str
    path: str
    term_start: dt.date
    predecessor_id: int | None = None


class ChiefTermEnded(Event, frozen=True, kw_only=True):
    chief_id: int
    jurisdiction_code: str
    path: str
    term_end: dt.date
    reason: str
    successor_id: int | None = None


class ChiefReplaced(Event, frozen=True, kw_only=True):
    """A successor took over; everything open in the predecessor's inbox moved to the successor."""

    predecessor_id: int
    successor_id: int
    jurisdiction_code: str
    path: str
    moved_inbox_items: int
