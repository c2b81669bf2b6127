"""Events of the patrols domain."""

from __future__ import annotations

import datetime as dt

from linzhang.contracts.base import Event


class RangerRegistered(Event, frozen=True, kw_only=True):
    """A 护林员 or 监管员 took up a post in a village or township."""

    ranger_id: int
    name: str
    post: str  # ranger | supervisor
    jurisdiction_code: str
    path: str
    started_on: dt.date
    predecessor_id: int | None = None


class RangerReplaced(Event, frozen=True, kw_only=True):
    predecessor_id: int
    successor_id: int
    jurisdiction_code: str
    path: str
    ended_on: dt.date


class PatrolJudged(Event, frozen=True, kw_only=True):
    """A patrol ended and was judged; ``valid`` says whether it counts towards its day."""

    patrol_id: int
    person_kind: str  # ranger | chief
    person_id: int
    post: str  # ranger | supervisor | village_chief | township_chief
    jurisdiction_code: str
    path: str
    day: dt.date
    valid: bool
    distance_m: float
    duration_s: float
    reason_codes: tuple[str, ...] = ()


class PatrolMonthClosed(Event, frozen=True, kw_only=True):
    """The month-end check closed one person's month: their valid patrol days against the requirement.

    Published once per person-month for everyone who held their post the whole month (whoever joined or
    left during it owes no whole month's days and is not judged); ``event_id`` is derived from the
    person-month, so a repeated publication is the same event.
    """

    person_kind: str  # ranger | chief
    person_id: int
    person_name: str
    post: str  # ranger | supervisor | village_chief | township_chief
    jurisdiction_code: str
    path: str
    year: int
    month: int
    valid_days: int
    required_days: int
