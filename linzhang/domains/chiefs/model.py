"""Pure rules of the chiefs domain: roles, appointments, terms."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

NAME_MAX = 50
POST_MAX = 100
REASON_MAX = 500
EARLIEST_TERM = dt.date(2000, 1, 1)


class ChiefRole(StrEnum):
    GENERAL = "general"  # 总林长: party secretary and government head, 党政同责
    DEPUTY = "deputy"  # 副总林长
    CHIEF = "chief"  # 林长

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {ChiefRole.GENERAL: "总林长", ChiefRole.DEPUTY: "副总林长", ChiefRole.CHIEF: "林长"}


class InvalidAppointment(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_person(name: str, post: str) -> tuple[str, str]:
    """The trimmed name and post, or the reason they cannot be used."""
    name, post = name.strip(), post.strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidAppointment(f"a name is 1 to {NAME_MAX} characters", "name")
    if not post or len(post) > POST_MAX:
        raise InvalidAppointment(f"a post is 1 to {POST_MAX} characters (e.g. 区委书记)", "post")
    return name, post


def check_term_start(term_start: dt.date, today: dt.date) -> dt.date:
    if term_start < EARLIEST_TERM:
        raise InvalidAppointment(f"a term cannot start before {EARLIEST_TERM.isoformat()}", "term_start")
    if term_start > today + dt.timedelta(days=366):
        raise InvalidAppointment("a term starts within a year from today", "term_start")
    return term_start


def check_term_end(term_start: dt.date, term_end: dt.date, today: dt.date) -> dt.date:
    """A term ends on or after its start, and not in the future (an end is recorded when it happens)."""
    if term_end < term_start:
        raise InvalidAppointment(f"the term started on {term_start.isoformat()}; it cannot end before", "term_end")
    if term_end > today:
        raise InvalidAppointment("a term's end is recorded when it happens, not in advance", "term_end")
    return term_end


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidAppointment(f"a reason is 1 to {REASON_MAX} characters", "reason")
    return reason
