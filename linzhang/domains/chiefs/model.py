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
    """An appointment breaks a rule: a Chinese message, the input at fault and a machine code."""

    def __init__(self, message: str, field: str, *, code: str = "appointment_invalid") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def check_person(name: str, post: str) -> tuple[str, str]:
    """The trimmed name and post, or the reason they cannot be used."""
    name, post = name.strip(), post.strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidAppointment(f"姓名为1至{NAME_MAX}个字", "name", code="name_length")
    if not post or len(post) > POST_MAX:
        raise InvalidAppointment(f"职务为1至{POST_MAX}个字（如 区委书记）", "post", code="post_length")
    return name, post


def check_term_start(term_start: dt.date, today: dt.date) -> dt.date:
    if term_start < EARLIEST_TERM:
        raise InvalidAppointment(
            f"任期不能早于 {EARLIEST_TERM.isoformat()} 开始", "term_start", code="term_start_too_early"
        )
    if term_start > today + dt.timedelta(days=366):
        raise InvalidAppointment("任期须在今后一年内开始", "term_start", code="term_start_too_late")
    return term_start


def check_term_end(term_start: dt.date, term_end: dt.date, today: dt.date) -> dt.date:
    """A term ends on or after its start, and not in the future (an end is recorded when it happens)."""
    if term_end < term_start:
        raise InvalidAppointment(
            f"任期于 {term_start.isoformat()} 开始，不能早于此日结束", "term_end", code="term_end_before_start"
        )
    if term_end > today:
        raise InvalidAppointment("离任日期在离任时登记，不能提前", "term_end", code="term_end_in_future")
    return term_end


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidAppointment(f"原因为1至{REASON_MAX}个字", "reason", code="reason_length")
    return reason
