"""The escalation sweep: overdue open work climbs one level from its current holder, set-based.

One sweep is a handful of statements whatever the number of tasks: insert one escalation row per
overdue task (the unique (task, level) constraint makes a concurrent sweep's duplicate a no-op), move
the holders, write the timeline, publish a ``TaskEscalated`` per climb. Its cost follows the number of
tasks that climb; finding none is one index probe.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Integer, String, case, cast, func, insert, literal, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from linzhang.bus import publish
from linzhang.clock import SHANGHAI
from linzhang.contracts import TaskEscalated
from linzhang.db import insert_or_ignore
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.escalation_rules import level_above, levels_between
from linzhang.domains.tasks.events import SNAPSHOT_COLUMNS, snapshot
from linzhang.domains.tasks.tables import escalations_table as e
from linzhang.domains.tasks.tables import sweeps_table as sw
from linzhang.domains.tasks.tables import tasks_table as t
from linzhang.domains.tasks.tables import timeline_table as tl
from linzhang.errors import Conflict, InvalidInput
from linzhang.identity import Action, Principal, authorize
from linzhang.identity.scope import system_actor
from linzhang.paths import path_codes
from linzhang.vocabularies import LEVEL_CODES as LEVELS

# The periodic sweep's system actor; its acts are recorded as "escalation-sweep", as ever.
SWEEPER = system_actor("escalation-sweep", Action.RUN_SWEEP, name="escalation-sweep")
# A sweep that moved at least this many tasks refreshes the table's planner statistics.
REFRESH_STATISTICS_AFTER = 10_000
ANALYZED_COLUMNS = ("status", "holder_level", "holder_code", "next_escalation_on", "escalation_due_date")


@dataclass(frozen=True, slots=True)
class SweepResult:
    sweep_id: str
    as_of: dt.datetime
    escalated: int


def _days_between(dialect: str, later: dt.date, earlier: ColumnElement[Any]) -> ColumnElement[int]:
    if dialect == "postgresql":
        return cast(literal(later, Date) - earlier, Integer)
    return cast(func.julianday(literal(later.isoformat(), String)) - func.julianday(earlier), Integer)


def _slash(*parts: ColumnElement[Any]) -> ColumnElement[str]:
    path: ColumnElement[str] = literal("/", String)
    for part in parts:
        path = path + part + literal("/", String)
    return path


def _climb(
    due: Mapping[str, dt.date],
) -> tuple[ColumnElement[Any], ColumnElement[Any], ColumnElement[Any], ColumnElement[Any], str]:
    """The sweep's climb as SQL, generated from the rule :func:`level_above` over the levels.

    For a task held at any level but the top: the level it climbs to, that level's code and path on the
    owner's path (the task row's codes by level), and the new holder's escalation due date (``due`` by the
    level climbed to). Also the top level, where nothing climbs.
    """
    held = t.c.holder_level
    climbs = [(level, above) for level in LEVELS if (above := level_above(level)) is not None]
    (top,) = [level for level in LEVELS if level_above(level) is None]

    def code(level: str) -> ColumnElement[Any]:
        return t.c[f"{level}_code"]

    def path(level: str) -> ColumnElement[Any]:
        return _slash(*(code(name) for name in LEVELS[: LEVELS.index(level) + 1]))

    return (
        case(*((held == level, literal(above, String)) for level, above in climbs)),
        case(*((held == level, code(above)) for level, above in climbs)),
        case(*((held == level, path(above)) for level, above in climbs)),
        case(*((held == level, literal(due[above], Date)) for level, above in climbs)),
        top,
    )


def last_sweep_as_of(session: Session) -> dt.datetime | None:
    return session.execute(select(func.max(sw.c.as_of))).scalar_one_or_none()


def check_as_of(as_of: dt.datetime, now: dt.datetime, skew: dt.timedelta) -> None:
    """A sweep may catch up on the past, never run ahead: ``as_of`` later than now plus ``skew`` is refused.

    A sweep recorded in the future would make every later sweep "earlier than the last one" until real
    time caught up, stopping escalation; an instant no calendar can count from is refused, not a 500.
    """
    try:
        instant = as_of.astimezone(dt.UTC)
        limit = now + skew
    except OverflowError:
        raise InvalidInput(
            f"as_of {as_of.isoformat()} 超出可处理的时间范围", code="as_of_out_of_range", field="as_of"
        ) from None
    if instant > limit:
        raise InvalidInput(
            f"逾期升级不能按未来的时间运行：as_of 为 {as_of.isoformat()}，"
            f"当前时间为 {now.astimezone(SHANGHAI).isoformat()}（允许的时钟误差 {int(skew.total_seconds())} 秒）",
            code="as_of_in_future",
            field="as_of",
            now=now.isoformat(),
        )


def sweep(
    session: Session,
    principal: Principal,
    ctx: TasksContext,
    as_of: dt.datetime,
    *,
    skew: dt.timedelta = dt.timedelta(0),
) -> SweepResult:
    """Escalate every open task past its due (or escalation due) date one level up from its holder.

    ``as_of`` may lie in the past (catching up after downtime) but not after now plus ``skew``. Run by
    an administrator, or by the system (:data:`SWEEPER`); it is recorded under the principal's name.
    """
    authorize(principal, Action.RUN_SWEEP)
    actor = principal.shown_as
    if as_of.tzinfo is None:
        raise InvalidInput(
            "as_of 须带时区（如 2021-07-01T00:00:00+08:00）", code="as_of_without_timezone", field="as_of"
        )
    check_as_of(as_of, ctx.clock.now(), skew)
    last = last_sweep_as_of(session)
    if last is not None and as_of < last:
        raise Conflict(
            f"as_of {as_of.isoformat()} 早于上次扫描的 {last.isoformat()}",
            code="as_of_before_last_sweep",
            field="as_of",
        )
    now = ctx.clock.now()
    today = as_of.astimezone(SHANGHAI).date()
    sweep_id = str(uuid.uuid4())
    session.execute(insert(sw).values(id=sweep_id, as_of=as_of, started_at=now, actor=actor, escalated=0))
    dialect = session.get_bind().dialect.name
    grace = ctx.policy.grace_workdays
    try:
        due = {level: ctx.calendar.add_workdays(today, grace[level]) for level in LEVELS[:-1]}
    except OverflowError:
        # The clock itself sits at the end of the calendar (a test clock moved to year 9999).
        raise InvalidInput(
            f"as_of {as_of.isoformat()} 超出可处理的时间范围", code="as_of_out_of_range", field="as_of"
        ) from None

    to_level, to_code, to_path, to_due, top = _climb(due)
    overdue = select(
        t.c.id,
        literal(sweep_id, String),
        t.c.holder_code,
        t.c.holder_level,
        to_code,
        to_level,
        to_path,
        to_due,
        _days_between(dialect, today, t.c.due_date),
        literal(now, e.c.at.type),
    ).where(t.c.status == "open", t.c.holder_level != top, t.c.next_escalation_on < today)
    columns = [
        "task_id",
        "sweep_id",
        "from_code",
        "from_level",
        "to_code",
        "to_level",
        "to_path",
        "escalation_due_date",
        "days_overdue",
        "at",
    ]
    # A concurrent sweep that already took a task to this level wins; this one leaves it alone.
    session.execute(insert_or_ignore(session, e, ["task_id", "to_level"]).from_select(columns, overdue))
    mine = e.c.sweep_id == sweep_id
    session.execute(
        update(t)
        .where(t.c.id == e.c.task_id, mine)
        .values(
            holder_code=e.c.to_code,
            holder_path=e.c.to_path,
            holder_level=e.c.to_level,
            escalation_due_date=e.c.escalation_due_date,
            next_escalation_on=e.c.escalation_due_date,
            revision=t.c.revision + 1,
            updated_at=now,
        )
    )
    # Codes are letters, digits, '-' and '_' (and dates ISO digits), so the detail is valid JSON as built.
    detail = (
        literal('{"from_code": "', String)
        + e.c.from_code
        + literal('", "to_code": "', String)
        + e.c.to_code
        + literal('", "to_level": "', String)
        + e.c.to_level
        + literal('", "escalation_due_date": "', String)
        + cast(e.c.escalation_due_date, String)
        + literal('", "sweep_id": "' + sweep_id + '"}', String)
    )
    session.execute(
        insert(tl).from_select(
            ["task_id", "at", "actor", "action", "detail"],
            select(
                e.c.task_id, literal(now, tl.c.at.type), literal(actor, String), literal("escalated", String), detail
            ).where(mine),
        )
    )
    # The task rows as the update left them (the new holder's), beside their escalation.
    rows = session.execute(
        select(
            e.c.id.label("escalation_id"),
            e.c.from_code,
            e.c.from_level,
            e.c.days_overdue,
            *(t.c[name] for name in SNAPSHOT_COLUMNS),
        )
        .join_from(e, t, t.c.id == e.c.task_id)
        .where(mine)
        .order_by(e.c.id)
    ).all()
    events = [
        TaskEscalated(
            task=snapshot(row),
            escalation_id=row.escalation_id,
            from_code=row.from_code,
            from_level=row.from_level,
            to_code=row.holder_code,
            to_level=row.holder_level,
            escalation_due_date=row.escalation_due_date,
            days_overdue=row.days_overdue,
            levels_climbed=levels_between(LEVELS[len(path_codes(row.jurisdiction_path)) - 1], row.holder_level),
            occurred_at=now,
        )
        for row in rows
    ]
    publish(session, *events)
    session.execute(update(sw).where(sw.c.id == sweep_id).values(escalated=len(events)))
    if dialect == "postgresql" and len(events) >= REFRESH_STATISTICS_AFTER:
        # So many rows just left the open-work index that the planner's picture of it is stale until
        # autovacuum gets round to it; without fresh statistics the next, empty sweep scans the dead rows.
        # Only the columns the sweep moved and the open-work index reads: the other columns' statistics
        # did not change, and computing them was most of the time of a whole-table ANALYZE.
        session.execute(text(f"ANALYZE tasks_tasks ({', '.join(ANALYZED_COLUMNS)})"))
    return SweepResult(sweep_id, as_of, len(events))
