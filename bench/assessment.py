"""Benchmark of the annual assessment at Chongqing's size: a million task events scored, ranked and exported.

Builds the jurisdiction tree of ``bench/hierarchy.py`` (1 city, 41 districts and zones, ~1,046 townships,
~11,000 villages) through the real ``import_divisions`` service, then bulk-loads the assessments domain's
own tables as its ledger consumer would have left them after a year of work: ``assessments_tasks`` (the
task projection: ~60 % of ``--events``) and ``assessments_ledger`` (completed, escalated and sent-back
facts: the other ~40 %), COPY on PostgreSQL and SQLAlchemy Core executemany on SQLite, plus a few vetoes
and bonuses through the real services. It then measures:

* ``compute`` of the year 2021 as of 31 December (``--repeat`` runs, one transaction each), split into
  collecting the facts, scoring, and the rest (ranking, result rows, their insert and the commit), with
  the process's peak memory during the run and the time the garbage collector took;
* that a second computation gives the same score to every jurisdiction (asserted);
* the reads: ``list_scores`` first page of each level, ``breakdown`` of a district, ``all_scores`` and
  the xlsx ``workbook`` built from it.

    .venv/bin/python bench/assessment.py                          # SQLite and PostgreSQL, 1,000,000 events
    .venv/bin/python bench/assessment.py --backend postgresql     # the figure that matters
    .venv/bin/python bench/assessment.py --events 200000 --repeat 2 --read-repeat 10   # a quick look
    .venv/bin/python bench/assessment.py --backend postgresql --profile   # where compute's time goes

SQLite runs on a temporary file; PostgreSQL on a database of its own, created on ``--pg-url``'s server and
dropped afterwards. No Redis is needed.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import os
import pstats
import random
import resource
import statistics
import sys
import time
import tracemalloc
import uuid
from collections import Counter
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
    load_tree,
    make_settings,
)
from hierarchy import (  # noqa: E402
    Result,
    measure,
    print_results,
    result_rows,
)
from results import Row, emit  # noqa: E402
from sqlalchemy import Date, Table, func, insert, literal, select, text  # noqa: E402

from linzhang.bootstrap import Container, bootstrap  # noqa: E402
from linzhang.clock import FixedClock  # noqa: E402
from linzhang.domains.assessments import service  # noqa: E402
from linzhang.domains.assessments.export import workbook  # noqa: E402
from linzhang.domains.assessments.service import AssessmentContext  # noqa: E402
from linzhang.domains.assessments.tables import (  # noqa: E402
    bonuses_table,
    figures_table,
    ledger_table,
    results_table,
    runs_table,
    tracked_table,
    vetoes_table,
)
from linzhang.identity.scope import Principal, Role  # noqa: E402
from linzhang.log import configure_logging  # noqa: E402
from linzhang.paths import path_codes  # noqa: E402
from linzhang.settings import LoggingSettings  # noqa: E402

PERIOD = "2021"
AS_OF = dt.date(2021, 12, 31)
YEAR_START = dt.date(2021, 1, 1)
YEAR = [YEAR_START + dt.timedelta(days=day) for day in range(365)]
# The computation runs on 10 January 2022, 09:00 in Chongqing.
NOW = dt.datetime(2022, 1, 10, 1, 0, tzinfo=dt.UTC)
ADMIN = Principal(user_id=1, username="bench-admin", role=Role.ADMIN, jurisdiction_code=None, path="/")
from linzhang.vocabularies import LEVEL_CODES as LEVELS  # noqa: E402

PAGE_SIZE = 50
BATCH = 20_000
SCALE = 10_000  # quantities are stored in ten-thousandths

# Of the task events, the share that are tracked tasks (each one's TaskCreated); the rest are ledger lines.
TASK_SHARE = 0.6
# Where the tasks sit (owner level), what they are, and how they went.
LEVEL_SHARES = (("village", 0.97), ("township", 0.023), ("district", 0.006), ("city", 0.001))
KIND_SHARES = (("target", 0.45), ("issue", 0.35), ("order", 0.20))
DONE_MEAN = 0.575  # share done by the assessment date, on average; each unit is better or worse than that
ON_TIME_OF_DONE = 0.82
LATE_DAYS_MEAN = 20
SUBMITTED_OF_OPEN_ISSUES = 0.4  # not-done issues waiting for verification
ESCALATED_OF_OVERDUE = 0.12  # overdue work that the sweep escalated
CLIMBS = ((1, 0.60), (2, 0.28), (3, 0.12))  # how far it climbed (at most to the city)
FIRST_CLIMB_DAYS, NEXT_CLIMB_DAYS = 3, 10
SENT_BACK_ONCE, SENT_BACK_TWICE = 0.10, 0.02  # verified issues sent back (核查不合格退回) once, twice
SPLIT_DUE = {
    "city": dt.date(2021, 12, 31),
    "district": dt.date(2021, 12, 15),
    "township": dt.date(2021, 11, 30),
    "village": dt.date(2021, 11, 15),
}
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
SENT_BACK_REASONS = (
    "整改不到位，现场核查仍有问题",
    "佐证材料不全，请补充整改前后照片",
    "疫木未清理完毕",
    "违法占地未恢复原状",
    "未落实责任人",
)
VETO_REASONS = ("发生重大森林火灾", "发生严重毁林案件", "发生重大林业有害生物灾害未及时处置")
BONUS_REASONS = ("经验在全市推广", "获评市级林长制示范", "国家森林城市创建成效突出", "创新巡林护林机制")

TASK_COLUMNS = (
    "task_id",
    "revision",
    "kind",
    "category",
    "path",
    "city_code",
    "district_code",
    "township_code",
    "village_code",
    "due_date",
    "target_quantity",
    "completed_quantity",
    "split",
    "status",
    "done_on",
)
LEDGER_COLUMNS = (
    "event_id",
    "task_id",
    "fact",
    "occurred_on",
    "levels",
    "late",
    "path",
    "city_code",
    "district_code",
    "township_code",
    "village_code",
    "detail",
)
QUANTITIES = ("target_quantity", "completed_quantity")


def check_columns(table: Table, generated: tuple[str, ...]) -> None:
    """Stop if the table has a required column this benchmark does not fill (the schema moved on)."""
    for column in table.columns:
        if column.name in generated or column.nullable or (column.primary_key and column.autoincrement is True):
            continue
        raise SystemExit(f"{table.name}.{column.name} is new to this benchmark: give it a value in bench/assessment.py")


# -- the dataset ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """The year's tasks and ledger lines, generated task by task (fixed by the seed)."""

    dataset: Dataset
    seed: int
    rng: random.Random = field(init=False)
    codes: dict[str, tuple[str | None, ...]] = field(init=False)
    chain: dict[str, list[str]] = field(init=False)
    done_share: dict[str, float] = field(init=False)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    next_id: int = 1

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.chain = {node.code: path_codes(node.path) for node in self.dataset.nodes}
        self.codes = {code: tuple([*chain, None, None, None][:4]) for code, chain in self.chain.items()}
        # How well each unit works: a district's way, its township's, the village's own.
        rng = random.Random(self.seed + 1)
        quality: dict[str, float] = {}
        for node in self.dataset.nodes:
            spread = {"city": 0.0, "district": 0.15, "township": 0.10, "village": 0.12}[node.level]
            quality[node.code] = quality.get(node.parent_code or "", 0.0) + rng.uniform(-spread, spread)
        self.done_share = {code: min(0.97, max(0.10, DONE_MEAN + q)) for code, q in quality.items()}

    def _event_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _line(
        self, task_id: int, node: Node, fact: str, on: dt.date, levels: int, late: bool, detail: str | None
    ) -> None:
        self.lines.append(
            (self._event_id(), task_id, fact, on, levels, late, node.path, *self.codes[node.code], detail)
        )
        self.counts[f"line {fact}"] += 1
        if fact == "escalated":
            self.counts[f"climb {levels}"] += 1

    def task(self, node: Node, kind: str, due: dt.date, target: int | None) -> tuple[Any, ...]:
        """One tracked task of ``node`` and its ledger lines; ``target`` in ten-thousandths (targets only)."""
        rng = self.rng
        task_id = self.next_id
        self.next_id += 1
        done_on: dt.date | None = None
        if rng.random() < self.done_share[node.code]:
            if rng.random() < ON_TIME_OF_DONE:
                done_on = due - dt.timedelta(days=rng.randrange(30))
            else:
                late_on = due + dt.timedelta(days=1 + int(rng.expovariate(1 / LATE_DAYS_MEAN)))
                done_on = late_on if late_on <= AS_OF else None
        status = "done" if done_on else "open"
        if done_on is None and kind == "issue" and rng.random() < SUBMITTED_OF_OPEN_ISSUES:
            status = "submitted"
        revision = 1
        completed = 0
        if target is not None:
            completed = target if done_on else rng.randrange(96) * target // 100 // 100 * 100
            revision += completed > 0
        # Overdue work the sweep escalated: a level after FIRST_CLIMB_DAYS, another every NEXT_CLIMB_DAYS.
        overdue_until = AS_OF if done_on is None else (done_on if done_on > due else None)
        chain = self.chain[node.code]
        if overdue_until is not None and len(chain) > 1 and due < AS_OF and rng.random() < ESCALATED_OF_OVERDUE:
            r, wanted = rng.random(), 0
            for climbs, share in CLIMBS:
                wanted = climbs
                if r < share:
                    break
                r -= share
            # Work done late stops climbing the day before it is done.
            last_day = overdue_until - dt.timedelta(days=1) if done_on else overdue_until
            for levels in range(1, min(wanted, len(chain) - 1) + 1):
                day = due + dt.timedelta(days=FIRST_CLIMB_DAYS + NEXT_CLIMB_DAYS * (levels - 1))
                if day > last_day:
                    break
                source, to = chain[len(chain) - levels], chain[len(chain) - levels - 1]
                self._line(task_id, node, "escalated", day, levels, False, f"{source}->{to}")
                revision += 1
        # Issues that reached verification: some were sent back once or twice before being accepted.
        if kind == "issue" and status != "open":
            r = rng.random()
            times = 2 if r < SENT_BACK_TWICE else (1 if r < SENT_BACK_TWICE + SENT_BACK_ONCE else 0)
            end = done_on or AS_OF
            for _ in range(times):
                day = end - dt.timedelta(days=rng.randrange(1, 20))
                if day < YEAR_START:
                    break
                self._line(task_id, node, "sent_back", day, 0, False, SENT_BACK_REASONS[rng.randrange(5)])
                revision += 2  # sent back, submitted again
        if done_on is not None:
            self._line(task_id, node, "completed", done_on, 0, done_on > due, None)
            revision += 1
        outcome = "not done" if done_on is None else ("late" if done_on > due else "on time")
        self.counts[f"task {kind}"] += 1
        self.counts[f"outcome {outcome}"] += 1
        return (
            task_id,
            revision,
            kind,
            CATEGORIES[rng.randrange(len(CATEGORIES))],
            node.path,
            *self.codes[node.code],
            due,
            target,
            completed,
            False,
            status,
            done_on,
        )

    def split_tree(self, node: Node, children: dict[str, list[Node]]) -> Iterator[tuple[Any, ...]]:
        """A target of ``node`` split to every unit below it (层层分解), the parts' rows before their parent's."""
        kids = children.get(node.code, [])
        if not kids:
            yield self.task(node, "target", SPLIT_DUE[node.level], self.rng.randint(20, 600) * SCALE)
            return
        task_id = self.next_id
        self.next_id += 1
        parts: list[tuple[Any, ...]] = []
        for kid in kids:
            row: tuple[Any, ...] = ()
            for row in self.split_tree(kid, children):
                yield row
            parts.append(row)  # the kid's own part comes after the parts below it
        target = sum(row[10] for row in parts)
        completed = sum(row[11] for row in parts)
        self.counts["split parent"] += 1
        yield (
            task_id,
            2,
            "target",
            "营造林",
            node.path,
            *self.codes[node.code],
            SPLIT_DUE[node.level],
            target,
            completed,
            True,
            "open",
            None,
        )

    def rows(self, total: int, split_trees: int) -> Iterator[tuple[Any, ...]]:
        """``total`` tracked tasks: ``split_trees`` city targets split down to the villages, then the rest."""
        children: dict[str, list[Node]] = {}
        for node in self.dataset.nodes:
            if node.parent_code is not None:
                children.setdefault(node.parent_code, []).append(node)
        city = self.dataset.of_level("city")[0]
        for _ in range(split_trees):
            yield from self.split_tree(city, children)
        made = self.next_id - 1
        rng = self.rng
        by_level = [(self.dataset.of_level(level), share) for level, share in LEVEL_SHARES]
        by_level = [(nodes, share) for nodes, share in by_level if nodes]
        scale = sum(share for _, share in by_level)
        level_cuts, acc = [], 0.0
        for nodes, share in by_level:
            acc += share / scale
            level_cuts.append((acc, nodes))
        for _ in range(max(0, total - made)):
            r = rng.random()
            nodes = next((n for cut, n in level_cuts if r < cut), level_cuts[-1][1])
            node = nodes[rng.randrange(len(nodes))]
            r = rng.random()
            kind = (
                "target"
                if r < KIND_SHARES[0][1]
                else ("issue" if r < KIND_SHARES[0][1] + KIND_SHARES[1][1] else "order")
            )
            target = None
            if kind == "target":
                target = rng.randrange(1, 5000) * SCALE + rng.choice((0, 0, 0, 5000))
            yield self.task(node, kind, YEAR[rng.randrange(365)], target)


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def load(container: Container, plan: Plan, tasks: int, split_trees: int) -> tuple[int, int]:
    """Bulk-insert the tasks (generated on the way) and then their ledger lines; returns the two counts."""
    engine = container.engine
    check_columns(tracked_table, TASK_COLUMNS)
    check_columns(ledger_table, LEDGER_COLUMNS)
    loaded = 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            connection = raw.driver_connection
            assert connection is not None
            with connection.cursor() as cursor:
                with cursor.copy(f"COPY assessments_tasks ({', '.join(TASK_COLUMNS)}) FROM STDIN") as copy:
                    for row in plan.rows(tasks, split_trees):
                        copy.write_row(row)
                        loaded += 1
                with cursor.copy(f"COPY assessments_ledger ({', '.join(LEDGER_COLUMNS)}) FROM STDIN") as copy:
                    for line in plan.lines:
                        copy.write_row(line)
            connection.commit()
        finally:
            raw.close()
        _figures_from_tasks(container)
        return loaded, len(plan.lines)
    # SQLite: through the tables' own column types, so the stored values are what the consumer would write.
    quantity_at = [TASK_COLUMNS.index(name) for name in QUANTITIES]
    with container.transaction() as session:
        for batch in _batches(plan.rows(tasks, split_trees), BATCH):
            params = []
            for row in batch:
                values = list(row)
                for i in quantity_at:
                    if values[i] is not None:
                        values[i] = Decimal(values[i]).scaleb(-4)
                params.append(dict(zip(TASK_COLUMNS, values, strict=True)))
            session.execute(insert(tracked_table), params)
            loaded += len(batch)
        for start in range(0, len(plan.lines), BATCH):
            params = [dict(zip(LEDGER_COLUMNS, line, strict=True)) for line in plan.lines[start : start + BATCH]]
            session.execute(insert(ledger_table), params)
    _figures_from_tasks(container)
    return loaded, len(plan.lines)


