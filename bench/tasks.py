"""Benchmark of the tasks domain at Chongqing's size: a million tasks, the roll-up chain and the chiefs' lists.

Builds the jurisdiction tree of ``bench/hierarchy.py`` (1 city, 41 districts and zones, ~1,046 townships,
~11,000 villages) through the real ``import_divisions`` service, then bulk-loads ``--tasks`` tasks into
``tasks_tasks`` (COPY on PostgreSQL, SQLAlchemy Core executemany on SQLite), among them ``--split-trees``
city targets split the way 层层压实 splits them: city -> every district -> its townships -> its villages,
and derives the projections of the tasks' events (chiefs' inboxes, assessments) from them. It then measures:

* the roll-up: a village chief's ``report_progress`` on a leaf of a split tree, and the time from its
  commit until the city target's ``completed_quantity`` shows it - with the bus driven by hand (relay
  into a list, consume each delivery, until nothing is pending), then with the embedded bus's worker
  threads (the relay called by the benchmark) and with the whole embedded bus (workers and scheduler);
* ``list_tasks`` as a village chief (own tasks by due date), a township chief (subtree), a district
  chief (own overdue work; overdue work and submitted issues in the subtree) and an administrator
  (everything, and everything overdue) - first page of 50, median and p95, each call in a session of
  its own;
* on PostgreSQL, ``EXPLAIN (ANALYZE, BUFFERS)`` of every statement of those lists and of a roll-up.

Every figure is taken at ``--tasks`` and at ``--compare-tasks`` (default 100,000) and printed side by
side, to show which costs depend on the size of the table.

    .venv/bin/python bench/tasks.py                               # both backends, 100,000 and 1,000,000
    .venv/bin/python bench/tasks.py --backend postgresql
    .venv/bin/python bench/tasks.py --tasks 200000 --compare-tasks 0 --reports 20 --repeat 30   # a quick look

SQLite runs on a temporary file; PostgreSQL on a database of its own, created on ``--pg-url``'s server and
dropped afterwards. No Redis is needed: the in-process broker is used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import logging
import math
import operator
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for entry in (str(ROOT), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from dataset import (  # noqa: E402
    DEFAULT_DIVISIONS,
    DEFAULT_PG_URL,
    Dataset,
    Node,
    build_dataset,
    database,
    derive_from_tasks,
    load_tree,
    make_settings,
    todo_item_columns,
)
from hierarchy import (  # noqa: E402
    FLOOR,
    INDEX_NODE,
    Result,
    captured,
    measure,
    print_results,
    result_rows,
)
from results import Row, emit  # noqa: E402
from sqlalchemy import Engine, create_engine, func, insert, select, text  # noqa: E402

from linzhang.bootstrap import Container, bootstrap  # noqa: E402
from linzhang.bus import EmbeddedBus, consume_delivery  # noqa: E402
from linzhang.bus.relay import OutgoingDelivery, relay_pending  # noqa: E402
from linzhang.bus.tables import deliveries_table  # noqa: E402
from linzhang.clock import FixedClock  # noqa: E402
from linzhang.contracts import TaskProgressReported, TaskRolledUp  # noqa: E402
from linzhang.domains.tasks.context import TasksContext  # noqa: E402
from linzhang.domains.tasks.listing import TaskFilter, list_tasks  # noqa: E402
from linzhang.domains.tasks.model import TaskStatus  # noqa: E402
from linzhang.domains.tasks.rollup import roll_up_parent  # noqa: E402
from linzhang.domains.tasks.service import report_progress  # noqa: E402
from linzhang.domains.tasks.tables import tasks_table  # noqa: E402
from linzhang.identity.scope import Principal, Role  # noqa: E402
from linzhang.log import configure_logging  # noqa: E402
from linzhang.paths import path_codes  # noqa: E402
from linzhang.settings import LoggingSettings  # noqa: E402

# "Today" for every rule: 1 July 2021, 09:00 in Chongqing. Due dates run over 2021, so about half are past.
NOW = dt.datetime(2021, 7, 1, 1, 0, tzinfo=dt.UTC)
TODAY = dt.date(2021, 7, 1)
YEAR = [dt.date(2021, 1, 1) + dt.timedelta(days=day) for day in range(365)]
EARLIEST_CREATED = dt.datetime(2020, 12, 1, 1, 0, tzinfo=dt.UTC)
PAGE_SIZE = 50
ROLLUP_SLOW_S = 1.0
BATCH = 20_000
SCALE = 10_000  # quantities are stored in ten-thousandths

COLUMNS = (
    "id",
    "kind",
    "status",
    "title",
    "description",
    "category",
    "lead_department",
    "cooperating_departments",
    "jurisdiction_code",
    "jurisdiction_path",
    "holder_code",
    "holder_path",
    "holder_level",
    "due_date",
    "escalation_due_date",
    "target_quantity",
    "completed_quantity",
    "unit",
    "parent_id",
    "children_count",
    "plan_key",
    "plan_point",
    "created_by",
    "created_at",
    "updated_at",
    "done_on",
)
# Derived columns the table may have: its revision, the owner's codes by level, the next escalation day.
DERIVED_COLUMNS = ("revision", "city_code", "district_code", "township_code", "village_code", "next_escalation_on")
GENERATED = COLUMNS + DERIVED_COLUMNS
QUANTITIES = ("target_quantity", "completed_quantity")

# Where the (unsplit) tasks sit: nearly all with villages, a few with the levels above, so that every
# chief's own list has something in it.
LEVEL_SHARES = (("village", 0.97), ("township", 0.023), ("district", 0.006), ("city", 0.001))
KIND_SHARES = (("target", 0.50), ("issue", 0.35), ("order", 0.15))
CATEGORIES = (
    "营造林",
    "森林防火",
    "林业有害生物防治",
    "森林资源管护",
    "林政执法",
    "古树名木保护",
    "自然保护地",
    "国土绿化",
)
TARGET_TITLES = (
    ("完成人工造林", "亩"),
    ("完成森林抚育", "亩"),
    ("完成退化林修复", "亩"),
    ("新植苗木", "株"),
    ("建设防火隔离带", "公里"),
    ("建设森林防火检查站", "个"),
)
ISSUE_TITLES = (
    "巡林发现疑似乱砍滥伐",
    "林地疑似被非法占用",
    "发现疑似松材线虫病枯死树",
    "林区发现火源隐患",
    "林区违规用火",
    "林区垃圾堆放",
    "护林标牌损坏",
)
ORDER_TITLES = (
    "林长令：切实加强春季森林防火工作",
    "督办：森林督查图斑整改",
    "林长令：松材线虫病疫木清理",
    "督办：林地占用问题限期整改",
    "林长令：严厉打击破坏森林资源违法行为",
)
DESCRIPTIONS = (
    None,
    None,
    "按照市林长办工作要点，压实林长责任，确保按期完成并上报进展。",
    "请于到期日前完成整改，整改情况附照片报送上级林长办核查。",
    "巡林员上报，需核实位置、面积及责任人，依法依规处置。",
)
DEPARTMENTS = ("林业局", "规划自然资源局", "应急管理局", "公安局", "生态环境局", "农业农村委", "水利局")
SPLIT_TITLES = (("营造林任务", "亩"), ("森林抚育任务", "亩"), ("退化林修复任务", "亩"), ("国家储备林建设", "亩"))


# -- the dataset ----------------------------------------------------------------------------------


@dataclass
class SplitTree:
    """One city target split down to the villages, and what the benchmark needs to report on it."""

    title: str
    root_id: int
    leaves: list[tuple[Node, int]]  # (village, task id) of every village part
    target: dict[int, int]  # raw quantities (ten-thousandths) by task id
    completed: dict[int, int]
    parts: dict[str, int] = field(default_factory=dict)  # the parts of each level (for the report)

    @property
    def root_completed(self) -> int:
        return sum(self.completed[task_id] for _, task_id in self.leaves)


def _row(**values: Any) -> tuple[Any, ...]:
    return tuple(values.get(name) for name in COLUMNS) + _derived(values["jurisdiction_path"], values["due_date"])


def _derived(path: str, due: dt.date) -> tuple[Any, ...]:
    """The DERIVED_COLUMNS of a new task: revision 1, the codes of its path by level, its due date."""
    codes: list[str | None] = [*path_codes(path), None, None, None]
    return (1, codes[0], codes[1], codes[2], codes[3], due)


def build_split_trees(
    dataset: Dataset, count: int, first_id: int, seed: int
) -> tuple[list[tuple[Any, ...]], list[SplitTree]]:
    """``count`` city targets, each split to every district, each part to its townships, each to its villages.

    The village parts get a target and some progress already; every part above carries the exact sums
    and ``children_count``, as ``split_task`` and the roll-up leave them. Rows come parents first.
    """
    rng = random.Random(seed)
    children: dict[str, list[Node]] = {}
    for node in dataset.nodes:
        if node.parent_code is not None:
            children.setdefault(node.parent_code, []).append(node)
    city = dataset.of_level("city")[0]
    rows: list[tuple[Any, ...]] = []
    trees: list[SplitTree] = []
    next_id = first_id
    for number in range(count):
        title, unit = SPLIT_TITLES[number % len(SPLIT_TITLES)]
        tree = SplitTree(title, next_id, [], {}, {})
        placed: list[tuple[Node, int, int | None, int]] = []  # (unit, id, parent id, parts), parents first
        next_id = _place(tree, placed, children, rng, city, None, next_id)
        created = NOW - dt.timedelta(days=150 - number)
        for node, task_id, parent_id, parts in placed:
            rows.append(
                _row(
                    id=task_id,
                    kind="target",
                    status="open",
                    title=title,
                    description="2021年度市级下达任务，层层分解落实到村。",
                    category="营造林",
                    lead_department="市林业局",
                    jurisdiction_code=node.code,
                    jurisdiction_path=node.path,
                    holder_code=node.code,
                    holder_path=node.path,
                    holder_level=node.level,
                    due_date=SPLIT_DUE.get(node.level, dt.date(2021, 11, 15)),
                    target_quantity=tree.target[task_id],
                    completed_quantity=tree.completed[task_id],
                    unit=unit,
                    parent_id=parent_id,
                    children_count=parts,
                    created_by="admin",
                    created_at=created,
                    updated_at=created,
                )
            )
        trees.append(tree)
    return rows, trees


SPLIT_DUE = {"city": dt.date(2021, 12, 31), "district": dt.date(2021, 12, 15), "township": dt.date(2021, 11, 30)}


def _place(
    tree: SplitTree,
    placed: list[tuple[Node, int, int | None, int]],
    children: dict[str, list[Node]],
    rng: random.Random,
    node: Node,
    parent_id: int | None,
    next_id: int,
) -> int:
    """The part of ``tree`` for ``node`` and, below it, a part for every child unit; returns the next free id."""
    task_id = next_id
    index = len(placed)
    placed.append((node, task_id, parent_id, 0))
    kids = children.get(node.code, [])
    next_id += 1
    if not kids:
        # A leaf part: a village (or a unit without villages), with a target and some progress already.
        tree.target[task_id] = rng.randint(20, 600) * SCALE + rng.choice((0, 0, 5000, 2500))
        tree.completed[task_id] = tree.target[task_id] * rng.randint(0, 60) // 100 // 100 * 100
        if node.level == "village":
            tree.leaves.append((node, task_id))
        return next_id
    ids = []
    for kid in kids:
        ids.append(next_id)
        next_id = _place(tree, placed, children, rng, kid, task_id, next_id)
    tree.target[task_id] = sum(tree.target[i] for i in ids)
    tree.completed[task_id] = sum(tree.completed[i] for i in ids)
    tree.parts[node.level] = tree.parts.get(node.level, 0) + len(ids)
    placed[index] = (node, task_id, parent_id, len(ids))
    return next_id


def bulk_rows(dataset: Dataset, count: int, first_id: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """``count`` unsplit tasks in creation order, on random jurisdictions (mostly villages)."""
    rng = random.Random(seed)
    random_ = rng.random
    randrange = rng.randrange
    by_level = {level: dataset.of_level(level) for level, _ in LEVEL_SHARES}
    level_cuts = list(_cumulative([share for level, share in LEVEL_SHARES if by_level[level]]))
    level_nodes = [by_level[level] for level, _ in LEVEL_SHARES if by_level[level]]
    kind_cuts = list(_cumulative([share for _, share in KIND_SHARES]))
    span = (NOW - EARLIEST_CREATED).total_seconds()
    derived = {node.code: _derived(node.path, YEAR[0])[:-1] for node in dataset.nodes}
    # Creation times rise with the id, as they do in a table filled over time.
    for n in range(count):
        r = random_()
        nodes = level_nodes[next(i for i, cut in enumerate(level_cuts) if r < cut)]
        node = nodes[randrange(len(nodes))]
        r = random_()
        kind = "target" if r < kind_cuts[0] else ("issue" if r < kind_cuts[1] else "order")
        due = YEAR[randrange(365)]
        s = random_()
        if due < TODAY:
            status = "done" if s < 0.55 else ("submitted" if kind == "issue" and s < 0.62 else "open")
        else:
            status = "done" if s < 0.10 else ("submitted" if kind == "issue" and s < 0.15 else "open")
        created = EARLIEST_CREATED + dt.timedelta(seconds=span * n / max(1, count))
        updated = min(NOW, created + dt.timedelta(hours=randrange(1, 2000)))
        category = CATEGORIES[randrange(len(CATEGORIES))]
        if kind == "target":
            title, unit = TARGET_TITLES[randrange(len(TARGET_TITLES))]
            target = randrange(1, 5000) * SCALE
            completed = target if status == "done" else randrange(0, target // 100) * 100
        else:
            titles = ISSUE_TITLES if kind == "issue" else ORDER_TITLES
            title = titles[randrange(len(titles))]
            unit, target, completed = None, None, 0
        done_on = None
        if status == "done":
            done_on = min(TODAY, max(created.date(), due - dt.timedelta(days=randrange(0, 30))))
        department = DEPARTMENTS[randrange(len(DEPARTMENTS))]
        cooperating = (
            json.dumps([DEPARTMENTS[randrange(len(DEPARTMENTS))]], ensure_ascii=False) if random_() < 0.2 else None
        )
        yield (
            first_id + n,
            kind,
            status,
            title,
            DESCRIPTIONS[randrange(len(DESCRIPTIONS))],
            category,
            department,
            cooperating,
            node.code,
            node.path,
            node.code,
            node.path,
            node.level,
            due,
            None,
            target,
            completed,
            unit,
            None,
            0,
            None,
            None,
            "admin" if node.level != "village" else f"office-{node.path.split('/')[2]}",
            created,
            updated,
            done_on,
            *derived[node.code],
            due,
        )


def _cumulative(shares: list[float]) -> Iterator[float]:
    total, scale = 0.0, sum(shares)
    for share in shares:
        total += share / scale
        yield total


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _projection() -> tuple[list[str], Callable[[tuple[Any, ...]], tuple[Any, ...]]]:
    """The columns of ``tasks_tasks`` as the application defines it, and how to make a generated row fit them.

    A column this benchmark does not generate gets its scalar default, or NULL; any other stops the run.
    """
    index = {name: i for i, name in enumerate(GENERATED)}
    present = [column.name for column in tasks_table.columns if column.name in index]
    extra: dict[str, Any] = {}
    for column in tasks_table.columns:
        if column.name in index:
            continue
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            extra[column.name] = getattr(default, "arg", None)
        elif column.nullable:
            extra[column.name] = None
        else:
            raise SystemExit(f"tasks_tasks.{column.name} is new to this benchmark: give it a value in bench/tasks.py")
    pick = operator.itemgetter(*(index[name] for name in present))
    constants = tuple(extra.values())
    return present + list(extra), lambda row: pick(row) + constants


def load_tasks(container: Container, rows: Iterator[tuple[Any, ...]]) -> int:
    """Bulk-insert ``rows`` (quantities in ten-thousandths): COPY on PostgreSQL, Core executemany on SQLite."""
    engine = container.engine
    names, fit = _projection()
    loaded = 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            connection = raw.driver_connection
            assert connection is not None
            with connection.cursor() as cursor:
                with cursor.copy(f"COPY tasks_tasks ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(fit(row))
                        loaded += 1
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('tasks_tasks', 'id'), (SELECT max(id) FROM tasks_tasks))"
                )
            connection.commit()
        finally:
            raw.close()
        return loaded
    # SQLite: through the table's own column types, so the stored values are what the ORM would write.
    statement = insert(tasks_table)
    quantities = [name for name in QUANTITIES if name in names]
    with container.transaction() as session:
        for batch in _batches(rows, BATCH):
            params = []
            for row in batch:
                values = dict(zip(names, fit(row), strict=True))
                for name in quantities:
                    if values[name] is not None:
                        values[name] = Decimal(values[name]).scaleb(-4)
                params.append(values)
            session.execute(statement, params)
            loaded += len(batch)
    return loaded


def load_projections(container: Container) -> list[tuple[str, int]]:
    """The projections of the tasks' events, as their subscribers would have left them for these tasks.

    Derived in SQL from the loaded tasks, so that the roll-up's deliveries update existing rows as they
    would in a running system: the chiefs' inboxes (every task held by its owner is one ``todo`` item of
    the owner, open until done; its revision applied) and the assessments' task table.
    """
    t = tasks_table
    with container.transaction() as session:
        return [
            (
                "chiefs_task_revisions",
                derive_from_tasks(session, "chiefs_task_revisions", {"task_id": t.c.id, "revision": t.c.revision}),
            ),
            ("chiefs_inbox_items", derive_from_tasks(session, "chiefs_inbox_items", todo_item_columns())),
            (
                "assessments_tasks",
                derive_from_tasks(
                    session,
                    "assessments_tasks",
                    {
                        "task_id": t.c.id,
                        "revision": t.c.revision,
                        "kind": t.c.kind,
                        "category": t.c.category,
                        "path": t.c.jurisdiction_path,
                        "city_code": t.c.city_code,
                        "district_code": t.c.district_code,
                        "township_code": t.c.township_code,
                        "village_code": t.c.village_code,
                        "due_date": t.c.due_date,
                        "target_quantity": t.c.target_quantity,
                        "completed_quantity": t.c.completed_quantity,
                        "split": t.c.children_count > 0,
                        "status": t.c.status,
                        "done_on": t.c.done_on,
                    },
                ),
            ),
        ]


def subscribers_line(container: Container) -> str:
    """Who receives the events of a roll-up (each is a delivery)."""
    parts = []
    for event_class in (TaskProgressReported, TaskRolledUp):
        names = container.registry.subscribers_for(event_class.event_type, event_class.version)
        parts.append(f"{event_class.event_type} -> {', '.join(names) or 'nobody'}")
    return "; ".join(parts)


# -- timing helpers --------------------------------------------------------------------------------


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Rollup:
    """One way of driving the bus: per report, the report's transaction and the roll-up after its commit."""

    label: str
    report_s: list[float] = field(default_factory=list)  # report_progress and its commit
    reflect_s: list[float] = field(default_factory=list)  # commit -> the city target shows it
    settle_s: list[float] = field(default_factory=list)  # commit -> nothing left pending or sent
    deliveries: list[int] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)  # relay rounds (by hand)

    def line(self) -> str:
        def ms(samples: list[float]) -> str:
            if not samples:
                return f"{'-':>17}"
            return f"{statistics.median(samples) * 1000:8.2f} /{percentile(samples, 0.95) * 1000:7.2f}"

        per_report = statistics.mean(self.deliveries) if self.deliveries else 0.0
        slow = (
            self.reflect_s and max(statistics.median(self.reflect_s), percentile(self.reflect_s, 0.95)) > ROLLUP_SLOW_S
        )
        return (
            f"  {self.label:<46} {ms(self.report_s)}  {ms(self.reflect_s)}  {ms(self.settle_s)}  "
            f"{per_report:10.1f}" + (f"   <- over {ROLLUP_SLOW_S:.0f} s" if slow else "")
        )


