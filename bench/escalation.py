"""Benchmark of the escalation sweep and the chiefs' inboxes at Chongqing's size, on PostgreSQL.

Builds the jurisdiction tree of ``bench/hierarchy.py`` (1 city, 41 districts and zones, ~1,046 townships,
~11,000 villages) through the real ``import_divisions`` service, then bulk-loads ``--tasks`` open tasks
(default 1,000,000) over the villages straight into ``tasks_tasks``, exactly ``--overdue`` of them
(default 100,000) past their due date, with the inbox projection (a ``todo`` item per task at its
village, the applied revision) and a ``created`` timeline entry per task. It then measures:

* the set-based sweep, ``escalation.sweep`` in one transaction as of a fixed time: every overdue task
  climbs village -> township, one ``TaskEscalated`` each in the outbox (checked exactly), with the time
  of every step (each statement, building the events, publishing); the same sweep again (nothing
  moves), and an empty sweep repeated (median and p95), right after the big sweep and after
  ``ANALYZE tasks_tasks``;
* a row-by-row ORM sweep of the same tasks on a copy of the same data (load each Task, change it,
  ``session.add`` an Escalation and a timeline entry, ``publish`` one event per task), flushed per row
  and per batch, on a sample extrapolated to all overdue tasks, and the ratio to the set-based sweep;
* ``EXPLAIN (ANALYZE, BUFFERS, WAL)`` of the sweep's statements, on another copy, rolled back, with the
  time the server spends on each and the time psycopg spends turning the list parameters into arrays;
* ``GET /api/v1/inbox`` of a village chief (and of its township's chief, who supervises the escalated
  work) under load, beside ``GET /healthz``, on a real ``linzhang serve`` process: ``wrk`` when it is on
  PATH, else a small load generator of threads with httpx; and ``read_inbox`` in-process for comparison.

    .venv/bin/python bench/escalation.py                                # full size (3-8 min on 2 cores, with what else runs)
    .venv/bin/python bench/escalation.py --tasks 200000 --overdue 20000 --orm-sample 2000 --wrk-duration 5

PostgreSQL only (the figures that matter): a database of its own, created on ``--pg-url``'s server with
its copies and dropped afterwards. No Redis is needed: the in-process broker is used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for entry in (str(ROOT), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import httpx  # noqa: E402
from dataset import (  # noqa: E402
    DEFAULT_DIVISIONS,
    DEFAULT_PG_URL,
    EXECUTEMANY_BATCH,
    Dataset,
    Day,
    build_dataset,
    check_columns,
    load_inbox,
    load_tasks,
    load_timeline,
    load_tree,
    make_settings,
    open_task_rows,
)
from hierarchy import (  # noqa: E402
    INDEX_NODE,
)
from results import Row, emit  # noqa: E402
from sqlalchemy import (  # noqa: E402
    Engine,
    column,
    create_engine,
    event,
    func,
    insert,
    literal,
    select,
    table,
    text,
)
from sqlalchemy.engine import URL, make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import linzhang.domains.tasks.escalation as escalation  # noqa: E402
from linzhang.bootstrap import Container, bootstrap  # noqa: E402
from linzhang.bus import consume_delivery, publish  # noqa: E402
from linzhang.bus.tables import deliveries_table, events_table  # noqa: E402
from linzhang.clock import SHANGHAI, FixedClock, SystemClock  # noqa: E402
from linzhang.contracts import TaskEscalated  # noqa: E402
from linzhang.domains.chiefs.inbox import Box, InboxContext, read_inbox  # noqa: E402
from linzhang.domains.chiefs.tables import inbox_table, revisions_table  # noqa: E402
from linzhang.domains.tasks.context import TasksContext, policy_at  # noqa: E402
from linzhang.domains.tasks.escalation_rules import level_above, levels_between  # noqa: E402
from linzhang.domains.tasks.events import snapshot  # noqa: E402
from linzhang.domains.tasks.records import changed, record_change  # noqa: E402
from linzhang.domains.tasks.tables import (  # noqa: E402
    Escalation,
    Sweep,
    Task,
    escalations_table,
    tasks_table,
    timeline_table,
)
from linzhang.identity import Principal, Role  # noqa: E402
from linzhang.identity.service import create_user  # noqa: E402
from linzhang.log import configure_logging  # noqa: E402
from linzhang.paths import path_codes, path_of_codes  # noqa: E402
from linzhang.settings import LoggingSettings  # noqa: E402
from linzhang.vocabularies import LEVEL_CODES as LEVELS  # noqa: E402

SWEEP_GOAL_S = 10.0
EMPTY_GOAL_MS = 50.0
RATIO_GOAL = 20.0
ORM_BATCH = 500
PASSWORD = "bench-password-1"
INBOX = "chiefs.inbox"
SECRET_KEY = "bench-" + "k" * 40

# -- figures ---------------------------------------------------------------------------------------


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def check(label: str, actual: int, expected: int) -> None:
    """A fact the run depends on; a wrong one stops it."""
    mark = "ok" if actual == expected else f"WRONG (expected {expected:,})"
    print(f"  check: {label:<58} {actual:>10,}  {mark}")
    if actual != expected:
        raise SystemExit(f"check failed: {label}: {actual} != {expected}")


# -- databases -------------------------------------------------------------------------------------


class Databases:
    """The benchmark's database and its copies on one server, all dropped at the end."""

    def __init__(self, pg_url: str) -> None:
        url = make_url(pg_url)
        if url.get_driver_name() in ("", "psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        self.url: URL = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.base = f"linzhang_bench_esc_{uuid.uuid4().hex[:10]}"
        self.created: list[str] = []
        with self.admin.connect() as connection:
            self.server_version = int(connection.execute(text("SHOW server_version_num")).scalar_one())

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, suffix: str = "", template: str | None = None) -> str:
        name = self.base + (f"_{suffix}" if suffix else "")
        sql = f'CREATE DATABASE "{name}"'
        if template is not None:
            # A file copy (one checkpoint) is much faster than WAL-logging every block of a large database.
            sql += f' TEMPLATE "{template}"' + (" STRATEGY FILE_COPY" if self.server_version >= 150000 else "")
        with self.admin.connect() as connection:
            connection.execute(text(sql))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def size(self, name: str) -> int:
        with self.admin.connect() as connection:
            return int(connection.execute(text("SELECT pg_database_size(:n)"), {"n": name}).scalar_one())

    def close(self) -> None:
        for name in list(self.created):
            self.drop(name)
        self.admin.dispose()


