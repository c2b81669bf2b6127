"""A sweep's backlog on the real bus: the roll-up stays quick, the projections catch up, nothing is resent.

PostgreSQL and Redis, with ``linzhang relay`` and two ``linzhang worker`` processes, as a deployment
would run them: one for the roll-up's queue alone (2 threads), one for every other subscriber's
(``--worker-threads``). The dataset (``bench/dataset.py``): the jurisdiction tree, ``--tasks`` open tasks at villages
of which ``--sweep`` are overdue, the chiefs' inboxes derived from them, and one target split from the
city down to a village (a chain of four parts) whose village chief reports progress.

1. **Idle bus**: ``--reports`` village reports, each in its own transaction; the time from its commit
   until the city part shows the new figure (three roll-up deliveries through the worker). The baseline.
2. **Sweep, one delivery per transaction** (as before batches): a sweep escalates ``--sweep`` tasks
   (two deliveries each: the inboxes and the assessments' ledger); the worker runs with
   ``consume_batch_size = 1`` for ``--before-seconds``; its inbox and ledger rates are the "before".
   Reports go on meanwhile. Then the worker is replaced by one with the configured batches, which
   drains the rest.
3. **Sweep, batches** (as configured): a second sweep escalates the same tasks one level higher; from
   its commit until every inbox and ledger delivery is done, with the configured worker, while reports go
   on. Its end-to-end time is the catch-up figure; the reports' p99 is the roll-up figure under load.

At the end: deliveries sent more than once (the relay keeps each queue short, and redelivery leaves a
message that still waits in its queue alone: none should be), and every delivery done.

    .venv/bin/python bench/bus_backlog.py                       # quick: 20,000 tasks, a sweep of 5,000
    .venv/bin/python bench/bus_backlog.py --full                # 1,000,000 tasks, a sweep of 100,000
    .venv/bin/python bench/bus_backlog.py --redis-url redis://127.0.0.1:6379/6 --json

Goals (issue 12): the village report -> city figure p99 under 2 s while a sweep drains, and the
inboxes reflecting a 100,000-task sweep within 60 s (a rate of 1,667 deliveries/s; at a smaller size the
same rate is the goal).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from dataset import (
    DEFAULT_DIVISIONS,
    DEFAULT_PG_URL,
    ROOT,
    SCALE,
    TASK_COLUMNS,
    Day,
    Node,
    build_dataset,
    database,
    load_inbox,
    load_tasks,
    load_tree,
    make_settings,
    open_task_rows,
)
from redis import Redis
from results import Row, emit, percentile
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine

from linzhang.bootstrap import Container, bootstrap
from linzhang.bus.tables import deliveries_table as d
from linzhang.clock import SHANGHAI
from linzhang.domains.tasks import escalation
from linzhang.domains.tasks.context import TasksContext, policy_at
from linzhang.domains.tasks.service import report_progress
from linzhang.domains.tasks.tables import tasks_table
from linzhang.identity.scope import Principal, Role
from linzhang.paths import path_codes
from linzhang.settings import Settings, load_settings

ROLLUP_GOAL_S = 2.0
# 100,000 inbox deliveries within 60 s.
CATCH_UP_GOAL_RATE = 100_000 / 60
PROJECTIONS = ("chiefs.inbox", "assessments.ledger")
OTHER_SUBSCRIBERS = ("chiefs.inbox", "assessments.ledger", "jurisdictions.coverage")
CHAIN_TARGET = 1_000_000  # the chain's target, in units: reports add one unit each
READY_SECONDS = 120.0


@dataclass
class Drain:
    """One sweep's deliveries draining while the village keeps reporting."""

    label: str
    deliveries: dict[str, int] = field(default_factory=dict)  # by projection
    caught_up_s: dict[str, float] = field(default_factory=dict)  # from the sweep's commit
    rates: dict[str, float] = field(default_factory=dict)  # deliveries/s done over a window
    latencies: list[float] = field(default_factory=list)


