"""Events per second through the whole bus path, next to a bare Dramatiq actor on the same Redis.

The whole path, with every part in an OS process of its own as in a deployment:

* producers (``--producers``): service-style transactions, each changes a row (``bench_accounts``) and
  publishes one event into the outbox, then commits;
* a scheduler: the relay loop of ``linzhang scheduler`` (``Bus.run_scheduler``) sends pending deliveries
  to Redis and marks them sent, and runs redelivery;
* a worker (``--worker-threads``): the Dramatiq worker of ``linzhang worker``; the idempotent consumer
  does the subscriber's small write (``bench_effects``) and marks the delivery done in one transaction.

The clock runs from the producers' start until the last delivery is done; only done deliveries count.
At the end the run is checked for exactly-once: one event per transaction, every delivery done, one
effect per event (``bench_effects`` has no unique constraint, a duplicate would show), and the account
counters add up to the number of events.

The baseline, in the same run: a no-op Dramatiq actor with the default middleware on the same Redis,
in a worker process configured as the bus's (threads, prefetch). The benchmark process enqueues
``--bare-messages`` messages one by one; the clock runs until every message is acknowledged.

Both print the CPU time per event of every part (our processes, PostgreSQL, Redis, the rest of the
machine) and the rate the machine's CPUs would allow at that cost: the rates are only comparable
between runs on a quiet machine, the CPU per event is steadier.

It needs PostgreSQL and Redis (the services of the PostgreSQL test pass). It creates a throw-away
database on ``--pg-url``'s server and drops it afterwards, and uses queues of its own on
``--redis-url`` (database 14 by default), whose keys it deletes afterwards. Run it from the project
folder (bench/README.md has more)::

    .venv/bin/python bench/bus_throughput.py
    .venv/bin/python bench/bus_throughput.py --events 50000 --producers 3 --worker-threads 16
    .venv/bin/python bench/bus_throughput.py --bus relay_batch_size=1000 --json

It prints both rates and their ratio; the exit status is 1 if the exactly-once check fails (and, with
``--check-goal``, if the goal - ``--goal-rate`` events/s and ``--goal-ratio`` of the bare rate - is missed).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from results import Row, emit
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry, publish
from linzhang.bus.tables import deliveries_table, events_table
from linzhang.bus.worker import PREFETCH_PER_THREAD, new_worker, worker_prefetch
from linzhang.contracts import Event
from linzhang.db import create_db_engine
from linzhang.db.migrate import upgrade
from linzhang.log import configure_logging
from linzhang.settings import Settings, load_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
READY = "ready"
ACCOUNTS = 1000
SUBSCRIBER = "bench.effects"
BARE_ACTOR = "bench_noop"

bench_metadata = MetaData()
# The producing service's state: each transaction bumps one counter.
accounts = Table(
    "bench_accounts",
    bench_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("counter", BigInteger, nullable=False),
)
# The subscriber's small write. No unique constraint: a duplicate effect must show, not be refused.
effects = Table(
    "bench_effects",
    bench_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("account_id", Integer, nullable=False),
)

_BUMP = update(accounts).where(accounts.c.id == bindparam("account")).values(counter=accounts.c.counter + 1)
_RECORD = insert(effects)


class BenchCounted(Event, frozen=True):
    """A counter was bumped."""

    account_id: int
    n: int


def record_effect(session: Session, event: Event) -> None:
    assert isinstance(event, BenchCounted)
    session.execute(_RECORD, {"event_id": str(event.event_id), "account_id": event.account_id})


def record_effects(session: Session, events: Sequence[Event]) -> None:
    """The batch form: every event's effect in one statement."""
    rows = []
    for event in events:
        assert isinstance(event, BenchCounted)
        rows.append({"event_id": str(event.event_id), "account_id": event.account_id})
    session.execute(_RECORD, rows)


def bench_registry() -> SubscriberRegistry:
    registry = SubscriberRegistry()
    registry.subscribe(SUBSCRIBER, BenchCounted, record_effect)
    if os.environ.get("BENCH_NO_BATCHES") != "1":
        registry.subscribe_batch(SUBSCRIBER, record_effects)
    return registry