def stage(label: str, started: float, detail: str = "") -> None:
    print(f"  {label + ':':<40} {time.perf_counter() - started:7.2f} s" + (f"  ({detail})" if detail else ""))


def vacuum_analyze(engine: Engine, *tables: str) -> float:
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE " + ", ".join(tables)))
    return time.perf_counter() - started


# -- the dataset -----------------------------------------------------------------------------------


# -- the set-based sweep, step by step --------------------------------------------------------------


@dataclass
class Statement:
    sql: str
    parameters: Any
    started: float
    ended: float
    rowcount: int

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class SweepRun:
    escalated: int
    sweep_id: str
    call_s: float  # escalation.sweep() itself
    commit_s: float
    statements: list[Statement]
    publish_started: float | None
    publish_ended: float | None
    begun: float

    @property
    def total_s(self) -> float:
        return self.call_s + self.commit_s


class Recorder:
    """Every statement run on ``engine`` (with its time and rows), and when the sweep's publish() ran."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[Statement] = []
        self.publish_started: float | None = None
        self.publish_ended: float | None = None
        self._started = 0.0

    def _before(self, _conn: Any, _cursor: Any, _statement: str, _parameters: Any, _context: Any, _many: bool) -> None:
        self._started = time.perf_counter()

    def _after(self, _conn: Any, cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        self.statements.append(Statement(statement, parameters, self._started, time.perf_counter(), cursor.rowcount))

    def _publish(self, session: Session, *events: Any) -> None:
        self.publish_started = time.perf_counter()
        publish(session, *events)
        self.publish_ended = time.perf_counter()

    @contextmanager
    def recording(self) -> Iterator[Recorder]:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        original = escalation.publish  # type: ignore[attr-defined]
        escalation.publish = self._publish  # type: ignore[attr-defined]
        try:
            yield self
        finally:
            escalation.publish = original  # type: ignore[attr-defined]
            event.remove(self.engine, "before_cursor_execute", self._before)
            event.remove(self.engine, "after_cursor_execute", self._after)


def timed_sweep(container: Container, ctx: TasksContext, as_of: dt.datetime) -> SweepRun:
    """One sweep in one transaction (a session as the scheduler's job has it), its statements recorded."""
    recorder = Recorder(container.engine)
    with recorder.recording(), container.session_factory() as session:
        begun = time.perf_counter()
        session.begin()
        # Later runs sweep a few milliseconds after the fixed clock: within the allowed clock skew.
        result = escalation.sweep(
            session, escalation.SWEEPER, ctx, as_of, skew=dt.timedelta(seconds=container.settings.clock.skew_seconds)
        )
        called = time.perf_counter()
        session.commit()
        committed = time.perf_counter()
    return SweepRun(
        result.escalated,
        result.sweep_id,
        called - begun,
        committed - called,
        recorder.statements,
        recorder.publish_started,
        recorder.publish_ended,
        begun,
    )


STEP_NAMES = (
    ("SELECT max(tasks_sweeps.as_of)", "last sweep's as_of"),
    ("INSERT INTO tasks_sweeps", "insert the sweep row"),
    ("INSERT INTO tasks_escalations", "escalations: INSERT .. SELECT .. ON CONFLICT DO NOTHING"),
    ("UPDATE tasks_tasks", "tasks: UPDATE .. FROM escalations"),
    ("INSERT INTO tasks_timeline", "timeline: INSERT .. SELECT"),
    ("SELECT tasks_escalations.id", "select the rows for the events"),
    ("WITH published", "publish: outbox events + deliveries (SQL)"),
    ("INSERT INTO bus_events", "publish: outbox events (SQL)"),
    ("INSERT INTO bus_deliveries", "publish: deliveries (SQL)"),
    ("UPDATE tasks_sweeps", "update the sweep row"),
)


def step_name(sql: str) -> str:
    flat = " ".join(sql.split())
    for prefix, name in STEP_NAMES:
        if flat.startswith(prefix):
            return name
    return flat[:60]


def steps(run: SweepRun) -> list[tuple[str, float, int | None]]:
    """(step, seconds, rows) for every statement and the Python between them, in order."""
    out: list[tuple[str, float, int | None]] = []
    publish_sql = 0.0
    select_end: float | None = None
    for statement in run.statements:
        name = step_name(statement.sql)
        if name.startswith("BEGIN") or name.startswith("COMMIT"):
            continue
        if name.startswith("publish"):
            publish_sql += statement.seconds
        out.append((name, statement.seconds, statement.rowcount if statement.rowcount >= 0 else None))
        if name == "select the rows for the events":
            select_end = statement.ended
            if run.publish_started is not None:
                out.append(
                    ("fetch the rows + build the TaskEscalated events (Python)", run.publish_started - select_end, None)
                )
            if run.publish_started is not None and run.publish_ended is not None:
                out.append(
                    ("publish: encode events, build parameters (Python)", run.publish_ended - run.publish_started, None)
                )
    # The publish figure above includes its SQL: show the Python part alone.
    fixed: list[tuple[str, float, int | None]] = []
    for name, seconds, rows in out:
        if name.startswith("publish: encode"):
            seconds -= publish_sql
        fixed.append((name, seconds, rows))
    accounted = sum(seconds for _, seconds, _ in fixed)
    fixed.append(("everything else (Python between statements, session)", run.call_s - accounted, None))
    fixed.append(("commit", run.commit_s, None))
    return fixed


def print_steps(run: SweepRun) -> None:
    print(f"\n  {'step':<58} {'seconds':>8} {'share':>6} {'rows':>9}")
    for name, seconds, rows in steps(run):
        share = seconds / run.total_s * 100 if run.total_s else 0.0
        print(f"  {name:<58} {seconds:8.3f} {share:5.1f}% {'' if rows is None else f'{rows:,}':>9}")
    print(f"  {'total (sweep() + commit)':<58} {run.total_s:8.3f}")


def sweep_checks(container: Container, run: SweepRun, overdue: int) -> None:
    t, e, ev, d = tasks_table, escalations_table, events_table, deliveries_table
    subscribers = container.registry.subscribers_for(TaskEscalated.event_type, TaskEscalated.version)
    check("sweep result: escalated", run.escalated, overdue)
    with container.reading() as session:
        total = int(session.execute(select(func.count()).select_from(t)).scalar_one())
        for label, query, expected in (
            (
                "escalation rows of this sweep, village -> township",
                select(func.count()).where(
                    e.c.sweep_id == run.sweep_id, e.c.from_level == "village", e.c.to_level == "township"
                ),
                overdue,
            ),
            (
                "tasks now held by their township, revision 2, due again later",
                select(func.count()).where(
                    t.c.holder_level == "township",
                    t.c.holder_code == t.c.township_code,
                    t.c.holder_path
                    == func.concat("/", t.c.city_code, "/", t.c.district_code, "/", t.c.township_code, "/"),
                    t.c.revision == 2,
                    t.c.next_escalation_on == t.c.escalation_due_date,
                    t.c.next_escalation_on > t.c.due_date,
                ),
                overdue,
            ),
            (
                "tasks still held by their village",
                select(func.count()).where(t.c.holder_level == "village"),
                total - overdue,
            ),
            (
                "timeline entries 'escalated'",
                select(func.count()).where(timeline_table.c.action == "escalated"),
                overdue,
            ),
            (
                "TaskEscalated events in the outbox",
                select(func.count()).where(ev.c.event_type == "TaskEscalated"),
                overdue,
            ),
            (
                f"their deliveries pending ({', '.join(subscribers)})",
                select(func.count()).where(d.c.status == "pending"),
                overdue * len(subscribers),
            ),
        ):
            check(label, int(session.execute(query).scalar_one()), expected)


# -- the row-by-row ORM baseline --------------------------------------------------------------------


def orm_sweep(session: Session, ctx: TasksContext, as_of: dt.datetime, limit: int, batch: int) -> int:
    """What a straightforward ORM implementation of the sweep does, for the first ``limit`` overdue tasks.

    Load the overdue Task objects, and for each: an Escalation and a timeline entry with session.add, the
    holder fields changed on the object, one TaskEscalated through ``publish``. The ORM flushes every
    ``batch`` tasks (1: every task) and the events are published after each flush (they carry the
    escalation's id). No row locks: the unique (task, level) constraint still guards against a double climb.
    """
    now = ctx.clock.now()
    today = as_of.astimezone(SHANGHAI).date()
    grace = ctx.policy.grace_workdays
    due = {level: ctx.calendar.add_workdays(today, grace[level]) for level in ("township", "district", "city")}
    run = Sweep(id=str(uuid.uuid4()), as_of=as_of, started_at=now, actor="orm-baseline", escalated=0)
    session.add(run)
    tasks = (
        session.execute(
            select(Task)
            .where(Task.status == "open", Task.holder_level != "city", Task.next_escalation_on < today)
            .order_by(Task.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    pending: list[tuple[Task, Escalation, str]] = []

    def flush() -> None:
        session.flush()
        publish(
            session,
            *(
                TaskEscalated(
                    task=snapshot(task),
                    escalation_id=climb.id,
                    from_code=climb.from_code,
                    from_level=climb.from_level,
                    to_code=climb.to_code,
                    to_level=climb.to_level,
                    escalation_due_date=climb.escalation_due_date,
                    days_overdue=climb.days_overdue,
                    levels_climbed=levels_between(owner_level, climb.to_level),
                    occurred_at=now,
                )
                for task, climb, owner_level in pending
            ),
        )
        pending.clear()

    for task in tasks:
        to_level = level_above(task.holder_level)
        assert to_level is not None
        codes = path_codes(task.jurisdiction_path)
        depth = LEVELS.index(to_level)
        climb = Escalation(
            task_id=task.id,
            sweep_id=run.id,
            from_code=task.holder_code,
            from_level=task.holder_level,
            to_code=codes[depth],
            to_level=to_level,
            to_path=path_of_codes(codes[: depth + 1]),
            escalation_due_date=due[to_level],
            days_overdue=(today - task.due_date).days,
            at=now,
        )
        session.add(climb)
        task.holder_code = climb.to_code
        task.holder_path = climb.to_path
        task.holder_level = to_level
        task.escalation_due_date = due[to_level]
        task.next_escalation_on = due[to_level]
        changed(task, now)
        record_change(
            session,
            task,
            now,
            "orm-baseline",
            "escalated",
            from_code=climb.from_code,
            to_code=climb.to_code,
            to_level=to_level,
            escalation_due_date=due[to_level].isoformat(),
            sweep_id=run.id,
        )
        pending.append((task, climb, LEVELS[len(codes) - 1]))
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    run.escalated = len(tasks)
    return len(tasks)


@dataclass
class OrmRun:
    label: str
    escalated: int
    seconds: float

    def extrapolated(self, overdue: int) -> float:
        return self.seconds / self.escalated * overdue


def run_orm(container: Container, ctx: TasksContext, as_of: dt.datetime, limit: int, batch: int, label: str) -> OrmRun:
    with container.session_factory() as session:
        started = time.perf_counter()
        session.begin()
        escalated = orm_sweep(session, ctx, as_of, limit, batch)
        session.commit()
        took = time.perf_counter() - started
    return OrmRun(label, escalated, took)


# -- plans -----------------------------------------------------------------------------------------

EXPLAINED = (
    "escalations: INSERT .. SELECT .. ON CONFLICT DO NOTHING",
    "tasks: UPDATE .. FROM escalations",
    "timeline: INSERT .. SELECT",
    "select the rows for the events",
    "publish: outbox events + deliveries (SQL)",
    "publish: outbox events (SQL)",
    "publish: deliveries (SQL)",
)


def explain_sweep(url: str, run: SweepRun) -> None:
    """Re-run the sweep's statements, with their parameters, under EXPLAIN (ANALYZE, BUFFERS, WAL) on a
    copy of the data as it was before the sweep, in one transaction that is rolled back."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            for statement in run.statements:
                name = step_name(statement.sql)
                if name.startswith(("BEGIN", "COMMIT")) or name == "update the sweep row":
                    continue
                if name not in EXPLAINED:
                    connection.exec_driver_sql(statement.sql, statement.parameters)
                    continue
                started = time.perf_counter()
                lines = [
                    row[0]
                    for row in connection.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS, WAL) " + statement.sql, statement.parameters
                    )
                ]
                took = time.perf_counter() - started
                flat = " ".join(statement.sql.split())
                server = sum(
                    float(match.group(1)) / 1000
                    for line in lines
                    if (match := re.match(r"(?:Planning|Execution) Time: ([\d.]+) ms", line))
                )
                print(
                    f"\n  [{name}]  in the sweep {statement.seconds:.3f} s; under EXPLAIN ANALYZE {took:.3f} s, of which "
                    f"planning + execution in the server {server:.3f} s, the rest ({took - server:.3f} s) in the driver "
                    "and on the wire"
                )
                adaptation = parameter_adaptation(connection, statement.parameters)
                if adaptation is not None:
                    text_s, binary_s = adaptation
                    print(
                        f"    psycopg adapting this statement's array parameters alone: {text_s:.3f} s in text format "
                        f"(what it uses now), {binary_s:.3f} s in binary format"
                    )
                print(f"    {flat[:300]}{' ...' if len(flat) > 300 else ''}")
                indexes = sorted({f"{kind} on {index}" for kind, index in INDEX_NODE.findall("\n".join(lines))})
                print(f"    indexes: {'; '.join(indexes) if indexes else 'none'}")
                for line in lines:
                    print(f"    | {line}")
            connection.rollback()
    finally:
        engine.dispose()


def parameter_adaptation(connection: Any, parameters: Any) -> tuple[float, float] | None:
    """Seconds psycopg takes to turn the list parameters into PostgreSQL arrays, in text and binary format."""
    if not isinstance(parameters, dict):
        return None
    lists = [value for value in parameters.values() if isinstance(value, list)]
    if not lists:
        return None
    from psycopg.adapt import PyFormat, Transformer

    transformer = Transformer.from_context(connection.connection.driver_connection)
    timings = []
    for fmt in (PyFormat.TEXT, PyFormat.BINARY):
        started = time.perf_counter()
        transformer.dump_sequence(lists, [fmt] * len(lists))
        timings.append(time.perf_counter() - started)
    return timings[0], timings[1]


# -- the inbox projection of the sweep --------------------------------------------------------------


def project_sweep(container: Container, run: SweepRun, sample: int, overdue: int) -> None:
    """Bring the inboxes up to date with the sweep, as the workers would.

    The first ``sample`` inbox deliveries go through the real idempotent consumer (timed); the rest are
    applied in SQL exactly as ``sync_inbox`` applies a TaskEscalated (a ``supervising`` item at the new
    holder, the owner's ``todo`` item showing it, the revision recorded, the delivery done), then checked.
    Deliveries to other subscribers are marked done without their work: nothing here reads their tables,
    and a server started with them pending would spend the load test catching up.
    """
    d, t, i, r = deliveries_table, tasks_table, inbox_table, revisions_table
    with container.reading() as session:
        ids = list(
            session.execute(
                select(d.c.id).where(d.c.status == "pending", d.c.subscriber == INBOX).order_by(d.c.id).limit(sample)
            ).scalars()
        )
    started = time.perf_counter()
    for delivery_id in ids:
        consume_delivery(
            container.session_factory, container.registry, container.clock, container.bus.policy, delivery_id
        )
    took = time.perf_counter() - started
    if ids:
        rate = len(ids) / took
        print(
            f"  {INBOX} through the real consumer, one thread: {len(ids):,} deliveries in {took:.2f} s "
            f"({rate:,.0f}/s, {took / len(ids) * 1000:.2f} ms each; all {overdue:,} at this pace: {overdue / rate:,.0f} s)"
        )
    now = container.clock.now()
    started = time.perf_counter()
    with container.transaction() as session:
        session.execute(
            text(
                "CREATE TEMP TABLE bench_unapplied ON COMMIT DROP AS "
                "SELECT t.id FROM tasks_escalations e JOIN tasks_tasks t ON t.id = e.task_id "
                "JOIN chiefs_task_revisions r ON r.task_id = t.id "
                "WHERE e.sweep_id = :sweep AND r.revision < t.revision"
            ),
            {"sweep": run.sweep_id},
        )
        unapplied = select(table("bench_unapplied", column("id")).c.id)
        item = {
            "task_id": t.c.id,
            "box": literal("supervising"),
            "jurisdiction_code": t.c.holder_code,
            "jurisdiction_path": t.c.holder_path,
            "reason": literal("escalated"),
            "kind": t.c.kind,
            "title": t.c.title,
            "category": t.c.category,
            "status": t.c.status,
            "owner_code": t.c.jurisdiction_code,
            "holder_code": t.c.holder_code,
            "due_date": t.c.due_date,
            "deadline": t.c.escalation_due_date,
            "open": t.c.status != "done",
            "created_at": literal(now, i.c.created_at.type),
            "updated_at": literal(now, i.c.updated_at.type),
        }
        session.execute(
            insert(i).from_select(list(item), select(*item.values()).where(t.c.id.in_(unapplied)).order_by(t.c.id))
        )
        session.execute(
            i.update()
            .where(i.c.task_id == t.c.id, i.c.box == "todo", t.c.id.in_(unapplied))
            .values(holder_code=t.c.holder_code, status=t.c.status, updated_at=now)
        )
        session.execute(r.update().where(r.c.task_id == t.c.id, t.c.id.in_(unapplied)).values(revision=t.c.revision))
        session.execute(d.update().where(d.c.status == "pending").values(status="done", done_at=now))
        others: dict[str, int] = dict(
            session.execute(
                select(d.c.subscriber, func.count())
                .where(d.c.subscriber != INBOX, d.c.status == "done")
                .group_by(d.c.subscriber)
            ).all()
        )
    print(
        f"  the other {INBOX} deliveries applied in SQL as sync_inbox applies them: {time.perf_counter() - started:.2f} s"
    )
    if others:
        print(
            "  marked done without their work (not read here): "
            + ", ".join(f"{count:,} to {name}" for name, count in sorted(others.items()))
        )
    joined = i.join(t, t.c.id == i.c.task_id)
    with container.reading() as session:
        for label, query, expected in (
            (
                "open supervising items matching their task exactly",
                select(func.count())
                .select_from(joined)
                .where(
                    i.c.box == "supervising",
                    i.c.open.is_(True),
                    i.c.reason == "escalated",
                    i.c.jurisdiction_code == t.c.holder_code,
                    i.c.jurisdiction_path == t.c.holder_path,
                    i.c.deadline == t.c.escalation_due_date,
                    i.c.owner_code == t.c.jurisdiction_code,
                    i.c.holder_code == t.c.holder_code,
                    i.c.due_date == t.c.due_date,
                    i.c.title == t.c.title,
                ),
                overdue,
            ),
            (
                "todo items of escalated tasks showing the new holder",
                select(func.count())
                .select_from(joined)
                .where(
                    i.c.box == "todo",
                    i.c.open.is_(True),
                    t.c.holder_level == "township",
                    i.c.holder_code == t.c.holder_code,
                    i.c.deadline == t.c.due_date,
                ),
                overdue,
            ),
            (
                "revisions applied other than the tasks' own",
                select(func.count()).select_from(r.join(t, t.c.id == r.c.task_id)).where(r.c.revision != t.c.revision),
                0,
            ),
            ("deliveries left pending", select(func.count()).where(d.c.status == "pending"), 0),
        ):
            check(label, int(session.execute(query).scalar_one()), expected)


# -- the inbox under load ---------------------------------------------------------------------------


@dataclass
class Load:
    label: str
    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(database_url: str, var_dir: Path) -> Iterator[str]:
    """``linzhang serve`` on 127.0.0.1 and a free port; stopped (SIGTERM, then SIGKILL) when the block ends."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("LINZHANG_")}
    env.update(
        LINZHANG_DATABASE_URL=database_url,
        LINZHANG_LOGGING_LEVEL="WARNING",
        LINZHANG_SECRET_KEY=SECRET_KEY,
        LINZHANG_PATHS_VAR_DIR=str(var_dir),
    )
    script = Path(sys.executable).with_name("linzhang")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "linzhang"]
    command += ["serve", "--host", "127.0.0.1", "--port", str(port)]
    log_path = var_dir / "server.log"
    var_dir.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            started = time.perf_counter()
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"the server stopped at start-up:\n{log_path.read_text(encoding='utf-8')[-3000:]}")
                try:
                    if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.perf_counter() - started > 60:
                    raise SystemExit("the server did not answer /healthz within 60 s")
                time.sleep(0.2)
            print(
                f"  server: {' '.join(command[-6:])} (pid {process.pid}), up in {time.perf_counter() - started:.1f} s"
            )
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    lines = [line for line in log_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if lines:
        print(f"  server log: {len(lines)} lines at WARNING or above; the last: {lines[-1][:300]}")
    else:
        print("  server log: nothing at WARNING or above")


def token_for(base: str, username: str) -> str:
    response = httpx.post(base + "/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * UNIT_MS[unit]


def run_wrk(
    wrk: str, label: str, url: str, headers: dict[str, str], seconds: int, threads: int, connections: int
) -> Load:
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    out = done.stdout
    if done.returncode != 0 or "Requests/sec" not in out:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{out}\n{done.stderr}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests, took = re.search(r"(\d+) requests in ([\d.]+\w+)", out).groups()  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(value) for value in match.groups())
    return Load(label, "wrk", int(requests), _ms(took) / 1000, rps, p50, p99, errors)


def run_threads(label: str, url: str, headers: dict[str, str], seconds: int, connections: int) -> Load:
    """The fallback load generator: ``connections`` threads, each a keep-alive httpx client in a loop."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    start = threading.Event()
    deadline = [0.0]

    def worker(index: int) -> None:
        with httpx.Client(headers=headers, timeout=10.0) as client:
            start.wait()
            own, perf = latencies[index], time.perf_counter
            while (began := perf()) < deadline[0]:
                try:
                    status = client.get(url).status_code
                except httpx.HTTPError:
                    status = 0
                own.append(perf() - began)
                if status != 200:
                    errors[index] += 1

    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
    for thread in workers:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.set()
    for thread in workers:
        thread.join(seconds + 30)
    took = time.perf_counter() - began
    samples = [value for own in latencies for value in own]
    return Load(
        label,
        "python threads + httpx",
        len(samples),
        took,
        len(samples) / took,
        percentile(samples, 0.50) * 1000 if samples else 0.0,
        percentile(samples, 0.99) * 1000 if samples else 0.0,
        sum(errors),
    )


def inbox_in_process(container: Container, principal: Principal, label: str, repeat: int = 20) -> None:
    """``read_inbox`` in this process, as the endpoint calls it (first page, wall clock), and the share of the
    page's due-soon flags: ``calendar.workdays_between`` from today to each open item's deadline."""
    clock = SystemClock()
    ctx = InboxContext(
        clock, container.calendar, container.lookup_jurisdiction, container.settings.inbox.due_soon_workdays
    )
    size = container.settings.http.default_page_size
    samples = []
    for n in range(3 + repeat):
        started = time.perf_counter()
        with container.reading() as session:
            page = read_inbox(session, principal, ctx, Box.ALL, None, None, size)
        if n >= 3:
            samples.append(time.perf_counter() - started)
    today = clock.now().astimezone(SHANGHAI).date()
    started = time.perf_counter()
    for item in page.items:
        if not item.overdue:
            container.calendar.workdays_between(today, item.deadline)
    flags = time.perf_counter() - started
    days = sum(max(0, (item.deadline - today).days) for item in page.items)
    print(
        f"  read_inbox in-process ({label}, {len(page.items)} items): median {statistics.median(samples) * 1000:.1f} ms; "
        f"the due-soon flags alone (workdays_between, {days:,} days walked one by one): {flags * 1000:.1f} ms"
    )


def inbox_under_load(container: Container, database_url: str, var_dir: Path, args: argparse.Namespace) -> list[Load]:
    i = inbox_table
    with container.reading() as session:
        counts = session.execute(
            select(i.c.jurisdiction_code, func.count())
            .where(i.c.box == "todo", i.c.open.is_(True))
            .group_by(i.c.jurisdiction_code)
            .order_by(func.count(), i.c.jurisdiction_code)
        ).all()
    village, items = counts[len(counts) // 2]
    lookup = container.lookup_jurisdiction
    with container.transaction() as session:
        ref = lookup(session, village)
        assert ref is not None
        assert ref.parent_code is not None
        township = lookup(session, ref.parent_code)
        assert township is not None
        principals = {}
        for username, code, path in (
            ("bench-village", ref.code, ref.path),
            ("bench-township", township.code, township.path),
        ):
            user = create_user(
                session,
                container.passwords,
                container.clock,
                username=username,
                password=PASSWORD,
                role=Role.CHIEF,
                jurisdiction_code=code,
                jurisdiction_path=path,
            )
            principals[username] = Principal(user.id, username, Role.CHIEF, code, path)
    with container.reading() as session:
        supervising = int(
            session.execute(
                select(func.count()).where(i.c.jurisdiction_code == township.code, i.c.open.is_(True))
            ).scalar_one()
        )
    print(
        f"  village chief of {village} ({items} open items, the median village); township chief of {township.code} "
        f"({supervising} open items, all supervising)"
    )
    for username, principal in principals.items():
        inbox_in_process(container, principal, username)
    wrk = shutil.which("wrk")
    print(f"  load generator: {('wrk at ' + wrk) if wrk else 'python threads + httpx (wrk is not on PATH)'}")
    results: list[Load] = []
    with server(database_url, var_dir) as base:
        tokens = {name: token_for(base, name) for name in ("bench-village", "bench-township")}
        targets = [
            (
                "GET /api/v1/inbox (village chief)",
                base + "/api/v1/inbox",
                {"Authorization": f"Bearer {tokens['bench-village']}"},
            ),
            (
                "GET /api/v1/inbox (township chief)",
                base + "/api/v1/inbox",
                {"Authorization": f"Bearer {tokens['bench-township']}"},
            ),
            ("GET /healthz", base + "/healthz", {}),
        ]
        with httpx.Client(timeout=30) as client:
            for label, url, headers in targets:
                for _ in range(10):  # warm-up: pools, caches, first-call costs
                    response = client.get(url, headers=headers)
                    response.raise_for_status()
                body = response.json()
                if "items" in body:
                    shown = body["items"]
                    print(
                        f"  {label}: {len(shown)} items on the first page ({sum(1 for item in shown if item['overdue'])} "
                        f"overdue), {len(response.content):,} bytes"
                    )
        for label, url, headers in targets:
            if wrk:
                load = run_wrk(wrk, label, url, headers, args.wrk_duration, args.wrk_threads, args.wrk_connections)
            else:
                load = run_threads(label, url, headers, args.wrk_duration, args.wrk_connections)
            results.append(load)
            print(
                f"  {label:<36} {load.rps:9,.0f} req/s  p50 {load.p50_ms:7.2f} ms  p99 {load.p99_ms:7.2f} ms  "
                f"({load.requests:,} requests, {load.errors} errors, {load.tool})"
            )
    return results


# -- main ------------------------------------------------------------------------------------------


@dataclass
class Figures:
    sweep: SweepRun | None = None
    again: SweepRun | None = None
    empty_ms: list[float] = field(default_factory=list)
    empty_analyzed_ms: list[float] = field(default_factory=list)
    orm: list[OrmRun] = field(default_factory=list)
    loads: list[Load] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=1_000_000, help="open tasks over the villages")
    parser.add_argument("--overdue", type=int, default=100_000, help="of which due before the sweep's day")
    parser.add_argument(
        "--orm-sample",
        type=int,
        default=10_000,
        help="tasks each row-by-row ORM variant escalates (extrapolated to --overdue); at most half of --overdue",
    )
    parser.add_argument("--wrk-duration", type=int, default=20, help="seconds of load per endpoint")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--wrk-connections", type=int, default=16)
    parser.add_argument("--skip-load", action="store_true", help="no HTTP load test (no server, no wrk)")
    parser.add_argument("--no-explain", dest="explain", action="store_false", help="skip EXPLAIN ANALYZE of the sweep")
    parser.add_argument("--insert", choices=("copy", "executemany"), default="copy", help="how the tasks are loaded")
    parser.add_argument("--repeat", type=int, default=50, help="timed empty sweeps (after 3 untimed)")
    parser.add_argument(
        "--consume-sample", type=int, default=1000, help="sweep deliveries run through the real consumer"
    )
    parser.add_argument("--villages", type=int, default=11_000)
    parser.add_argument("--divisions", type=Path, default=DEFAULT_DIVISIONS, help="code,name,level,parent_code file")
    parser.add_argument("--synthetic", action="store_true", help="ignore the division file, generate the codes")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a PostgreSQL server to create the databases on")
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)
    if not 0 < args.overdue <= args.tasks or args.villages < 1 or args.repeat < 1 or args.orm_sample < 1:
        parser.error("need 0 < --overdue <= --tasks, and --villages, --repeat and --orm-sample of at least 1")
    check_columns()

    configure_logging(LoggingSettings(level="WARNING", json=False))
    begun = time.perf_counter()
    today = dt.datetime.now(SHANGHAI).date()
    day = Day(today, dt.datetime.combine(today, dt.time(0, 0), tzinfo=SHANGHAI))
    dataset: Dataset = build_dataset(None if args.synthetic else args.divisions, args.villages, 0, args.seed)
    villages = dataset.of_level("village")
    levels = {level: len(dataset.of_level(level)) for level in ("city", "district", "township", "village")}
    print(f"divisions from: {dataset.source}")
    print(
        "tree: "
        + ", ".join(f"{count:,} {level}" for level, count in levels.items())
        + f"; {args.tasks:,} open tasks over the villages ({args.tasks / len(villages):.0f} a village), "
        f"{args.overdue:,} overdue"
    )
    print(
        f"sweep as of {day.as_of.isoformat()} (the start of today in Shanghai, a FixedClock), so that the server's "
        f"own periodic sweep finds nothing more; python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"load average {', '.join(f'{value:.2f}' for value in os.getloadavg())}"
    )
    figures = Figures()
    databases = Databases(args.pg_url)
    print(f"postgresql {databases.server_version // 10000}.{databases.server_version % 10000} at {databases.url.host}")
    with tempfile.TemporaryDirectory(prefix="linzhang-bench-") as tmp:
        try:
            run(databases, dataset, day, args, Path(tmp), figures)
        finally:
            gc.unfreeze()
            databases.close()
    summary(figures, args)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\ntotal time: {time.perf_counter() - begun:.0f} s; load average now {load}")
    return 0


def run(
    databases: Databases, dataset: Dataset, day: Day, args: argparse.Namespace, tmp: Path, figures: Figures
) -> None:

    main_db = databases.create()
    main_url = databases.url_of(main_db)
    settings = make_settings(main_url, tmp / "var")
    container = bootstrap(settings, clock=FixedClock(day.now))
    ctx = TasksContext(
        container.clock, container.calendar, container.lookup_jurisdiction, policy_at(settings.config_path)
    )
    try:
        print("\n=== dataset " + "=" * 70)
        started = time.perf_counter()
        created = load_tree(container, dataset)
        stage("migrations + import_divisions", started, f"{created:,} units")
        started = time.perf_counter()
        generated = open_task_rows(dataset.of_level("village"), args.tasks, args.overdue, day, args.seed)
        loaded = load_tasks(container, generated, args.insert)
        how = "COPY" if args.insert == "copy" else f"executemany x{EXECUTEMANY_BATCH:,}"
        rate = loaded / (time.perf_counter() - started)
        stage(f"tasks ({how})", started, f"{loaded:,} rows, {rate:,.0f} rows/s, generating them included")
        started = time.perf_counter()
        items, revisions = load_inbox(container)
        stage("inbox items + revisions (SQL)", started, f"{items:,} todo items, {revisions:,} revisions")
        started = time.perf_counter()
        entries = load_timeline(container)
        stage("timeline 'created' entries (SQL)", started, f"{entries:,}")
        started = time.perf_counter()
        with container.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        stage("VACUUM ANALYZE", started)
        with container.reading() as session:
            t = tasks_table
            check(
                "open tasks",
                int(session.execute(select(func.count()).where(t.c.status == "open")).scalar_one()),
                args.tasks,
            )
            check(
                "overdue (next_escalation_on before the sweep's day)",
                int(session.execute(select(func.count()).where(t.c.next_escalation_on < day.today)).scalar_one()),
                args.overdue,
            )
        container.engine.dispose()  # a template database must have no connections
        started = time.perf_counter()
        orm_db = databases.create("orm", template=main_db)
        explain_db = databases.create("explain", template=main_db) if args.explain else None
        print(
            f"  copies for the baseline{' and the plans' if explain_db else ''} (CREATE DATABASE .. TEMPLATE): "
            f"{time.perf_counter() - started:.2f} s  ({databases.size(main_db) / 2**30:.2f} GiB each)"
        )

        # The setup's objects stay alive; keep them out of the garbage collector's walks while timing.
        gc.collect()
        gc.freeze()

        print("\n=== the set-based sweep " + "=" * 58)
        sweep_run = timed_sweep(container, ctx, day.as_of)
        figures.sweep = sweep_run
        print(
            f"  escalation.sweep(): {sweep_run.escalated:,} escalated in {sweep_run.call_s:.2f} s, commit {sweep_run.commit_s:.2f} s, "
            f"total {sweep_run.total_s:.2f} s ({sweep_run.escalated / sweep_run.total_s:,.0f} tasks/s); "
            f"goal under {SWEEP_GOAL_S:.0f} s: {verdict(sweep_run.total_s < SWEEP_GOAL_S)}"
        )
        print_steps(sweep_run)
        print()
        sweep_checks(container, sweep_run, args.overdue)
        fetch_alone(container, sweep_run)

        again = timed_sweep(container, ctx, day.as_of)
        figures.again = again
        print(
            f"\n  the same sweep again: {again.escalated} escalated in {again.total_s * 1000:.1f} ms "
            "(finding nothing due: its first statement still visits the old versions of the rows that climbed)"
        )
        check("the same sweep again escalates", again.escalated, 0)
        figures.empty_ms, empty = empty_sweeps(container, ctx, day, 1, args.repeat)
        report_empty("right after the big sweep", figures.empty_ms)
        print_steps(empty)
        if args.explain:
            print("\n  its escalations INSERT .. SELECT under EXPLAIN (ANALYZE, BUFFERS), rolled back:")
            explain_empty(container, ctx, day.as_of + dt.timedelta(milliseconds=args.repeat + 10))
        started = time.perf_counter()
        with container.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE tasks_tasks"))
        print(f"\n  ANALYZE tasks_tasks: {time.perf_counter() - started:.2f} s")
        figures.empty_analyzed_ms, _ = empty_sweeps(container, ctx, day, args.repeat + 20, args.repeat)
        report_empty("after ANALYZE tasks_tasks", figures.empty_analyzed_ms)
        if args.explain:
            explain_empty(container, ctx, day.as_of + dt.timedelta(milliseconds=2 * args.repeat + 30))

        print("\n=== row-by-row ORM baseline (a copy of the same data) " + "=" * 27)
        sample = min(args.orm_sample, args.overdue // 2)
        orm_settings = make_settings(databases.url_of(orm_db), tmp / "var")
        orm_container = bootstrap(orm_settings, clock=FixedClock(day.now))
        orm_ctx = TasksContext(
            orm_container.clock, orm_container.calendar, orm_container.lookup_jurisdiction, ctx.policy
        )
        try:
            for batch, label in (
                (1, "ORM, flush + publish per task"),
                (ORM_BATCH, f"ORM, flush + publish per {ORM_BATCH} tasks"),
            ):
                orm = run_orm(orm_container, orm_ctx, day.as_of, sample, batch, label)
                figures.orm.append(orm)
                full = orm.extrapolated(args.overdue)
                print(
                    f"  {label:<36} {orm.escalated:,} tasks in {orm.seconds:.2f} s ({orm.seconds / orm.escalated * 1000:.3f} ms a task)"
                    f" -> {args.overdue:,} tasks: {full:,.1f} s"
                    + (" (extrapolated linearly from the sample)" if orm.escalated < args.overdue else "")
                    + f"; set-based sweep {full / sweep_run.total_s:,.1f}x faster"
                )
            with orm_container.reading() as session:
                moved = int(
                    session.execute(select(func.count()).where(tasks_table.c.holder_level == "township")).scalar_one()
                )
                published = int(
                    session.execute(
                        select(func.count()).where(events_table.c.event_type == "TaskEscalated")
                    ).scalar_one()
                )
            check("ORM: tasks moved to their township", moved, sum(orm.escalated for orm in figures.orm))
            check("ORM: TaskEscalated events in the outbox", published, sum(orm.escalated for orm in figures.orm))
        finally:
            orm_container.close()
            databases.drop(orm_db)

        if explain_db is not None:
            print("\n=== EXPLAIN (ANALYZE, BUFFERS, WAL) of the sweep's statements (a copy, rolled back) " + "=" * 3)
            try:
                explain_sweep(databases.url_of(explain_db), sweep_run)
            finally:
                databases.drop(explain_db)

        if args.skip_load:
            return
        print("\n=== inbox under load " + "=" * 61)
        project_sweep(container, sweep_run, args.consume_sample, args.overdue)
        took = vacuum_analyze(
            container.engine,
            "chiefs_inbox_items",
            "chiefs_task_revisions",
            "bus_deliveries",
            "bus_events",
            "tasks_tasks",
            "tasks_escalations",
            "tasks_timeline",
        )
        print(f"  VACUUM ANALYZE of the tables the sweep and the projection changed: {took:.2f} s")
        figures.loads = inbox_under_load(container, main_url, tmp / "server-var", args)
    finally:
        container.close()


def empty_sweeps(
    container: Container, ctx: TasksContext, day: Day, first_ms: int, repeat: int
) -> tuple[list[float], SweepRun]:
    """3 untimed then ``repeat`` timed sweeps that find nothing, each as of a little later, each committed."""
    samples: list[float] = []
    for n in range(3 + repeat):
        run = timed_sweep(container, ctx, day.as_of + dt.timedelta(milliseconds=first_ms + n))
        if run.escalated:
            raise SystemExit(f"an empty sweep escalated {run.escalated}")
        if n >= 3:
            samples.append(run.total_s * 1000)
    return samples, run


def report_empty(when: str, samples: list[float]) -> None:
    print(
        f"  empty sweep {when} ({len(samples)} runs after 3 untimed, a later as_of each, one transaction each): "
        f"median {statistics.median(samples):.2f} ms, p95 {percentile(samples, 0.95):.2f} ms, "
        f"min {min(samples):.2f}, max {max(samples):.2f}; goal under {EMPTY_GOAL_MS:.0f} ms: "
        f"{verdict(percentile(samples, 0.95) < EMPTY_GOAL_MS)}"
    )


def explain_empty(container: Container, ctx: TasksContext, as_of: dt.datetime) -> None:
    """The plan of an empty sweep's first statement: how it finds that nothing is due."""
    recorder = Recorder(container.engine)
    with recorder.recording(), container.session_factory() as session:
        session.begin()
        escalation.sweep(
            session, escalation.SWEEPER, ctx, as_of, skew=dt.timedelta(seconds=container.settings.clock.skew_seconds)
        )
        session.rollback()
    statement = next(s for s in recorder.statements if step_name(s.sql).startswith("escalations"))
    with container.engine.connect() as connection:
        lines = [
            row[0]
            for row in connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.parameters)
        ]
        connection.rollback()
    for line in lines:
        print(f"    | {line}")


def fetch_alone(container: Container, run: SweepRun) -> None:
    """Split 'fetch + build' of the sweep: the same select again, its rows fetched, nothing built."""
    select_statement = next((s for s in run.statements if step_name(s.sql) == "select the rows for the events"), None)
    if select_statement is None or run.publish_started is None:
        return
    gap = run.publish_started - select_statement.ended
    with container.engine.connect() as connection:
        result = connection.exec_driver_sql(select_statement.sql, select_statement.parameters)
        started = time.perf_counter()
        rows = result.all()
        fetch = time.perf_counter() - started
        connection.rollback()
    print(
        f"  of the {gap:.3f} s between the select and publish(): making {len(rows):,} rows of the result "
        f"{fetch:.3f} s (measured again), so building the TaskEscalated events about {max(0.0, gap - fetch):.3f} s"
    )


def summary(figures: Figures, args: argparse.Namespace) -> None:
    print("\n=== summary " + "=" * 70)
    if figures.sweep is not None:
        run = figures.sweep
        print(
            f"  sweep of {run.escalated:,} overdue tasks (of {args.tasks:,}): {run.total_s:.2f} s  "
            f"(goal < {SWEEP_GOAL_S:.0f} s: {verdict(run.total_s < SWEEP_GOAL_S)})"
        )
        top = max(steps(run), key=lambda step: step[1])
        print(f"    largest step: {top[0]} {top[1]:.2f} s ({top[1] / run.total_s * 100:.0f} %)")
    if figures.again is not None:
        print(f"  the same sweep again: {figures.again.escalated} escalated, {figures.again.total_s * 1000:.1f} ms")
    for when, samples in (
        ("right after the big sweep", figures.empty_ms),
        ("after ANALYZE tasks_tasks", figures.empty_analyzed_ms),
    ):
        if samples:
            print(
                f"  empty sweep {when}: median {statistics.median(samples):.2f} ms, p95 {percentile(samples, 0.95):.2f} ms"
                f"  (goal < {EMPTY_GOAL_MS:.0f} ms: {verdict(percentile(samples, 0.95) < EMPTY_GOAL_MS)})"
            )
    if figures.sweep is not None:
        for orm in figures.orm:
            full = orm.extrapolated(args.overdue)
            ratio = full / figures.sweep.total_s
            print(
                f"  {orm.label}: {full:,.1f} s for {args.overdue:,}"
                + (f" (from {orm.escalated:,})" if orm.escalated < args.overdue else "")
                + f" -> set-based {ratio:,.1f}x faster (goal >= {RATIO_GOAL:.0f}x: {verdict(ratio >= RATIO_GOAL)})"
            )
    for load in figures.loads:
        print(f"  {load.label:<36} {load.rps:9,.0f} req/s, p99 {load.p99_ms:7.2f} ms ({load.tool})")
    emit("escalation", result_rows(figures, args))


def result_rows(figures: Figures, args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    if figures.sweep is not None:
        run = figures.sweep
        slowest = max((orm.extrapolated(args.overdue) for orm in figures.orm), default=None)
        rows.append(
            Row(
                f"sweep escalating {run.escalated:,} of {args.tasks:,}",
                run.total_s,
                "s",
                slowest,
                "s row-by-row ORM",
                f"< {SWEEP_GOAL_S:.0f} s, >= {RATIO_GOAL:.0f}x ORM",
                run.total_s < SWEEP_GOAL_S and slowest is not None and slowest / run.total_s >= RATIO_GOAL,
            )
        )
    if figures.empty_analyzed_ms:
        p95 = percentile(figures.empty_analyzed_ms, 0.95)
        rows.append(Row("empty sweep p95", p95, "ms", None, "", f"< {EMPTY_GOAL_MS:.0f} ms", p95 < EMPTY_GOAL_MS))
    health = next((load for load in figures.loads if "healthz" in load.label), None)
    for load in figures.loads:
        if load is not health:
            rows.append(
                Row(
                    load.label,
                    load.rps,
                    "req/s",
                    health.rps if health else None,
                    "req/s /healthz",
                    ">= 1,000, p99 < 50 ms, >= 0.25x /healthz",
                    load.rps >= 1000 and load.p99_ms < 50 and (health is None or load.rps >= 0.25 * health.rps),
                )
            )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