def chain_rows(nodes: list[Node], first_id: int, day: Day) -> Iterator[tuple[Any, ...]]:
    """A target split from the city down to one village: one part per level, parents first."""
    created = day.now - dt.timedelta(days=30)
    for depth, node in enumerate(nodes):
        leaf = depth == len(nodes) - 1
        values: dict[str, Any] = {
            "id": first_id + depth,
            "kind": "target",
            "status": "open",
            "title": "营造林任务",
            "category": "营造林",
            "revision": 1,
            "jurisdiction_code": node.code,
            "jurisdiction_path": node.path,
            "holder_code": node.code,
            "holder_path": node.path,
            "holder_level": node.level,
            "due_date": day.today + dt.timedelta(days=300),
            "next_escalation_on": day.today + dt.timedelta(days=300),
            "target_quantity": CHAIN_TARGET * SCALE,
            "completed_quantity": 0,
            "unit": "亩",
            "parent_id": None if depth == 0 else first_id + depth - 1,
            "children_count": 0 if leaf else 1,
            "created_by": "admin",
            "created_at": created,
            "updated_at": created,
        }
        for name, code in zip(
            ("city_code", "district_code", "township_code", "village_code"), path_codes(node.path), strict=False
        ):
            values[name] = code
        yield tuple(values.get(name) for name in TASK_COLUMNS)


def ancestry(nodes: list[Node], leaf: Node) -> list[Node]:
    by_code = {node.code: node for node in nodes}
    chain = [leaf]
    while chain[0].parent_code is not None:
        chain.insert(0, by_code[chain[0].parent_code])
    return chain


class Processes:
    """``linzhang worker`` and ``linzhang relay`` for the benchmark's database and queues."""

    def __init__(self, settings_env: dict[str, str], log_dir: Path, threads: int) -> None:
        self.env = settings_env
        self.log_dir = log_dir
        self.threads = threads
        self.worker: subprocess.Popen[str] | None = None
        self.rollup_worker: subprocess.Popen[str] | None = None
        self.relay: subprocess.Popen[str] | None = None

    def _start(self, name: str, args: list[str], extra: dict[str, str]) -> subprocess.Popen[str]:
        log = (self.log_dir / f"{name}.log").open("a")
        return subprocess.Popen(
            [sys.executable, "-m", "linzhang", *args],
            cwd=ROOT,
            env={**self.env, **extra},
            stdout=log,
            stderr=log,
            text=True,
        )

    def start_relay(self) -> None:
        self.relay = self._start("relay", ["relay"], {})

    def start_rollup_worker(self) -> None:
        """A small worker of the roll-up's queue alone, as docs/operations.md suggests."""
        self.rollup_worker = self._start(
            "rollup-worker", ["worker", "--threads", "2", "--subscriber", "tasks.rollup"], {}
        )

    def start_worker(self, batch_size: int | None) -> None:
        """The worker of every other subscriber's queue."""
        extra = {} if batch_size is None else {"LINZHANG_BUS_CONSUME_BATCH_SIZE": str(batch_size)}
        subscribers = [arg for name in OTHER_SUBSCRIBERS for arg in ("--subscriber", name)]
        self.worker = self._start("worker", ["worker", "--threads", str(self.threads), *subscribers], extra)

    def stop_worker(self) -> None:
        if self.worker is not None:
            _stop(self.worker)
            self.worker = None

    def stop(self) -> None:
        self.stop_worker()
        if self.rollup_worker is not None:
            _stop(self.rollup_worker)
            self.rollup_worker = None
        if self.relay is not None:
            _stop(self.relay)
            self.relay = None


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=90)  # a worker finishes what it holds and gives back what it fetched
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class Village:
    """The reporting village chief and an observer of the city part, on a connection of its own."""

    def __init__(self, container: Container, ctx: TasksContext, chain: list[Node], first_id: int) -> None:
        self.container, self.ctx = container, ctx
        village = chain[-1]
        self.chief = Principal(
            user_id=99,
            username=f"chief-{village.code}",
            role=Role.CHIEF,
            jurisdiction_code=village.code,
            path=village.path,
        )
        self.leaf_id, self.city_id = first_id + len(chain) - 1, first_id
        self.figure = 0
        self.engine = create_engine(container.engine.url)
        self.connection = self.engine.connect()

    def city_figure(self) -> Decimal:
        value: Decimal = self.connection.execute(
            select(tasks_table.c.completed_quantity).where(tasks_table.c.id == self.city_id)
        ).scalar_one()
        self.connection.rollback()
        return value

    def report(self, timeout: float = 60.0) -> float:
        """One report; seconds from its commit until the city part shows it."""
        self.figure += 1
        with self.container.transaction() as session:
            report_progress(session, self.chief, self.ctx, self.leaf_id, Decimal(self.figure), "已完成植苗")
        committed = time.perf_counter()
        expected = Decimal(self.figure)
        while self.city_figure() != expected:
            if time.perf_counter() - committed > timeout:
                raise RuntimeError(f"the roll-up did not reach the city within {timeout} s")
            time.sleep(0.002)
        return time.perf_counter() - committed

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


