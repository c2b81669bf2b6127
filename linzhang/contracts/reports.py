"""Report intake: a problem reported outside the tasks domain becomes an issue (问题整改) there.

Any domain that takes reports (the public signboards, patrols' field reports, a month-end compliance
check) publishes :class:`ProblemReported`; the tasks domain creates one issue per ``(source,
reference)`` in the named jurisdiction as a named system actor, so it lands in that jurisdiction's
inbox at once and escalates like any issue. It answers :class:`ReportBecameIssue` with the task's id
(the reporting domain then follows the issue through the task events of that id), or
:class:`ReportRefused` when the report cannot become an issue (a jurisdiction or category unknown).

A report published twice (a retry, a repeated batch) makes one issue: ``(source, reference)`` is the
idempotency key, and the second publication answers nothing new.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from linzhang.contracts.base import Event

# Who reports: the stable codes of ``source`` and the names a person reads beside them.
SOURCES: dict[str, str] = {
    "public": "公众举报",
    "patrol": "巡林上报",
    "compliance": "巡林履职督查",
}


class ProblemReported(Event, frozen=True, kw_only=True):
    """A problem was reported in a jurisdiction; the tasks domain makes it an issue there."""

    source: str  # one of SOURCES: who reported
    reference: str  # the reporting domain's own id of the report, unique within its source
    jurisdiction_code: str  # where the issue goes (a village, a township ...)
    category: str | None  # a code of the shared category vocabulary (config categories.toml)
    title: str  # the issue's title (at most 200 characters)
    text: str  # what was reported (the issue's description)
    reported_at: dt.datetime
    reported_by: str  # how the reporter is shown ("公众", a ranger's name); never a username
    longitude: float | None = None
    latitude: float | None = None
    photo_hashes: list[str] = msgspec.field(default_factory=list)  # SHA-256 of stored photos (linzhang.media)
    due_in_workdays: int | None = None  # the issue's deadline; None: the intake's default


class ReportBecameIssue(Event, frozen=True, kw_only=True):
    """The report is now the issue ``task_id`` in ``jurisdiction_code``."""

    source: str
    reference: str
    task_id: int
    jurisdiction_code: str


class ReportRefused(Event, frozen=True, kw_only=True):
    """The report could not become an issue; ``code`` and the Chinese ``detail`` say why."""

    source: str
    reference: str
    code: str
    detail: str