# -- the child processes -------------------------------------------------------------------------------


def _stop_on_signal() -> threading.Event:
    stop = threading.Event()

    def _handle(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    return stop


def _say(line: str) -> None:
    print(line, flush=True)


def run_producer(count: int, first: int) -> None:
    """``count`` transactions, each bumping a counter and publishing its event; starts on "go" (stdin)."""
    settings = load_settings()
    configure_logging(settings.logging)
    container = bootstrap(settings, registry=bench_registry())
    try:
        with container.session_factory() as session:  # connect before the clock starts
            session.execute(text("SELECT 1"))
        _say(READY)
        if sys.stdin.readline().strip() != "go":
            return
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(first, first + count):
            account = n % ACCOUNTS + 1
            with container.session_factory() as session, session.begin():
                session.execute(_BUMP, {"account": account})
                publish(session, BenchCounted(account_id=account, n=n))
        _say(
            json.dumps({"committed": count, "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu})
        )
    finally:
        container.close()


def run_scheduler() -> None:
    """The loop ``linzhang scheduler`` runs: relay, redelivery."""
    stop = _stop_on_signal()
    settings = load_settings()
    configure_logging(settings.logging)
    container = bootstrap(settings, registry=bench_registry())
    try:
        _say(READY)
        container.bus.run_scheduler(stop)
    finally:
        container.close()


def run_worker(threads: int, prefetch: int | None) -> None:
    """What ``linzhang worker`` runs, with the benchmark's subscriber registered."""
    stop = _stop_on_signal()
    settings = load_settings()
    configure_logging(settings.logging)
    container = bootstrap(settings, registry=bench_registry())
    try:
        worker = container.bus.start_worker(threads, prefetch)
        _say(READY)
        stop.wait()
        worker.stop(timeout=10_000)
    finally:
        container.close()


_bare_calls = itertools.count()


def bench_noop(_n: int) -> None:
    next(_bare_calls)


def bare_broker(redis_url: str, queue_name: str) -> tuple[RedisBroker, dramatiq.Actor[[int], None]]:
    """Dramatiq as it comes: the default middleware and one actor that does nothing."""
    broker = RedisBroker(url=redis_url)  # type: ignore[no-untyped-call]
    actor: dramatiq.Actor[[int], None] = dramatiq.Actor(
        bench_noop, broker=broker, actor_name=BARE_ACTOR, queue_name=queue_name, priority=0, options={}
    )
    return broker, actor


def run_bare_worker(redis_url: str, queue_name: str, threads: int, prefetch: int | None) -> None:
    stop = _stop_on_signal()
    broker, _actor = bare_broker(redis_url, queue_name)
    # Configured as the bus's worker is (``Bus.start_worker``): threads, prefetch, idle wake-up.
    worker = new_worker(broker, threads, prefetch)
    worker.start()
    _say(READY)
    stop.wait()
    worker.stop(timeout=10_000)
    _say(json.dumps({"processed": next(_bare_calls)}))
    broker.close()


# -- the benchmark ---------------------------------------------------------------------------------------


@dataclass
class Figures:
    events: int
    producers: int
    worker_threads: int
    cpus: int
    whole_path_seconds: float
    whole_path_rate: float
    producers_rate: float
    bare_messages: int
    bare_seconds: float
    bare_rate: float
    bare_enqueue_rate: float
    ratio: float
    exactly_once: bool
    resent_deliveries: int
    goal_met: bool
    prefetch: int
    whole_path_cpu_us_per_event: dict[str, float]
    whole_path_cpu_ceiling: float
    bare_cpu_us_per_message: dict[str, float]
    bare_cpu_ceiling: float


def machine_cpu() -> tuple[float, float]:
    """Busy and total CPU seconds of the machine so far (Linux; zeros elsewhere)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a running process used so far (Linux; zero elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def all_processes() -> dict[int, tuple[str, float]]:
    """Every process's command line and CPU seconds so far (Linux; empty elsewhere)."""
    found: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                if not command:  # a kernel thread
                    command = "[" + (entry / "comm").read_text().strip() + "]"
            except OSError:
                continue
            found[int(entry.name)] = (command, process_cpu(int(entry.name)))
    return found


def server_of(command: str, database: str) -> str | None:
    """``PostgreSQL`` for the server's own processes and the backends of ``database``, ``Redis``, else None."""
    if command.startswith("redis-server"):
        return "Redis"
    if command.startswith("postgres: "):
        words = command.split()
        # A client backend reads "postgres: <cluster>: <user> <database> <host>(<port>) <state>".
        is_backend = len(words) >= 5 and words[4].endswith(")")
        return "PostgreSQL" if not is_backend or words[3] == database else None
    if command.split(" ", 1)[0].endswith("bin/postgres"):
        return "PostgreSQL"
    return None


class CpuMeter:
    """CPU seconds used by each part of a measurement: our processes, PostgreSQL, Redis, everything else."""

    def __init__(
        self,
        children: dict[str, Child],
        database: str = "",
        self_reporting: Sequence[Child] = (),
        own_part: str = "benchmark process",
    ) -> None:
        self.children = children
        # What this process does meanwhile: only watching, or a part of the path measured (``capacity``).
        self.own_part = own_part
        self.database = database
        # Children that report their own CPU time (they may have ended by the time the meter stops).
        self.self_reporting = self_reporting
        self.parts: dict[str, float] = {}
        self.busy_share = 0.0
        self.top_others: list[tuple[str, float]] = []

    def start(self) -> None:
        self._machine = machine_cpu()
        self._own = time.process_time()
        self._processes = all_processes()

    def stop(self, reported: dict[str, float] | None = None) -> None:
        """End the measurement; ``reported`` adds parts that measured themselves (processes that have ended)."""
        ours = {child.process.pid: name for name, child in self.children.items()} | {os.getpid(): ""}
        ours |= {child.process.pid: "" for child in self.self_reporting}
        self.parts = dict.fromkeys(self.children, 0.0)
        self.parts.update(reported or {})
        self.parts[self.own_part] = time.process_time() - self._own
        others: dict[str, float] = {}
        for pid, (command, cpu) in all_processes().items():
            used = cpu - self._processes.get(pid, (command, 0.0))[1]
            if pid in ours:
                if ours[pid]:
                    self.parts[ours[pid]] += used
            elif server := server_of(command, self.database):
                self.parts[server] = self.parts.get(server, 0.0) + used
            elif used > 0:
                others[command[:60]] = others.get(command[:60], 0.0) + used
        busy, total = (after - before for after, before in zip(machine_cpu(), self._machine, strict=True))
        self.parts["others"] = max(0.0, busy - sum(self.parts.values()))
        self.busy_share = busy / total if total > 0 else 0.0
        self.top_others = sorted(others.items(), key=lambda item: -item[1])[:3]

    def per_message(self, count: int) -> str:
        listed = ", ".join(f"{name} {seconds / count * 1e6:,.0f}" for name, seconds in self.parts.items())
        return f"{listed}; machine busy {self.busy_share:.0%}"

    def capacity(self, count: int, cpus: int) -> float:
        """Messages per second the machine's CPUs would allow at this CPU cost, without the benchmark's
        own polling and without other processes: what a quiet machine of this size could reach at best."""
        # The bare measurement's enqueuer is this process and counts; the whole path's poller does not.
        used = sum(seconds for name, seconds in self.parts.items() if name not in ("others", "benchmark process"))
        return cpus * count / used if used > 0 else 0.0

    def interference(self, seconds: float) -> str:
        """The busiest other processes, when they took more than a tenth of a CPU."""
        busy = [(command, used) for command, used in self.top_others if used > 0.1 * seconds]
        return ", ".join(f"{command} {used / seconds:.0%} of a CPU" for command, used in busy)


class Child:
    """A child process speaking line by line on stdout (and stdin for producers)."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        # Its log lines go to a file, shown should the run fail.
        self.log_path = log_dir / f"{name.replace(' ', '-')}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), *args],
                cwd=PROJECT_DIR,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def read_line(self, timeout: float) -> str:
        stdout = self.process.stdout
        assert stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                raise RuntimeError(f"{self.name}: no answer within {timeout} s")
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} ended (exit {self.process.wait()})")
        return line.strip()

    def wait_ready(self, timeout: float = 120.0) -> None:
        if (line := self.read_line(timeout)) != READY:
            raise RuntimeError(f"{self.name}: expected {READY!r}, got {line!r}")

    def cpu(self) -> float:
        return process_cpu(self.process.pid)

    def tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@contextmanager
def children() -> Iterator[list[Child]]:
    """Every child started in the block is ended when it is left, whatever happens."""
    started: list[Child] = []
    try:
        yield started
    except BaseException:
        for child in started:
            if tail := child.log_tail():
                print(f"--- last log lines of the {child.name}:\n{tail}", file=sys.stderr)
        raise
    finally:
        for child in started:
            child.stop(timeout=5)
        for child in started:
            child.close()


@contextmanager
def throwaway_database(pg_url: str) -> Iterator[str]:
    name = f"linzhang_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def delete_queue_keys(redis_url: str, *queue_names: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for queue_name in queue_names:
            for key in client.scan_iter(match=f"dramatiq:*{queue_name}*"):
                client.delete(key)
    finally:
        client.close()


def child_environment(settings: Settings, bus_overrides: dict[str, str]) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LINZHANG_")}
    environment.update(
        LINZHANG_DATABASE_URL=settings.database.url,
        LINZHANG_REDIS_URL=settings.redis.url,
        LINZHANG_PATHS_VAR_DIR=settings.paths.var_dir,
        LINZHANG_LOGGING_LEVEL=settings.logging.level,
        LINZHANG_BUS_QUEUE_NAME=settings.bus.queue_name,
    )
    for key, value in bus_overrides.items():
        environment[f"LINZHANG_BUS_{key.upper()}"] = value
    return environment


def measure_bare(args: argparse.Namespace, queue_name: str, log_dir: Path) -> tuple[float, float, CpuMeter]:
    """Seconds until a worker process has acknowledged ``--bare-messages`` no-op messages, and the enqueue rate."""
    broker, actor = bare_broker(args.redis_url, queue_name)
    messages_key = f"dramatiq:{queue_name}.msgs"
    try:
        with children() as started:
            worker = Child(
                "bare worker",
                ["--role", "bare-worker", "--queue", queue_name, "--redis-url", args.redis_url, *_threads(args)],
                os.environ.copy(),
                log_dir,
            )
            started.append(worker)
            worker.wait_ready()
            meter = CpuMeter({"worker": worker}, own_part="enqueuer (benchmark process)")
            meter.start()
            begin = time.perf_counter()
            for n in range(args.bare_messages):
                actor.send(n)
            enqueued = time.perf_counter() - begin
            deadline = time.monotonic() + args.stall_seconds
            while broker.client.hlen(messages_key):
                if time.monotonic() > deadline:
                    raise RuntimeError("the bare worker stalled")
                time.sleep(0.01)
            seconds = time.perf_counter() - begin
            meter.stop()
            worker.stop()
            processed = json.loads(worker.read_line(5))["processed"]
        if processed != args.bare_messages:
            raise RuntimeError(f"the bare worker processed {processed} of {args.bare_messages} messages")
        return seconds, args.bare_messages / enqueued, meter
    finally:
        broker.close()


def _threads(args: argparse.Namespace) -> list[str]:
    prefetch = ["--prefetch", str(args.prefetch)] if args.prefetch else []
    return ["--worker-threads", str(args.worker_threads), *prefetch]


def done_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(deliveries_table).where(deliveries_table.c.status == "done")
            ).scalar_one()
        )


def measure_whole_path(
    args: argparse.Namespace, settings: Settings, engine: Engine, env: dict[str, str]
) -> tuple[float, float, CpuMeter]:
    """Seconds from the producers' start until every delivery is done, the producers' own rate, CPU used."""
    shares = [
        args.events // args.producers + (1 if i < args.events % args.producers else 0) for i in range(args.producers)
    ]
    with children() as started:
        log_dir = Path(settings.paths.var_dir)
        worker = Child("worker", ["--role", "worker", *_threads(args)], env, log_dir)
        scheduler = Child("scheduler", ["--role", "scheduler"], env, log_dir)
        started += [worker, scheduler]
        producers = []
        first = 0
        for i, share in enumerate(shares):
            producer = Child(
                f"producer {i + 1}",
                ["--role", "producer", "--count", str(share), "--first", str(first)],
                env,
                log_dir,
            )
            first += share
            producers.append(producer)
        started += producers
        for child in started:
            child.wait_ready()

        meter = CpuMeter(
            {"scheduler": scheduler, "worker": worker}, make_url(settings.database.url).database or "", producers
        )
        meter.start()
        begin = time.time()
        for producer in producers:
            producer.tell("go")
        # A light poll finds the end; the last delivery's done time (written in the transaction that did
        # its work, by this machine's clock) says exactly when it was.
        done, progress_at = 0, time.monotonic()
        while done < args.events:
            time.sleep(0.2)
            now_done = done_count(engine)
            if now_done > done:
                done, progress_at = now_done, time.monotonic()
            elif time.monotonic() - progress_at > args.stall_seconds:
                raise RuntimeError(f"no progress for {args.stall_seconds} s at {done} of {args.events} done")
        seconds = last_done_at(engine) - begin
        reports = [json.loads(producer.read_line(30)) for producer in producers]
        meter.stop({"producers": sum(report["cpu"] for report in reports)})
    producer_seconds = max(report["seconds"] for report in reports)
    return seconds, args.events / producer_seconds, meter


def last_done_at(engine: Engine) -> float:
    with engine.connect() as connection:
        last: datetime = connection.execute(select(func.max(deliveries_table.c.done_at))).scalar_one()
    return last.timestamp()


def verify(engine: Engine, events: int) -> tuple[bool, int, list[str]]:
    """Exactly-once: every transaction's event, every delivery done, one effect per event, counters add up."""
    problems: list[str] = []
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(events_table)).scalar_one()
        statuses: dict[str, int] = dict(
            connection.execute(
                select(deliveries_table.c.status, func.count()).group_by(deliveries_table.c.status)
            ).all()
        )
        resent = connection.execute(
            select(func.count()).select_from(deliveries_table).where(deliveries_table.c.sends > 1)
        ).scalar_one()
        effect_rows, distinct_events = connection.execute(
            select(func.count(), func.count(effects.c.event_id.distinct()))
        ).one()
        orphans = connection.execute(
            select(func.count())
            .select_from(effects)
            .where(~select(events_table.c.position).where(events_table.c.event_id == effects.c.event_id).exists())
        ).scalar_one()
        counted = connection.execute(select(func.coalesce(func.sum(accounts.c.counter), 0))).scalar_one()
    if stored != events:
        problems.append(f"{stored} events stored for {events} transactions")
    if statuses != {"done": events}:
        problems.append(f"deliveries not all done: {statuses}")
    if effect_rows != events or distinct_events != events or orphans:
        problems.append(f"{effect_rows} effects for {distinct_events} distinct events ({orphans} unknown)")
    if counted != events:
        problems.append(f"account counters add up to {counted}")
    return not problems, int(resent), problems


def prepare_database(settings: Settings) -> Engine:
    engine = create_db_engine(settings)
    upgrade(engine)
    bench_metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(accounts), [{"id": i, "counter": 0} for i in range(1, ACCOUNTS + 1)])
    return engine


def server_versions(engine: Engine, redis_url: str) -> str:
    import redis

    with engine.connect() as connection:
        pg = connection.execute(text("SHOW server_version")).scalar_one()
    client = redis.Redis.from_url(redis_url)
    try:
        redis_version = client.info("server")["redis_version"]
    finally:
        client.close()
    return f"PostgreSQL {pg}, Redis {redis_version}, Python {platform.python_version()}"


def run_benchmark(args: argparse.Namespace) -> int:
    bus_overrides = dict(_parse_assignment(item) for item in args.bus)
    suffix = uuid.uuid4().hex[:8]
    queue_name, bare_queue = f"linzhang-bench-{suffix}", f"bench-bare-{suffix}"
    cpus = os.cpu_count() or 1
    with ExitStack() as stack:
        database_url = stack.enter_context(throwaway_database(args.pg_url))
        stack.callback(delete_queue_keys, args.redis_url, queue_name, bare_queue)
        var_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="linzhang-bench-"))
        settings = load_settings(
            environ={},
            overrides={
                "database": {"url": database_url},
                "redis": {"url": args.redis_url},
                "paths": {"var_dir": var_dir},
                "logging": {"level": args.log_level},
                "bus": {"queue_name": queue_name, **bus_overrides},
            },
        )
        engine = prepare_database(settings)
        stack.callback(engine.dispose)
        env = child_environment(settings, bus_overrides)
        print(
            f"bus throughput: {args.events} events, {args.producers} producer processes, 1 scheduler process, "
            f"1 worker process x {args.worker_threads} threads (prefetch {args.prefetch or worker_prefetch(args.worker_threads)}); "
            f"{cpus} CPUs; {server_versions(engine, args.redis_url)}",
            flush=True,
        )

        busy_before, total_before = machine_cpu()
        time.sleep(1.0)
        busy_after, total_after = machine_cpu()
        if (
            total_after > total_before
            and (idle_busy := (busy_after - busy_before) / (total_after - total_before)) > 0.15
        ):
            print(f"  warning: the machine was {idle_busy:.0%} busy before the run; the figures will be low")

        bare_seconds, bare_enqueue_rate, bare_cpu = measure_bare(args, bare_queue, Path(var_dir))
        bare_rate = args.bare_messages / bare_seconds
        print(
            f"  bare Dramatiq no-op actor: {args.bare_messages} messages in {bare_seconds:.2f} s = "
            f"{bare_rate:,.0f} messages/s (enqueueing alone: {bare_enqueue_rate:,.0f}/s)",
            flush=True,
        )
        print(f"    CPU microseconds per message: {bare_cpu.per_message(args.bare_messages)}")
        print(
            f"    CPU-bound ceiling on {cpus} CPUs at that cost: {bare_cpu.capacity(args.bare_messages, cpus):,.0f}/s"
        )
        if busy_others := bare_cpu.interference(bare_seconds):
            print(f"    warning: other processes were busy: {busy_others}")

        seconds, producers_rate, cpu = measure_whole_path(args, settings, engine, env)
        rate = args.events / seconds
        print(
            f"  whole path: {args.events} events done in {seconds:.2f} s = {rate:,.0f} events/s "
            f"(producers committed {producers_rate:,.0f} events/s)",
            flush=True,
        )
        print(f"    CPU microseconds per event: {cpu.per_message(args.events)}")
        print(f"    CPU-bound ceiling on {cpus} CPUs at that cost: {cpu.capacity(args.events, cpus):,.0f}/s")
        if busy_others := cpu.interference(seconds):
            print(f"    warning: other processes were busy: {busy_others}")

        exactly_once, resent, problems = verify(engine, args.events)
        ratio = rate / bare_rate
        goal_met = rate >= args.goal_rate and ratio >= args.goal_ratio
        print(f"  ratio whole path / bare actor: {ratio:.2f}")
        if exactly_once:
            print(
                f"  exactly once: {args.events} events, {args.events} deliveries done, {args.events} effects, "
                f"counters add up; {resent} deliveries were resent"
            )
        else:
            print("  EXACTLY-ONCE CHECK FAILED: " + "; ".join(problems))
        print(
            f"  goal (>= {args.goal_rate:,.0f} events/s and >= {args.goal_ratio:.2f} x bare): "
            + ("met" if goal_met else "NOT met")
        )
        if args.json:
            figures = Figures(
                events=args.events,
                producers=args.producers,
                worker_threads=args.worker_threads,
                cpus=cpus,
                whole_path_seconds=seconds,
                whole_path_rate=rate,
                producers_rate=producers_rate,
                bare_messages=args.bare_messages,
                bare_seconds=bare_seconds,
                bare_rate=bare_rate,
                bare_enqueue_rate=bare_enqueue_rate,
                ratio=ratio,
                exactly_once=exactly_once,
                resent_deliveries=resent,
                goal_met=goal_met,
                prefetch=args.prefetch or worker_prefetch(args.worker_threads),
                whole_path_cpu_us_per_event={name: used / args.events * 1e6 for name, used in cpu.parts.items()},
                whole_path_cpu_ceiling=cpu.capacity(args.events, cpus),
                bare_cpu_us_per_message={
                    name: used / args.bare_messages * 1e6 for name, used in bare_cpu.parts.items()
                },
                bare_cpu_ceiling=bare_cpu.capacity(args.bare_messages, cpus),
            )
            print(json.dumps(asdict(figures)))
        emit(
            "bus_throughput",
            [
                Row(
                    f"whole bus path, {args.events:,} events",
                    rate,
                    "events/s",
                    bare_rate,
                    "msg/s bare actor",
                    f">= {args.goal_rate:,.0f} and >= {args.goal_ratio:.2f} x bare",
                    goal_met,
                ),
                Row(
                    "whole path / bare actor",
                    ratio,
                    "x",
                    None,
                    "",
                    f">= {args.goal_ratio:.2f}",
                    ratio >= args.goal_ratio,
                ),
                Row(
                    "exactly once (events, deliveries, effects)",
                    args.events,
                    "events",
                    None,
                    "",
                    "all once",
                    exactly_once,
                ),
            ],
        )
    if not exactly_once:
        return 1
    return 1 if args.check_goal and not goal_met else 0