ROLLUP_HEADER = (
    f"  {'bus driven':<46} {'report ms med/p95':>17}  {'-> city ms med/p95':>17}  {'-> idle ms med/p95':>17}  "
    f"{'deliveries':>10}"
)


class Observer:
    """Reads the city target and the ledger on a connection of its own (no session, no bus, no locks)."""

    def __init__(self, engine: Engine) -> None:
        # A plain engine: on SQLite the application's engine begins every transaction IMMEDIATE (a write lock).
        self.engine = create_engine(engine.url)
        self.connection = self.engine.connect()

    def completed(self, task_id: int) -> Decimal:
        value: Decimal = self.connection.execute(
            select(tasks_table.c.completed_quantity).where(tasks_table.c.id == task_id)
        ).scalar_one()
        self.connection.rollback()
        return value

    def unfinished(self) -> int:
        d = deliveries_table
        count = int(
            self.connection.execute(select(func.count()).where(d.c.status.in_(("pending", "sent")))).scalar_one()
        )
        self.connection.rollback()
        return count

    def last_delivery(self) -> int:
        value = self.connection.execute(select(func.coalesce(func.max(deliveries_table.c.id), 0))).scalar_one()
        self.connection.rollback()
        return int(value)

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


def chief_of(node: Node, user_id: int) -> Principal:
    return Principal(
        user_id=user_id, username=f"chief-{node.code}", role=Role.CHIEF, jurisdiction_code=node.code, path=node.path
    )