def _figures_from_tasks(container: Container) -> None:
    """Each target's figure in the history, known at any date (the ledger keeps one per revision)."""
    with container.transaction() as session:
        session.execute(
            insert(figures_table).from_select(
                ["task_id", "revision", "occurred_on", "completed_quantity", "target_quantity"],
                select(
                    tracked_table.c.task_id,
                    tracked_table.c.revision,
                    literal(dt.date(1970, 1, 1), Date),
                    tracked_table.c.completed_quantity,
                    tracked_table.c.target_quantity,
                ).where(tracked_table.c.kind == "target"),
            )
        )


def record_vetoes_and_bonuses(
    container: Container, ctx: AssessmentContext, dataset: Dataset, seed: int
) -> tuple[int, int]:
    """A few 一票否决 and 加分项 through the real services, as the city office records them."""
    rng = random.Random(seed)
    items = sorted(ctx.rubric.bonus)
    vetoed = {"district": 1, "township": 4, "village": 10}
    awarded = {"district": 3, "township": 12, "village": 30}
    vetoes = bonuses = 0
    with container.transaction() as session:
        for level, count in vetoed.items():
            for node in rng.sample(dataset.of_level(level), count):
                service.record_veto(session, ADMIN, ctx, PERIOD, node.code, rng.choice(VETO_REASONS))
                vetoes += 1
        for level, count in awarded.items():
            for node in rng.sample(dataset.of_level(level), count):
                for item in rng.sample(items, 1 + (rng.random() < 0.2)):
                    service.award_bonus(session, ADMIN, ctx, PERIOD, node.code, item, rng.choice(BONUS_REASONS))
                    bonuses += 1
    return vetoes, bonuses