def _parse_assignment(item: str) -> tuple[str, str]:
    key, separator, value = item.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {item!r}")
    return key.strip(), value.strip()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Events per second through the whole bus path, next to a bare Dramatiq actor.",
        epilog="See the module docstring or bench/README.md for what is measured.",
    )
    parser.add_argument("--events", type=int, default=20_000, help="events through the whole path (default 20000)")
    parser.add_argument("--producers", type=int, default=2, help="producer processes (default 2)")
    parser.add_argument("--worker-threads", type=int, default=8, help="threads of the worker process (default 8)")
    parser.add_argument(
        "--prefetch",
        type=int,
        default=None,
        help=f"messages a worker fetches ahead, the bus's and the bare one (default {PREFETCH_PER_THREAD} per thread)",
    )
    parser.add_argument(
        "--bare-messages", type=int, default=None, help="messages for the bare actor (default --events)"
    )
    parser.add_argument(
        "--bus",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a [bus] setting for every process, e.g. relay_batch_size=1000 (repeatable)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "LINZHANG_BENCH_PG_URL",
            os.environ.get("LINZHANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        ),
        help="admin connection; the throw-away database is created on its server",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="Redis for both measurements")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--stall-seconds", type=float, default=30.0, help="give up after this long without progress")
    parser.add_argument("--goal-rate", type=float, default=1500.0, help="events/s the whole path should reach")
    parser.add_argument("--goal-ratio", type=float, default=0.5, help="share of the bare rate it should reach")
    parser.add_argument("--check-goal", action="store_true", help="exit with 1 when the goal is not met")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    # The roles of the child processes.
    parser.add_argument(
        "--role",
        choices=["main", "producer", "scheduler", "worker", "bare-worker"],
        default="main",
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--queue", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_messages is None:
        args.bare_messages = args.events
    if min(args.events, args.producers, args.worker_threads, args.bare_messages) < 1:
        parser.error("--events, --producers, --worker-threads and --bare-messages must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.role == "producer":
        run_producer(args.count, args.first)
    elif args.role == "scheduler":
        run_scheduler()
    elif args.role == "worker":
        run_worker(args.worker_threads, args.prefetch)
    elif args.role == "bare-worker":
        run_bare_worker(args.redis_url, args.queue, args.worker_threads, args.prefetch)
    else:
        return run_benchmark(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