@dataclass
class Report:
    tree: SplitTree
    village: Node
    task_id: int
    figure: int  # raw


def plan_reports(trees: list[SplitTree], count: int, rng: random.Random) -> list[Report]:
    """``count`` reports on different villages, taking the split trees in turn; every fifth reaches the target."""
    pools = [rng.sample(tree.leaves, len(tree.leaves)) for tree in trees]
    used: set[str] = set()
    reports: list[Report] = []
    turn = 0
    while len(reports) < count and any(pools):
        pool = pools[turn % len(pools)]
        tree = trees[turn % len(trees)]
        turn += 1
        while pool:
            village, task_id = pool.pop()
            if village.code in used:
                continue
            used.add(village.code)
            target = tree.target[task_id]
            if len(reports) % 5 == 4:
                figure = target
            else:
                figure = max(tree.completed[task_id] + 100, target * rng.randint(61, 95) // 100 // 100 * 100)
            reports.append(Report(tree, village, task_id, figure))
            break
    return reports


def _report(container: Container, ctx: TasksContext, report: Report, user_id: int) -> None:
    with container.transaction() as session:
        report_progress(
            session,
            chief_of(report.village, user_id),
            ctx,
            report.task_id,
            Decimal(report.figure).scaleb(-4),
            "已完成植苗，附现场照片",
        )
    report.tree.completed[report.task_id] = report.figure


def rollup_by_hand(
    container: Container, ctx: TasksContext, observer: Observer, reports: list[Report], label: str
) -> Rollup:
    """Report, then relay into a list and consume each delivery, round after round, until nothing is pending."""
    clock = container.clock
    result = Rollup(label)
    for number, report in enumerate(reports):
        in_transit: list[OutgoingDelivery] = []
        started = time.perf_counter()
        _report(container, ctx, report, 10_000 + number)
        committed = time.perf_counter()
        expected = Decimal(report.tree.root_completed).scaleb(-4)
        reflected: float | None = None
        consumed = rounds = 0
        while True:
            relay_pending(container.session_factory, in_transit.extend, clock, batch_size=1000)
            if not in_transit:
                break
            rounds += 1
            for message in in_transit:
                consume_delivery(
                    container.session_factory, container.registry, clock, container.bus.policy, message.delivery_id
                )
                consumed += 1
            in_transit.clear()
            if reflected is None and observer.completed(report.tree.root_id) == expected:
                reflected = time.perf_counter()
        settled = time.perf_counter()
        figure = observer.completed(report.tree.root_id)
        assert figure == expected, f"the city target shows {figure}, not {expected}"
        assert reflected is not None
        result.report_s.append(committed - started)
        result.reflect_s.append(reflected - committed)
        result.settle_s.append(settled - committed)
        result.deliveries.append(consumed)
        result.rounds.append(rounds)
    return result


def rollup_threaded(
    container: Container,
    ctx: TasksContext,
    observer: Observer,
    reports: list[Report],
    label: str,
    *,
    relay_here: bool,
    threads: int,
    poll_s: float,
) -> Rollup:
    """Report, then let worker threads consume; the relay runs here (``relay_here``) or in the scheduler thread.

    The city target is polled every ``poll_s`` seconds on a connection of its own.
    """
    result = Rollup(label)
    embedded: EmbeddedBus | None = None
    worker = None
    # Every worker started on the in-process broker adds its middleware to it again; Dramatiq warns about
    # that from the second start on, which is harmless here.
    broker_log = logging.getLogger(f"dramatiq.broker.{type(container.bus.broker).__name__}")
    level = broker_log.level
    broker_log.setLevel(logging.ERROR)
    # The scheduler's periodic jobs stay out: the first escalation sweep over a table never swept would
    # escalate every overdue task at once, a backlog that has nothing to do with the roll-up.
    jobs, container.bus.jobs = container.bus.jobs, []
    try:
        if relay_here:
            worker = container.bus.start_worker(threads)
        else:
            embedded = EmbeddedBus(container.bus)
            embedded.start()
    finally:
        broker_log.setLevel(level)
    try:
        for number, report in enumerate(reports):
            before = observer.last_delivery()
            started = time.perf_counter()
            _report(container, ctx, report, 20_000 + number)
            committed = time.perf_counter()
            expected = Decimal(report.tree.root_completed).scaleb(-4)
            deadline = committed + 30
            while True:
                if relay_here:
                    container.bus.relay_all()
                if observer.completed(report.tree.root_id) == expected:
                    break
                if time.perf_counter() > deadline:
                    raise AssertionError(f"the city target did not reach {expected} within 30 s")
                time.sleep(poll_s)
            reflected = time.perf_counter()
            while True:
                if relay_here:
                    container.bus.relay_all()
                if observer.unfinished() == 0:
                    break
                if time.perf_counter() > deadline:
                    raise AssertionError("the bus did not settle within 30 s")
                time.sleep(poll_s)
            settled = time.perf_counter()
            result.report_s.append(committed - started)
            result.reflect_s.append(reflected - committed)
            result.settle_s.append(settled - committed)
            result.deliveries.append(observer.last_delivery() - before)
    finally:
        if worker is not None:
            worker.stop()
        if embedded is not None:
            embedded.stop()
        container.bus.jobs = jobs
    return result


# -- one run ---------------------------------------------------------------------------------------


@dataclass
class Run:
    backend: str
    tasks: int
    load_s: float = 0.0
    rollups: list[Rollup] = field(default_factory=list)
    lists: list[Result] = field(default_factory=list)


def run_one(backend: str, dataset: Dataset, size: int, args: argparse.Namespace, plans: bool) -> Run:
    print(f"\n=== {backend}, {size:,} tasks " + "=" * max(0, 60 - len(backend) - len(f"{size:,}")))
    with database(backend, args.pg_url) as (url, var_dir):
        settings = make_settings(url, var_dir)
        container = bootstrap(settings, clock=FixedClock(NOW))
        try:
            return _run(container, backend, dataset, size, args, plans)
        finally:
            container.close()


def _run(container: Container, backend: str, dataset: Dataset, size: int, args: argparse.Namespace, plans: bool) -> Run:

    run = Run(backend, size)
    started = time.perf_counter()
    created = load_tree(container, dataset)
    print(f"migrations + import_divisions: {time.perf_counter() - started:8.2f} s  ({created:,} units)")

    split_rows, trees = build_split_trees(dataset, args.split_trees, 1, args.seed)
    if len(split_rows) > size:
        raise SystemExit(f"--tasks {size:,} is smaller than the split trees ({len(split_rows):,} tasks)")
    bulk = size - len(split_rows)

    def all_rows() -> Iterator[tuple[Any, ...]]:
        yield from split_rows
        yield from bulk_rows(dataset, bulk, len(split_rows) + 1, args.seed + 7)

    started = time.perf_counter()
    loaded = load_tasks(container, all_rows())
    run.load_s = time.perf_counter() - started
    how = "COPY" if backend == "postgresql" else f"Core executemany, batches of {BATCH:,}"
    print(
        f"bulk load ({how}): {run.load_s:8.2f} s  ({loaded:,} tasks, {loaded / run.load_s:,.0f} rows/s, "
        f"generation included; {len(split_rows):,} of them in {len(trees)} split trees)"
    )
    started = time.perf_counter()
    projected = load_projections(container)
    if projected:
        print(
            f"projections derived:           {time.perf_counter() - started:8.2f} s  ("
            + ", ".join(f"{name} {count:,}" for name, count in projected)
            + ")"
        )
    if backend == "postgresql":
        started = time.perf_counter()
        with container.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        print(f"VACUUM ANALYZE:                {time.perf_counter() - started:8.2f} s")
        with container.engine.connect() as connection:
            sizes = connection.execute(
                text(
                    "SELECT pg_size_pretty(pg_relation_size('tasks_tasks')), "
                    "pg_size_pretty(pg_indexes_size('tasks_tasks'))"
                )
            ).one()
        print(f"tasks_tasks: heap {sizes[0]}, indexes {sizes[1]}")

    t = tasks_table
    with container.reading() as session:
        by_status: dict[str, int] = dict(session.execute(select(t.c.status, func.count()).group_by(t.c.status)).all())
        by_kind: dict[str, int] = dict(session.execute(select(t.c.kind, func.count()).group_by(t.c.kind)).all())
        overdue = session.execute(select(func.count()).where(t.c.status != "done", t.c.due_date < TODAY)).scalar_one()
    print(
        "tasks: "
        + ", ".join(f"{count:,} {status}" for status, count in sorted(by_status.items()))
        + "; "
        + ", ".join(f"{count:,} {kind}" for kind, count in sorted(by_kind.items()))
        + f"; {overdue:,} overdue on {TODAY.isoformat()}"
    )
    print(f"subscribers: {subscribers_line(container)}")
    tree = trees[0]
    print(
        f"split tree: city -> {tree.parts.get('city', 0)} district parts -> {tree.parts.get('district', 0):,} township "
        f"parts -> {tree.parts.get('township', 0):,} village parts, x{len(trees)} targets"
    )

    ctx = tasks_context(container)
    rng = random.Random(args.seed + 3)
    modes = 3 if args.embedded else 1
    reports = plan_reports(trees, args.reports * modes + 1, rng)
    if len(reports) < args.reports * modes + 1:
        raise SystemExit(f"only {len(reports)} village parts to report on")
    observer = Observer(container.engine)
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    try:
        # One untimed report first: connections, statement caches, the first events.
        rollup_by_hand(container, ctx, observer, reports[:1], "warm-up")
        chunks = [reports[1 + i * args.reports : 1 + (i + 1) * args.reports] for i in range(modes)]
        run.rollups.append(rollup_by_hand(container, ctx, observer, chunks[0], "by hand (relay + consume)"))
        if args.embedded:
            run.rollups.append(
                rollup_threaded(
                    container,
                    ctx,
                    observer,
                    chunks[1],
                    f"{args.worker_threads} worker threads + relay_all",
                    relay_here=True,
                    threads=args.worker_threads,
                    poll_s=args.poll_ms / 1000,
                )
            )
            run.rollups.append(
                rollup_threaded(
                    container,
                    ctx,
                    observer,
                    chunks[2],
                    f"embedded bus ({container.settings.bus.worker_threads} thr + scheduler, no jobs)",
                    relay_here=False,
                    threads=container.settings.bus.worker_threads,
                    poll_s=args.poll_ms / 1000,
                )
            )
        print(f"\n  roll-up of {args.reports} village reports each (3 levels up to the city target), ms:")
        print(ROLLUP_HEADER)
        for rollup in run.rollups:
            print(rollup.line())
        by_hand = run.rollups[0]
        print(
            f"  by hand: {statistics.mean(by_hand.rounds):.1f} relay rounds a report; every report checked: the city "
            f"target equals the sum of its village parts"
        )

        run.lists = measure_lists(container, ctx, dataset, args)
    finally:
        gc.unfreeze()
        observer.close()
    print_results(run.lists)

    if plans:
        explain_all(container, ctx, dataset, trees, backend)
    return run


def tasks_context(container: Container) -> TasksContext:
    """The tasks domain's context as the process builds it."""
    of = getattr(TasksContext, "of", None)
    if of is not None:
        return of(container)  # type: ignore[no-any-return]
    return TasksContext(container.clock, container.calendar, container.lookup_jurisdiction)


def pick_units(dataset: Dataset) -> tuple[Node, Node, Node]:
    """The district with the most villages, its township with the most villages, and the city."""
    size: dict[str, int] = {}
    for node in dataset.nodes:
        for code in node.path.strip("/").split("/"):
            size[code] = size.get(code, 0) + 1
    district = max(dataset.of_level("district"), key=lambda node: size[node.code])
    township = max(
        (n for n in dataset.of_level("township") if n.parent_code == district.code), key=lambda n: size[n.code]
    )
    return dataset.of_level("city")[0], district, township


ADMIN = Principal(user_id=1, username="bench-admin", role=Role.ADMIN, jurisdiction_code=None, path="/")


def list_operations(ctx: TasksContext, dataset: Dataset, seed: int) -> list[tuple[str, Callable[[Any, int], Any]]]:
    _city, district, township = pick_units(dataset)
    villages = dataset.of_level("village") or dataset.of_level("township")
    sample = random.Random(seed).sample(villages, min(len(villages), 200))
    village_chiefs = [(chief_of(node, 100 + i), node.code) for i, node in enumerate(sample)]
    township_chief = chief_of(township, 2)
    district_chief = chief_of(district, 3)

    def listing(principal: Principal, filters: TaskFilter) -> Callable[[Any, int], Any]:
        return lambda session, _i: list_tasks(session, principal, ctx, filters, None, PAGE_SIZE)

    def village(session: Any, i: int) -> Any:
        principal, code = village_chiefs[i % len(village_chiefs)]
        return list_tasks(session, principal, ctx, TaskFilter(jurisdiction_code=code), None, PAGE_SIZE)

    return [
        ("village chief: own tasks (200 villages)", village),
        (
            f"township chief: subtree ({township.code})",
            listing(township_chief, TaskFilter(jurisdiction_code=township.code, subtree=True)),
        ),
        (
            f"district chief: own overdue ({district.code})",
            listing(district_chief, TaskFilter(jurisdiction_code=district.code, overdue=True)),
        ),
        (
            "district chief: subtree overdue",
            listing(district_chief, TaskFilter(jurisdiction_code=district.code, subtree=True, overdue=True)),
        ),
        (
            "district chief: subtree submitted (to verify)",
            listing(
                district_chief, TaskFilter(jurisdiction_code=district.code, subtree=True, status=TaskStatus.SUBMITTED)
            ),
        ),
        ("admin: all tasks, no filter", listing(ADMIN, TaskFilter())),
        ("admin: all overdue", listing(ADMIN, TaskFilter(overdue=True))),
    ]


def measure_lists(container: Container, ctx: TasksContext, dataset: Dataset, args: argparse.Namespace) -> list[Result]:
    results = []
    for label, call in [FLOOR, *list_operations(ctx, dataset, args.seed + 5)]:
        results.append(measure(container, label, call, args.warmup, args.repeat))
    return results


COLUMN_LIST = re.compile(r"SELECT (?:tasks_tasks\.\w+, ){5,}tasks_tasks\.\w+ FROM")


def explain(container: Container, label: str, call: Callable[[Any], Any], seen: set[str]) -> list[str]:
    """Print the plan of every SELECT ``call`` runs (a unit's primary-key lookup only once); the index nodes."""
    engine = container.engine
    with captured(engine) as statements, container.reading() as session:
        call(session)
    postgres = engine.dialect.name == "postgresql"
    summary: list[str] = []
    for statement, parameters in statements:
        one_line = " ".join(statement.split())
        if not one_line.upper().startswith("SELECT"):
            continue
        if "WHERE jurisdictions_units.code =" in one_line:
            if "lookup" in seen:
                continue
            seen.add("lookup")
        with engine.connect() as connection:
            if postgres:
                lines = [
                    row[0] for row in connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                ]
            else:
                lines = [
                    f"{row[3]}" for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                ]
            connection.rollback()
        shown = COLUMN_LIST.sub("SELECT tasks_tasks.<every column> FROM", one_line)
        print(f"\n  [{label}] {shown}")
        print(f"    parameters: {parameters}")
        if postgres:
            found = sorted({f"{kind} on {index}" for kind, index in INDEX_NODE.findall("\n".join(lines))})
            sort = any("Sort Key" in line for line in lines)
            note = ("yes - " + "; ".join(found) if found else "NO") + ("; then a sort" if sort else "")
        else:
            found = [line for line in lines if "USING" in line.upper()]  # an index or the integer primary key
            note = "yes" if found else "NO"
            if any("TEMP B-TREE" in line.upper() for line in lines):
                note += "; then a sort"
        print(f"    uses an index: {note}")
        for line in lines:
            print(f"    | {line}")
        table = re.search(r" FROM (\w+)", one_line)
        if table and table.group(1) != "jurisdictions_units":
            summary.append(f"{label} [{table.group(1)}]: {note}")
    return summary


def _first_call(call: Callable[[Any, int], Any]) -> Callable[[Any], Any]:
    return lambda session: call(session, 0)


def explain_all(
    container: Container, ctx: TasksContext, dataset: Dataset, trees: list[SplitTree], backend: str
) -> None:
    title = "EXPLAIN (ANALYZE, BUFFERS)" if backend == "postgresql" else "EXPLAIN QUERY PLAN"
    print(f"\n  --- {title} ---")
    seen: set[str] = set()
    summary: list[str] = []
    for label, call in list_operations(ctx, dataset, 0):
        summary += explain(container, label, _first_call(call), seen)
    # The roll-up's reads: the parent locked, then its parts (the city target has the most parts).
    summary += explain(
        container, "roll-up of the city target", lambda session: roll_up_parent(session, ctx, trees[0].root_id), seen
    )
    print("\n  plans in short (every statement but the unit lookup):")
    for line in summary:
        print(f"    {line}")


# -- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--tasks", type=int, default=1_000_000, help="tasks in the table (split trees included)")
    parser.add_argument(
        "--compare-tasks", type=int, default=100_000, help="the same run at this size first, side by side (0: skip)"
    )
    parser.add_argument("--sqlite-tasks", type=int, default=None, help="--tasks for SQLite only (default: --tasks)")
    parser.add_argument("--villages", type=int, default=11000)
    parser.add_argument("--split-trees", type=int, default=3, help="city targets split down to every village")
    parser.add_argument("--reports", type=int, default=50, help="village reports timed per way of driving the bus")
    parser.add_argument("--repeat", type=int, default=100, help="timed runs per list (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--worker-threads", type=int, default=2, help="worker threads of the relay_all run")
    parser.add_argument(
        "--poll-ms", type=float, default=1.0, help="how often the threaded runs look at the city target"
    )
    parser.add_argument("--no-embedded", dest="embedded", action="store_false", help="only drive the bus by hand")
    parser.add_argument("--divisions", type=Path, default=DEFAULT_DIVISIONS, help="code,name,level,parent_code file")
    parser.add_argument("--synthetic", action="store_true", help="ignore the division file, generate the codes")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a PostgreSQL server to create the database on")
    parser.add_argument("--plans", action="store_true", help="also print SQLite's plans, and plans at every size")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="keep the benchmark's own objects in the garbage collector's reach while timing",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.reports < 1 or args.tasks < 1 or args.villages < 1 or args.split_trees < 1:
        parser.error("--tasks, --villages, --split-trees, --reports and --repeat are at least 1")

    configure_logging(LoggingSettings(level="WARNING", json=False))
    begun = time.perf_counter()
    dataset = build_dataset(None if args.synthetic else args.divisions, args.villages, 0, args.seed)
    levels = {level: len(dataset.of_level(level)) for level in ("city", "district", "township", "village")}
    print(f"divisions from: {dataset.source}")
    print("tree: " + ", ".join(f"{count:,} {level}" for level, count in levels.items()))
    print(
        f"today: {TODAY.isoformat()} (fixed clock); lists: first page of {PAGE_SIZE}, {args.warmup} warm-up + "
        f"{args.repeat} timed calls, each in a session of its own; roll-up: {args.reports} reports per way; "
        f"gc.freeze {'on' if args.gc_freeze else 'off'}; python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"load average {os.getloadavg()[0]:.2f} at the start"
    )

    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    runs: list[Run] = []
    for backend in backends:
        full = args.sqlite_tasks if backend == "sqlite" and args.sqlite_tasks else args.tasks
        sizes = [size for size in (args.compare_tasks, full) if size] if args.compare_tasks < full else [full]
        for size in sizes:
            started = time.perf_counter()
            plans = args.plans or (size == full and backend == "postgresql")
            runs.append(run_one(backend, dataset, size, args, plans))
            print(
                f"\n  ({backend}, {size:,} tasks: {time.perf_counter() - started:.1f} s; "
                f"load average {os.getloadavg()[0]:.2f})"
            )

    print_summary(runs)
    print(f"\ntotal time: {time.perf_counter() - begun:.1f} s")
    return 0


def _short(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1000}k" if size % 1000 == 0 else str(size)


def print_summary(runs: list[Run]) -> None:
    if not runs:
        return
    rows: list[Row] = []
    for run in runs:
        label = f"{run.backend} {_short(run.tasks)}"
        for rollup in run.rollups:
            if rollup.reflect_s:
                p95 = percentile(rollup.reflect_s, 0.95)
                rows.append(
                    Row(
                        f"commit -> city [{rollup.label}, {label}] p95",
                        p95 * 1000,
                        "ms",
                        None,
                        "",
                        "< 1,000 ms",
                        p95 < 1.0,
                    )
                )
        rows += result_rows(run.lists, label)
    emit("tasks", rows)

    def cell(samples: list[float] | None) -> str:
        if not samples:
            return f"{'-':>17}"
        return f"{statistics.median(samples) * 1000:8.2f} /{percentile(samples, 0.95) * 1000:7.2f}"

    lines: list[tuple[str, list[str]]] = [("bulk load, s", [f"{run.load_s:17.1f}" for run in runs])]
    for index, rollup in enumerate(runs[0].rollups):
        picked = [run.rollups[index] if index < len(run.rollups) else None for run in runs]
        lines.append((f"report_progress [{rollup.label}]", [cell(p.report_s if p else None) for p in picked]))
        lines.append((f"commit -> city [{rollup.label}]", [cell(p.reflect_s if p else None) for p in picked]))
        lines.append(
            (
                f"deliveries a report [{rollup.label}]",
                [f"{statistics.mean(p.deliveries):17.1f}" if p else f"{'-':>17}" for p in picked],
            )
        )
    for index, result in enumerate(runs[0].lists):
        picked_lists = [run.lists[index] if index < len(run.lists) else None for run in runs]
        lines.append((result.label, [cell(p.samples if p else None) for p in picked_lists]))
    heads = [f"{'pg' if run.backend == 'postgresql' else run.backend} {_short(run.tasks)}" for run in runs]
    width = max(len(label) for label, _ in lines)
    print(f"\n=== summary: median / p95 in ms (load in s) {'=' * 30}")
    print(f"  {'':<{width}}  " + "  ".join(f"{head:>17}" for head in heads))
    for label, values in lines:
        print(f"  {label:<{width}}  " + "  ".join(values))


if __name__ == "__main__":
    raise SystemExit(main())