# -- memory ----------------------------------------------------------------------------------------


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux); False when it cannot be reset."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def rss_mib() -> float:
    kib = _status_kib("VmRSS")
    return (kib or 0) / 1024


def peak_rss_mib() -> float:
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024


# -- compute ---------------------------------------------------------------------------------------


@dataclass
class ComputeRun:
    seconds: float
    cpu_s: float  # this process's CPU time (the database server's work is not in it)
    collect_s: float
    score_s: float
    gc_s: float
    gc_runs: int
    rss_before_mib: float
    peak_mib: float
    peak_is_run_only: bool
    assessed: int

    @property
    def rest_s(self) -> float:
        return self.seconds - self.collect_s - self.score_s


class Phases:
    """Wall time inside ``service._collect`` and ``service.score`` during a computation, and in the collector."""

    def __init__(self) -> None:
        self.collect_s = self.score_s = self.gc_s = 0.0
        self.gc_runs = 0
        self._gc_started = 0.0

    def _gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_s += time.perf_counter() - self._gc_started
            self.gc_runs += 1

    def __enter__(self) -> Phases:
        # The names compute() calls, replaced for the run by timed wrappers (restored on exit).
        self._collect, self._score = getattr(service, "_collect"), getattr(service, "score")  # noqa: B009
        collect, score = self._collect, self._score

        def timed_collect(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return collect(*args, **kwargs)
            finally:
                self.collect_s += time.perf_counter() - started

        def timed_score(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return score(*args, **kwargs)
            finally:
                self.score_s += time.perf_counter() - started

        setattr(service, "_collect", timed_collect)  # noqa: B010
        setattr(service, "score", timed_score)  # noqa: B010
        gc.callbacks.append(self._gc)
        return self

    def __exit__(self, *_exc: object) -> None:
        setattr(service, "_collect", self._collect)  # noqa: B010
        setattr(service, "score", self._score)  # noqa: B010
        gc.callbacks.remove(self._gc)


def compute_once(container: Container, ctx: AssessmentContext) -> ComputeRun:
    gc.collect()
    rss_before = rss_mib()
    run_only = reset_peak_rss()
    with Phases() as phases:
        started, cpu = time.perf_counter(), time.process_time()
        with container.transaction() as session:
            view = service.compute(session, ADMIN, ctx, PERIOD, as_of=AS_OF)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return ComputeRun(
        seconds,
        cpu,
        phases.collect_s,
        phases.score_s,
        phases.gc_s,
        phases.gc_runs,
        rss_before,
        peak_rss_mib(),
        run_only,
        view.assessed,
    )


def traced_compute(container: Container, ctx: AssessmentContext) -> tuple[float, float]:
    """Peak of Python's own allocations during one computation (tracemalloc, rolled back), and its time."""
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with container.session_factory() as session, session.begin():
            service.compute(session, ADMIN, ctx, PERIOD, as_of=AS_OF)
            session.rollback()
    finally:
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / 2**20, seconds


def profile_compute(container: Container, ctx: AssessmentContext, top: int) -> None:
    """One computation under cProfile (rolled back): the functions with the most own and cumulative time."""
    gc.collect()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    with container.session_factory() as session, session.begin():
        profiler.enable()
        service.compute(session, ADMIN, ctx, PERIOD, as_of=AS_OF)
        profiler.disable()
        session.rollback()
    print(
        f"\n  --- cProfile of one compute ({time.perf_counter() - started:.1f} s under the profiler, rolled back) ---"
    )
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(top)
        body = out.getvalue()
        start = body.find("   ncalls")
        print(f"\n  by {order}:")
        for line in body[start:].rstrip().splitlines():
            print(f"    {line}")


# -- results ---------------------------------------------------------------------------------------


def run_results(container: Container, run_id: int) -> dict[str, tuple[Any, ...]]:
    r = results_table
    with container.reading() as session:
        rows = session.execute(
            select(
                r.c.jurisdiction_code, r.c.score, r.c.grade, r.c.rank, r.c.vetoed, r.c.components, r.c.deductions
            ).where(r.c.run_id == run_id)
        ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def check_repeatable(container: Container) -> str:
    """Every run's score of every jurisdiction equals the first run's (asserted); the other fields compared."""
    with container.reading() as session:
        run_ids = list(session.execute(select(runs_table.c.id).order_by(runs_table.c.id)).scalars())
    if len(run_ids) < 2:
        return "only one computation: nothing to compare"
    first = run_results(container, run_ids[0])
    notes = []
    for run_id in run_ids[1:]:
        other = run_results(container, run_id)
        assert other.keys() == first.keys(), f"run {run_id} scored other jurisdictions than run {run_ids[0]}"
        differing = [code for code in first if other[code][0] != first[code][0]]
        assert not differing, f"run {run_id} gives other scores than run {run_ids[0]}: {differing[:10]}"
        fields = ("grade", "rank", "vetoed", "components", "deductions")
        rest = {name: sum(other[c][i + 1] != first[c][i + 1] for c in first) for i, name in enumerate(fields)}
        if any(rest.values()):
            notes.append(f"run {run_id}: " + ", ".join(f"{n} differs for {k:,}" for n, k in rest.items() if k))
    same = f"{len(run_ids)} computations: every one of the {len(first):,} jurisdictions has the same score"
    if notes:
        return same + "; BUT " + "; ".join(notes)
    return same + ", grade, rank, components and stored deductions in every run"


def print_levels(container: Container) -> None:
    r = results_table
    with container.reading() as session:
        run_id = session.execute(select(func.max(runs_table.c.id))).scalar_one()
        rows = session.execute(
            select(r.c.level, r.c.score, r.c.grade, r.c.rank, r.c.vetoed, r.c.deductions).where(r.c.run_id == run_id)
        ).all()
    print(f"\n  results of the last run ({len(rows):,} rows):")
    print(
        f"  {'level':<9} {'results':>8} {'assessed':>9} {'vetoed':>7} {'ranks':>6}  {'score min/median/max':>22}  "
        f"{'deductions a unit (max)':>24}  grades"
    )
    for level in LEVELS:
        mine = [row for row in rows if row.level == level]
        scores = [row.score for row in mine if row.score is not None]
        grades = Counter(row.grade for row in mine if row.grade)
        counts = [json.loads(row.deductions)["count"] for row in mine]
        spread = f"{min(scores):6.2f} /{statistics.median(scores):6.2f} /{max(scores):6.2f}" if scores else f"{'-':>22}"
        print(
            f"  {level:<9} {len(mine):>8,} {len(scores):>9,} {sum(row.vetoed for row in mine):>7,} "
            f"{len({row.rank for row in mine if row.rank is not None}):>6,}  {spread:>22}  "
            f"{statistics.mean(counts) if counts else 0:>13,.0f} ({max(counts, default=0):>8,})  "
            + ", ".join(f"{grade} {count:,}" for grade, count in grades.most_common())
        )


# -- one backend -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    backend: str
    events: int = 0
    load_s: float = 0.0
    computes: list[ComputeRun] = field(default_factory=list)
    traced_mib: float | None = None
    reads: list[Result] = field(default_factory=list)
    xlsx_bytes: int = 0


def run_backend(backend: str, dataset: Dataset, args: argparse.Namespace) -> Outcome:
    print(f"\n=== {backend} " + "=" * (70 - len(backend)))
    with database(backend, args.pg_url) as (url, var_dir):
        settings = make_settings(url, var_dir)
        container = bootstrap(settings, clock=FixedClock(NOW))
        try:
            return _run(container, backend, dataset, args)
        finally:
            container.close()


def _run(container: Container, backend: str, dataset: Dataset, args: argparse.Namespace) -> Outcome:

    outcome = Outcome(backend)
    started = time.perf_counter()
    created = load_tree(container, dataset)
    print(f"migrations + import_divisions: {time.perf_counter() - started:8.2f} s  ({created:,} units)")

    ctx = container.context(AssessmentContext)
    plan = Plan(dataset, args.seed)
    tasks = round(args.events * TASK_SHARE)
    started = time.perf_counter()
    loaded, lines = load(container, plan, tasks, args.split_trees)
    outcome.load_s = time.perf_counter() - started
    outcome.events = loaded + lines
    how = "COPY" if backend == "postgresql" else f"Core executemany, batches of {BATCH:,}"
    print(
        f"bulk load ({how}): {outcome.load_s:8.2f} s  ({loaded:,} tasks + {lines:,} ledger lines = "
        f"{outcome.events:,} task events, {outcome.events / outcome.load_s:,.0f} rows/s, generation included)"
    )
    c = plan.counts
    print(
        f"  tasks: {c['task target']:,} targets, {c['task issue']:,} issues, {c['task order']:,} orders "
        f"({c['split parent']:,} of the targets split parents, {args.split_trees} city targets split down to every "
        f"village); {c['outcome on time']:,} done on time, {c['outcome late']:,} late, "
        f"{c['outcome not done']:,} not done by {AS_OF.isoformat()}"
    )
    print(
        f"  ledger: {c['line completed']:,} completed, {c['line escalated']:,} escalated "
        f"(levels 1/2/3: {c['climb 1']:,}/{c['climb 2']:,}/{c['climb 3']:,}), {c['line sent_back']:,} sent back"
    )
    del plan
    vetoes, bonuses = record_vetoes_and_bonuses(container, ctx, dataset, args.seed + 5)
    print(f"  {vetoes} vetoes and {bonuses} bonuses recorded through record_veto / award_bonus")
    if backend == "postgresql":
        started = time.perf_counter()
        with container.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        print(f"VACUUM ANALYZE:                {time.perf_counter() - started:8.2f} s")
        with container.engine.connect() as connection:
            for table in ("assessments_tasks", "assessments_ledger"):
                sizes = connection.execute(
                    text(
                        f"SELECT pg_size_pretty(pg_relation_size('{table}')), pg_size_pretty(pg_indexes_size('{table}'))"
                    )
                ).one()
                print(f"  {table}: heap {sizes[0]}, indexes {sizes[1]}")
    with container.reading() as session:
        counted = {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (tracked_table, ledger_table, figures_table, vetoes_table, bonuses_table)
        }
    assert counted["assessments_tasks"] == loaded, counted
    assert counted["assessments_ledger"] == lines, counted

    if args.gc_freeze:
        # The tree and the load's leftovers stay alive here: keep them out of the collector's walks.
        gc.collect()
        gc.freeze()
    try:
        print(f"\n  compute({PERIOD!r}, as_of={AS_OF.isoformat()}) as an administrator, one transaction each:")
        print(
            f"  {'run':>5} {'total s':>8} {'cpu s':>6} {'collect s':>10} {'score s':>8} {'rest s':>7} {'gc s':>6} {'gc runs':>8}"
            f" {'RSS before MiB':>15} {'peak RSS MiB':>13} {'assessed':>9}"
        )
        for number in range(1, args.repeat + 1):
            run = compute_once(container, ctx)
            outcome.computes.append(run)
            mark = "" if run.peak_is_run_only else " (process peak so far)"
            print(
                f"  {number:>5} {run.seconds:8.2f} {run.cpu_s:6.2f} {run.collect_s:10.2f} {run.score_s:8.2f} {run.rest_s:7.2f}"
                f" {run.gc_s:6.2f} {run.gc_runs:8,} {run.rss_before_mib:15,.0f} {run.peak_mib:13,.0f}{mark}"
                f" {run.assessed:9,}"
            )
        seconds = [run.seconds for run in outcome.computes]
        peak = max(run.peak_mib for run in outcome.computes)
        print(
            f"  median {statistics.median(seconds):.2f} s (min {min(seconds):.2f}, max {max(seconds):.2f}); "
            f"peak RSS during a compute {peak:,.0f} MiB, {peak - outcome.computes[-1].rss_before_mib:,.0f} MiB "
            f"above the RSS before it"
        )
        if args.tracemalloc:
            outcome.traced_mib, traced_s = traced_compute(container, ctx)
            print(
                f"  tracemalloc: peak of Python allocations during one compute {outcome.traced_mib:,.0f} MiB "
                f"({traced_s:.1f} s under tracing, rolled back)"
            )
        started = time.perf_counter()
        print(f"  repeatable: {check_repeatable(container)} (checked in {time.perf_counter() - started:.1f} s)")
        print_levels(container)
        outcome.reads = measure_reads(container, ctx, dataset, args, outcome)
    finally:
        gc.unfreeze()
    print_results(outcome.reads)
    print(f"  workbook: {outcome.xlsx_bytes:,} bytes ({outcome.xlsx_bytes / 2**20:.1f} MiB)")
    if args.profile:
        profile_compute(container, ctx, args.profile_top)
    return outcome


def measure_reads(
    container: Container, ctx: AssessmentContext, dataset: Dataset, args: argparse.Namespace, outcome: Outcome
) -> list[Result]:
    size: Counter[str] = Counter()
    for node in dataset.nodes:
        for code in path_codes(node.path):
            size[code] += 1
    district = max(dataset.of_level("district"), key=lambda node: size[node.code])

    def first_page(level: str) -> Callable[[Any, int], Any]:
        return lambda session, _i: service.list_scores(session, ADMIN, ctx, PERIOD, level, None, PAGE_SIZE)

    def breakdown(session: Any, _i: int) -> str:
        view = service.breakdown(session, ADMIN, ctx, PERIOD, district.code)
        return (
            f"{view.jurisdiction_code} {view.name}: {view.score} {view.grade}, rank {view.rank}/{view.peers}, "
            f"{len(view.deductions)} of {view.deductions_count:,} deductions"
        )

    results = [
        measure(container, f"list_scores {level}, first {PAGE_SIZE}", first_page(level), args.warmup, args.read_repeat)
        for level in LEVELS
    ]
    results.append(
        measure(container, f"breakdown of district {district.code}", breakdown, args.warmup, args.read_repeat)
    )

    scores: dict[str, Any] = {}

    def everything(session: Any, _i: int) -> str:
        run, by_level = service.all_scores(session, ADMIN, ctx, PERIOD)
        scores["run"], scores["by_level"] = run, by_level
        return ", ".join(f"{len(rows):,} {level}" for level, rows in by_level.items())

    results.append(measure(container, "all_scores (admin)", everything, 0, args.repeat))
    book: dict[str, bytes] = {}

    def build(_session: Any, _i: int) -> str:
        book["xlsx"] = workbook(scores["run"], ctx.rubric, scores["by_level"])
        return f"{len(book['xlsx']):,} bytes"

    results.append(measure(container, "workbook from all_scores", build, 0, args.repeat))
    outcome.xlsx_bytes = len(book["xlsx"])
    return results


# -- main ------------------------------------------------------------------------------------------


def print_summary(outcomes: list[Outcome]) -> None:
    if len(outcomes) < 2:
        return
    heads = [outcome.backend for outcome in outcomes]
    lines: list[tuple[str, list[str]]] = [
        ("task events", [f"{o.events:>17,}" for o in outcomes]),
        ("bulk load, s", [f"{o.load_s:17.1f}" for o in outcomes]),
        ("compute, s (median)", [f"{statistics.median(r.seconds for r in o.computes):17.2f}" for o in outcomes]),
        (
            "  cpu of this process, s (median)",
            [f"{statistics.median(r.cpu_s for r in o.computes):17.2f}" for o in outcomes],
        ),
        ("  collect, s (median)", [f"{statistics.median(r.collect_s for r in o.computes):17.2f}" for o in outcomes]),
        ("  score, s (median)", [f"{statistics.median(r.score_s for r in o.computes):17.2f}" for o in outcomes]),
        ("  rest, s (median)", [f"{statistics.median(r.rest_s for r in o.computes):17.2f}" for o in outcomes]),
        ("compute peak RSS, MiB", [f"{max(r.peak_mib for r in o.computes):17,.0f}" for o in outcomes]),
    ]
    for index, result in enumerate(outcomes[0].reads):
        cells = []
        for o in outcomes:
            r = o.reads[index]
            cells.append(f"{r.median_ms:8.2f} /{r.p95_ms:7.2f}")
        lines.append((f"{result.label}, ms med/p95", cells))
    width = max(len(label) for label, _ in lines)
    print(f"\n=== summary {'=' * 60}")
    print(f"  {'':<{width}}  " + "  ".join(f"{head:>17}" for head in heads))
    for label, values in lines:
        print(f"  {label:<{width}}  " + "  ".join(values))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--events", type=int, default=1_000_000, help="task events: tracked tasks + ledger lines")
    parser.add_argument("--repeat", type=int, default=3, help="timed computations (and all_scores / workbook runs)")
    parser.add_argument("--read-repeat", type=int, default=30, help="timed list_scores / breakdown calls")
    parser.add_argument("--warmup", type=int, default=3, help="untimed list_scores / breakdown calls first")
    parser.add_argument("--villages", type=int, default=11000)
    parser.add_argument("--split-trees", type=int, default=2, help="city targets split down to every village")
    parser.add_argument("--divisions", type=Path, default=DEFAULT_DIVISIONS, help="code,name,level,parent_code file")
    parser.add_argument("--synthetic", action="store_true", help="ignore the division file, generate the codes")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a PostgreSQL server to create the database on")
    parser.add_argument("--tracemalloc", action="store_true", help="one more compute under tracemalloc (slow)")
    parser.add_argument("--profile", action="store_true", help="one more compute under cProfile, printed")
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="keep the benchmark's own objects in the garbage collector's reach while timing",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.read_repeat < 1 or args.events < 1 or args.villages < 1 or args.split_trees < 0:
        parser.error("--events, --villages, --repeat and --read-repeat are at least 1")

    configure_logging(LoggingSettings(level="WARNING", json=False))
    begun = time.perf_counter()
    dataset = build_dataset(None if args.synthetic else args.divisions, args.villages, 0, args.seed)
    levels = {level: len(dataset.of_level(level)) for level in LEVELS}
    print(f"divisions from: {dataset.source}")
    print("tree: " + ", ".join(f"{count:,} {level}" for level, count in levels.items()))
    print(
        f"period {PERIOD}, as of {AS_OF.isoformat()}; {args.events:,} task events asked; compute x{args.repeat}; "
        f"reads: {args.warmup} warm-up + {args.read_repeat} timed calls, each in a session of its own; "
        f"gc.freeze {'on' if args.gc_freeze else 'off'}; python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"load average {os.getloadavg()[0]:.2f} at the start"
    )
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    outcomes = []
    for backend in backends:
        started = time.perf_counter()
        outcomes.append(run_backend(backend, dataset, args))
        print(f"\n  ({backend}: {time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.2f})")
    print_summary(outcomes)
    print(f"\ntotal time: {time.perf_counter() - begun:.1f} s")
    rows: list[Row] = []
    for outcome in outcomes:
        if outcome.computes:
            median = statistics.median(run.seconds for run in outcome.computes)
            rows.append(
                Row(
                    f"annual assessment of {outcome.events:,} task events [{outcome.backend}]",
                    median,
                    "s",
                    outcome.load_s,
                    "s bulk load of the same data",
                    "report the time",
                    None,
                )
            )
        rows += result_rows(outcome.reads, outcome.backend)
    emit("assessment", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