def unfinished(engine: Engine, ids: tuple[int, int]) -> dict[str, int]:
    """The sweep's deliveries to the projections (ids in ``ids``, bounds excluded/included) not yet done."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(d.c.subscriber, func.count())
            .where(
                d.c.id > ids[0],
                d.c.id <= ids[1],
                d.c.status.in_(("pending", "sent")),
                d.c.subscriber.in_(PROJECTIONS),
            )
            .group_by(d.c.subscriber)
        ).all()
    found = dict.fromkeys(PROJECTIONS, 0)
    found.update({str(row[0]): int(row[1]) for row in rows})
    return found


def last_delivery(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.coalesce(func.max(d.c.id), 0))).scalar_one())


def sweep(container: Container, ctx: TasksContext, as_of: dt.datetime) -> tuple[int, float]:
    started = time.perf_counter()
    with container.transaction() as session:
        result = escalation.sweep(session, escalation.SWEEPER, ctx, as_of)
    return result.escalated, time.perf_counter() - started


def drain(
    container: Container,
    village: Village,
    drain_: Drain,
    ids: tuple[int, int],
    swept_at: float,
    until: float | None,
    report_every: float,
    timeout: float,
) -> None:
    """Report and watch the projections until they are done (or ``until``, a perf_counter time)."""
    start_counts = unfinished(container.engine, ids)
    window_start, last_check = time.perf_counter(), 0.0
    while True:
        now = time.perf_counter()
        if now - swept_at > timeout:
            raise RuntimeError(f"{drain_.label}: not drained within {timeout} s: {unfinished(container.engine, ids)}")
        drain_.latencies.append(village.report())
        if time.perf_counter() - last_check >= 0.5:
            last_check = time.perf_counter()
            left = unfinished(container.engine, ids)
            for name, count in left.items():
                if count == 0 and name not in drain_.caught_up_s:
                    drain_.caught_up_s[name] = last_check - swept_at
            if all(count == 0 for count in left.values()):
                break
            if until is not None and last_check >= until:
                elapsed = last_check - window_start
                for name in PROJECTIONS:
                    drain_.rates[name] = (start_counts[name] - left[name]) / elapsed
                return
        time.sleep(max(0.0, report_every - (time.perf_counter() - now)))
    elapsed = time.perf_counter() - window_start
    for name in PROJECTIONS:
        drain_.rates.setdefault(name, start_counts[name] / max(drain_.caught_up_s.get(name, elapsed), 1e-9))


def environment(container: Container, queue_name: str, var_dir: Path) -> dict[str, str]:
    settings = container.settings
    env = {name: value for name, value in os.environ.items() if not name.startswith("LINZHANG_")}
    env.update(
        LINZHANG_DATABASE_URL=settings.database.url,
        LINZHANG_REDIS_URL=settings.redis.url,
        LINZHANG_BUS_QUEUE_NAME=queue_name,
        LINZHANG_LOGGING_LEVEL="WARNING",
        LINZHANG_SECURITY_SECRET_KEY="bench-" + "k" * 40,
        LINZHANG_PATHS_VAR_DIR=str(var_dir),
    )
    return env


def wait_until_consuming(village: Village) -> float:
    """The first report goes through once the worker and the relay run: how long they took to start."""
    started = time.perf_counter()
    village.report(timeout=READY_SECONDS)
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> list[Row]:
    print(f"bus backlog: {args.tasks:,} open tasks, sweeps of {args.sweep:,}; load average {os.getloadavg()[0]:.1f}")
    queue_name = f"bench-backlog-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        url, var_dir = stack.enter_context(database("postgresql", args.pg_url))
        var_dir.mkdir(parents=True, exist_ok=True)
        settings = make_settings_with_redis(url, var_dir, args.redis_url, queue_name)
        container = bootstrap(settings)
        stack.callback(container.close)
        stack.callback(delete_queues, args.redis_url, queue_name)
        dataset = build_dataset(None if args.synthetic else args.divisions, args.villages, 0, args.seed)
        started = time.perf_counter()
        load_tree(container, dataset)
        today = dt.datetime.now(SHANGHAI).date()
        first_day = Day(
            today - dt.timedelta(days=40), dt.datetime.combine(today - dt.timedelta(days=40), dt.time(0), SHANGHAI)
        )
        villages = dataset.of_level("village")
        chain = ancestry(dataset.nodes, villages[len(villages) // 2])
        rows = open_task_rows(villages, args.tasks, args.sweep, first_day, args.seed)
        first_chain_id = args.tasks + 1
        load_tasks(container, _then(rows, chain_rows(chain, first_chain_id, first_day)), "copy")
        load_inbox(container)
        with container.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        print(f"dataset: {time.perf_counter() - started:.1f} s ({len(villages):,} villages)")

        ctx = TasksContext(
            container.clock, container.calendar, container.lookup_jurisdiction, policy_at(settings.config_path)
        )
        village = Village(container, ctx, chain, first_chain_id)
        stack.callback(village.close)
        log_dir = Path(tempfile.mkdtemp(prefix="linzhang-backlog-"))
        print(f"the worker's and the relay's logs: {log_dir}")
        processes = Processes(environment(container, queue_name, var_dir), log_dir, args.worker_threads)
        stack.callback(processes.stop)
        processes.start_relay()
        processes.start_rollup_worker()
        processes.start_worker(None)
        print(f"worker and relay consuming after {wait_until_consuming(village):.1f} s")

        idle = [village.report() for _ in range(args.reports)]
        print(
            f"idle bus: report -> city p50 {statistics.median(idle) * 1000:.0f} ms, p99 {percentile(idle, 0.99) * 1000:.0f} ms"
        )

        # A sweep with one delivery per transaction (the worker as it was before batches), for a while.
        processes.stop_worker()
        processes.start_worker(1)
        wait_until_consuming(village)
        before = Drain("one delivery per transaction")
        marker = last_delivery(container.engine)
        escalated, sweep_s = sweep(container, ctx, first_day.as_of)
        swept_at = time.perf_counter()
        ids = (marker, last_delivery(container.engine))
        print(
            f"sweep 1: {escalated:,} escalated in {sweep_s:.1f} s; worker with consume_batch_size=1 for {args.before_seconds:.0f} s"
        )
        drain(
            container,
            village,
            before,
            ids,
            swept_at,
            swept_at + args.before_seconds,
            args.report_every,
            args.timeout,
        )
        processes.stop_worker()
        processes.start_worker(None)
        # No report waits on the projections' worker: the roll-up has its own, so reports go on.
        drain(container, village, before, ids, swept_at, None, args.report_every, args.timeout)

        after = Drain("batches (as configured)")
        marker = last_delivery(container.engine)
        second_as_of = dt.datetime.combine(today, dt.time(0), SHANGHAI)
        escalated_2, sweep_2_s = sweep(container, ctx, second_as_of)
        swept_at = time.perf_counter()
        ids = (marker, last_delivery(container.engine))
        print(f"sweep 2: {escalated_2:,} escalated in {sweep_2_s:.1f} s; worker with batches")
        drain(container, village, after, ids, swept_at, None, args.report_every, args.timeout)

        with container.engine.connect() as connection:
            resent = int(connection.execute(select(func.count()).where(d.c.sends > 1)).scalar_one())
            not_done = int(connection.execute(select(func.count()).where(d.c.status != "done")).scalar_one())
            total = int(connection.execute(select(func.count()).select_from(d)).scalar_one())

    for drain_ in (before, after):
        lat = drain_.latencies
        print(
            f"{drain_.label}: {len(lat)} reports, report -> city p50 {statistics.median(lat) * 1000:.0f} ms, "
            f"p99 {percentile(lat, 0.99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms; "
            + ", ".join(f"{name} {drain_.rates.get(name, 0):,.0f}/s" for name in PROJECTIONS)
            + "; caught up after "
            + ", ".join(f"{name} {drain_.caught_up_s.get(name, float('nan')):.1f} s" for name in PROJECTIONS)
        )
    print(f"deliveries: {total:,}, sent more than once {resent:,}, not done {not_done:,} (the last report's)")
    idle_p99 = percentile(idle, 0.99)
    under_load = after.latencies + before.latencies
    inbox_s = after.caught_up_s.get("chiefs.inbox", float("inf"))
    inbox_rate = escalated_2 / inbox_s if inbox_s > 0 else 0.0
    ledger_s = after.caught_up_s.get("assessments.ledger", float("inf"))
    return [
        Row(
            "report -> city p99 while a sweep drains",
            percentile(under_load, 0.99) * 1000,
            "ms",
            idle_p99 * 1000,
            "idle bus",
            f"< {ROLLUP_GOAL_S * 1000:.0f}",
            percentile(under_load, 0.99) < ROLLUP_GOAL_S,
        ),
        Row(
            f"inbox catch-up, sweep of {escalated_2:,} (s)",
            inbox_s,
            "s",
            escalated_2 / before.rates["chiefs.inbox"] if before.rates.get("chiefs.inbox") else float("inf"),
            "1 delivery/transaction",
            f"<= {escalated_2 / CATCH_UP_GOAL_RATE:.1f}",
            inbox_rate >= CATCH_UP_GOAL_RATE,
        ),
        Row(
            f"ledger catch-up, sweep of {escalated_2:,} (s)",
            ledger_s,
            "s",
            escalated_2 / before.rates["assessments.ledger"]
            if before.rates.get("assessments.ledger")
            else float("inf"),
            "1 delivery/transaction",
            "-",
            None,
        ),
        Row("deliveries sent more than once", resent, "", None, "", "0", resent == 0),
    ]


def _then(*parts: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for part in parts:
        yield from part


def make_settings_with_redis(url: str, var_dir: Path, redis_url: str, queue_name: str) -> Settings:
    base = make_settings(url, var_dir)
    return load_settings(
        environ={},
        overrides={
            "paths": {"var_dir": str(var_dir)},
            "database": {"url": url},
            "redis": {"url": redis_url},
            "logging": {"level": "WARNING"},
            "bus": {"queue_name": queue_name},
            "security": {"secret_key": base.security.secret_key, "password_time_cost": 1, "password_memory_kib": 8},
        },
    )


def delete_queues(redis_url: str, queue_name: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"dramatiq:*{queue_name}*"):
            client.delete(key)
    finally:
        client.close()


def _interrupted(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt  # clean up: the processes, the database, the queues


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--full", action="store_true", help="1,000,000 tasks and a sweep of 100,000")
    parser.add_argument("--tasks", type=int, default=None, help="open tasks (default 20,000; --full 1,000,000)")
    parser.add_argument(
        "--sweep", type=int, default=None, help="overdue tasks a sweep escalates (5,000; --full 100,000)"
    )
    parser.add_argument("--villages", type=int, default=None, help="villages (2,000; --full 11,000)")
    parser.add_argument("--reports", type=int, default=30, help="reports on the idle bus")
    parser.add_argument("--report-every", type=float, default=0.2, help="seconds between reports while draining")
    parser.add_argument("--before-seconds", type=float, default=None, help="the one-at-a-time window (10; --full 30)")
    parser.add_argument("--worker-threads", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=900.0, help="give up on a drain after this long")
    parser.add_argument("--divisions", type=Path, default=DEFAULT_DIVISIONS)
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--redis-url", default=os.environ.get("LINZHANG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)
    args.tasks = args.tasks or (1_000_000 if args.full else 20_000)
    args.sweep = args.sweep or (100_000 if args.full else 5_000)
    args.villages = args.villages or (11_000 if args.full else 2_000)
    args.before_seconds = args.before_seconds or (30.0 if args.full else 10.0)
    rows = run(args)
    emit("bus_backlog", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
