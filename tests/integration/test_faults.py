"""Faults on the real services, each run counting what was published, handled, handled twice and lost.

- a worker killed with SIGKILL while 10,000 events drain;
- two schedulers and three workers at once;
- PostgreSQL restarted under load: requests fail cleanly (503 problem documents, nothing written) and
  recover, and nothing is ever half-written.

A test that stops the database runs its own throwaway cluster (``tests/support/pg_cluster.py``), never
the shared server. ``LINZHANG_FAULT_EVENTS`` shrinks the event count for a quick local run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, insert, select, text

from linzhang.bootstrap import Container
from linzhang.bus import SubscriberRegistry, publish
from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.clock import SystemClock
from linzhang.db.migrate import upgrade
from linzhang.domains.tasks.tables import tasks_table, timeline_table
from linzhang.identity import Role
from linzhang.settings import Settings
from tests.conftest import make_settings
from tests.support.bus import SampleRecorded, changes, create_effects_table, delivery_statuses, drain, effect_counts
from tests.support.pg_cluster import Cluster, free_port, throwaway_cluster
from tests.support.worker_process import (
    PROJECT_DIR,
    SUBSCRIBERS,
    build_registry,
    settings_environment,
    worker_process,
)
from tests.support.world import PASSWORD, seeded_world

pytestmark = pytest.mark.redis

EVENTS = int(os.environ.get("LINZHANG_FAULT_EVENTS", "10000"))
PUBLISH_BATCH = 250
REDELIVERY_TIMEOUT_SECONDS = 10.0
SETTLE_SECONDS = 900.0
# Bounds for a heavily loaded two-core machine; a quiet one settles 10,000 events in well under a minute.
READY_SECONDS = 180.0


@dataclass(frozen=True)
class Tally:
    """What a fault run did to the deliveries of the events it published."""

    published: int
    handled: int
    handled_twice: int
    lost: int

    def __str__(self) -> str:
        return (
            f"published {self.published} events, handled {self.handled} deliveries, "
            f"handled twice {self.handled_twice}, lost {self.lost}"
        )


def tally(engine: Engine, events: list[SampleRecorded]) -> Tally:
    counts = effect_counts(engine)
    expected = {(str(event.event_id), subscriber) for event in events for subscriber in SUBSCRIBERS}
    return Tally(
        published=len(events),
        handled=sum(1 for key in expected if counts.get(key, 0) >= 1),
        handled_twice=sum(1 for key, count in counts.items() if count > 1),
        lost=sum(1 for key in expected if counts.get(key, 0) == 0),
    )


def publish_events(container: Container, count: int, prefix: str) -> list[SampleRecorded]:
    """Service-style transactions of ``PUBLISH_BATCH`` changes, each change publishing its event."""
    events: list[SampleRecorded] = []
    for start in range(0, count, PUBLISH_BATCH):
        batch = [SampleRecorded(key=f"{prefix}{i}") for i in range(start, min(count, start + PUBLISH_BATCH))]
        with container.session_factory() as session, session.begin():
            session.execute(insert(changes), [{"key": event.key} for event in batch])
            for event in batch:
                publish(session, event)
        events.extend(batch)
    return events


def done_count(engine: Engine) -> int:
    return delivery_statuses(engine).get("done", 0)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def max_sends(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.max(d.c.sends))).scalar_one() or 0)


@pytest.fixture
def registry() -> SubscriberRegistry:
    return build_registry()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return make_settings(
        settings.database.url,
        settings.var_path,
        bus={"queue_name": settings.bus.queue_name, "redelivery_timeout_seconds": REDELIVERY_TIMEOUT_SECONDS},
    )


@pytest.fixture
def container(container: Container) -> Iterator[Container]:
    create_effects_table(container.engine)
    yield container
    client = container.bus.broker.client  # type: ignore[attr-defined]
    for key in client.scan_iter(match=f"dramatiq:*{container.settings.bus.queue_name}*"):
        client.delete(key)


def test_a_worker_killed_with_sigkill_under_10000_events_loses_nothing_and_applies_nothing_twice(
    container: Container,
) -> None:
    events = publish_events(container, EVENTS, "kill")
    total = len(events) * len(SUBSCRIBERS)
    engine = container.engine

    with (
        worker_process(container.settings, scheduler=True, ready_timeout=READY_SECONDS),
        worker_process(container.settings, threads=4, ready_timeout=READY_SECONDS) as victim,
        worker_process(container.settings, threads=4, ready_timeout=READY_SECONDS),
    ):
        wait_for(lambda: done_count(engine) >= total // 5, SETTLE_SECONDS, "a fifth of the deliveries to be done")
        victim.kill()  # SIGKILL: no clean shutdown, unacknowledged messages and open transactions die with it
        victim.wait(timeout=10)
        done_at_kill = done_count(engine)
        assert done_at_kill < total, "the kill must come while deliveries remain"
        wait_for(lambda: done_count(engine) == total, SETTLE_SECONDS, "every delivery to be done after the kill")

    result = tally(engine, events)
    assert result == Tally(published=EVENTS, handled=total, handled_twice=0, lost=0), str(result)
    assert delivery_statuses(engine) == {"done": total}


def test_two_schedulers_and_three_workers_deliver_every_event_once(container: Container) -> None:
    engine = container.engine
    count = max(EVENTS // 2, 1)
    published: list[SampleRecorded] = []
    # No fault here: a redelivery timeout beyond the run leaves the relays as the only senders, so a
    # second send could only come from two schedulers claiming the same delivery.
    settings = make_settings(
        container.settings.database.url,
        container.settings.var_path,
        bus={"queue_name": container.settings.bus.queue_name, "redelivery_timeout_seconds": SETTLE_SECONDS * 2},
    )

    with (
        worker_process(settings, scheduler=True, ready_timeout=READY_SECONDS),
        worker_process(settings, scheduler=True, ready_timeout=READY_SECONDS),
        worker_process(settings, threads=4, ready_timeout=READY_SECONDS),
        worker_process(settings, threads=4, ready_timeout=READY_SECONDS),
        worker_process(settings, threads=4, ready_timeout=READY_SECONDS),
    ):
        # Two producers publish while the schedulers relay and the workers consume.
        producers = [
            threading.Thread(target=lambda p=p: published.extend(publish_events(container, count // 2, p)))
            for p in ("a", "b")
        ]
        for producer in producers:
            producer.start()
        for producer in producers:
            producer.join()
        total = len(published) * len(SUBSCRIBERS)
        wait_for(lambda: done_count(engine) == total, SETTLE_SECONDS, "every delivery to be done")

    result = tally(engine, published)
    assert result == Tally(published=len(published), handled=total, handled_twice=0, lost=0), str(result)
    # Two relays claim with SKIP LOCKED: with no fault, no delivery is ever sent twice.
    assert max_sends(engine) == 1


# -- PostgreSQL restarted under load --------------------------------------------------------------


@dataclass
class Outcome:
    title: str
    status: int
    body: dict[str, object] = field(default_factory=dict)
    retry_after: str | None = None
    at: float = 0.0


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture
def cluster_settings(cluster: Cluster, tmp_path: Path, settings: Settings) -> Settings:
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('CREATE DATABASE "linzhang"'))
    admin.dispose()
    restarted = make_settings(
        cluster.url("linzhang"),
        tmp_path / "cluster-var",
        bus={"queue_name": settings.bus.queue_name},
        security={"secret_key": "a-test-secret-key-that-is-long-enough-0123"},
    )
    from linzhang.db import create_db_engine

    engine = create_db_engine(restarted)
    upgrade(engine)
    engine.dispose()
    return restarted


@pytest.fixture
def server(cluster_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """``linzhang serve`` in a process of its own over the throwaway cluster; its base URL."""
    port = free_port()
    environment = settings_environment(cluster_settings)
    environment.update(
        LINZHANG_SECRET_KEY=cluster_settings.security.secret_key,
        LINZHANG_SECURITY_PASSWORD_TIME_COST="1",
        LINZHANG_SECURITY_PASSWORD_MEMORY_KIB="8",
    )
    command = [str(Path(sys.executable).parent / "linzhang"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the server ended ({process.returncode}): {log_path.read_text()[-3000:]}")
        return _answers(f"{base}/healthz")

    try:
        wait_for(answers, READY_SECONDS, "the server to answer")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_postgresql_restarted_under_load_fails_cleanly_recovers_and_writes_nothing_by_halves(
    cluster: Cluster, cluster_settings: Settings, server: str
) -> None:
    accounts = {"admin": (Role.ADMIN, None), "city": (Role.CHIEF, "50")}
    with seeded_world(cluster_settings, SubscriberRegistry(), SystemClock(), accounts) as world:
        token = httpx.post(
            f"{server}/api/v1/auth/token", json={"username": "city", "password": PASSWORD}, timeout=10
        ).json()["access_token"]
        due = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()
        outcomes: list[Outcome] = []
        stop = threading.Event()
        restarted_at: list[float] = []

        def load(worker: int) -> None:
            with httpx.Client(base_url=server, headers={"authorization": f"Bearer {token}"}, timeout=30) as client:
                i = 0
                while not stop.is_set():
                    title = f"巡查任务 {worker}-{i}"
                    i += 1
                    body = {"title": title, "kind": "order", "jurisdiction_code": "500101", "due_date": due}
                    try:
                        response = client.post("/api/v1/tasks", json=body)
                    except httpx.HTTPError as exc:  # the server itself must never drop a request
                        outcomes.append(Outcome(title, -1, {"error": repr(exc)}, at=time.monotonic()))
                        continue
                    outcomes.append(
                        Outcome(
                            title,
                            response.status_code,
                            response.json() if response.content else {},
                            response.headers.get("retry-after"),
                            time.monotonic(),
                        )
                    )
                    if response.status_code != 201:
                        time.sleep(0.05)

        threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: sum(o.status == 201 for o in outcomes) >= 20, 60, "load before the restart")
            cluster.stop("fast")
            outage_started = time.monotonic()
            wait_for(
                lambda: any(o.status != 201 and o.at > outage_started for o in outcomes), 30, "requests in the outage"
            )
            cluster.start()
            restarted_at.append(time.monotonic())
            wait_for(
                lambda: sum(o.status == 201 and o.at > restarted_at[0] for o in outcomes) >= 40,
                60,
                "requests to succeed again after the restart",
            )
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)

        failed = [o for o in outcomes if o.status != 201]
        assert failed, "no request met the outage"
        for outcome in failed:
            assert outcome.status == 503, f"{outcome.title}: {outcome.status} {outcome.body}"
            assert outcome.body.get("code") in {"database_unavailable", "database_busy"}, outcome.body
            assert outcome.retry_after is not None
            assert int(outcome.retry_after) > 0

        created = {o.title for o in outcomes if o.status == 201}
        refused = {o.title for o in failed}
        with world.engine.connect() as connection:
            stored = dict(connection.execute(select(tasks_table.c.title, tasks_table.c.id)).all())
            timeline = dict(
                connection.execute(
                    select(timeline_table.c.task_id, func.count()).group_by(timeline_table.c.task_id)
                ).all()
            )
            created_events = [
                json.loads(payload)["task"]["task_id"]
                for payload in connection.execute(
                    select(e.c.payload).where(e.c.event_type.like("%TaskCreated%"))
                ).scalars()
            ]
        # Every answered creation is there; anything else stored is a request whose answer was lost.
        assert created <= set(stored)
        assert set(stored) - created <= refused
        # Nothing by halves: each stored task has its timeline and exactly one creation event.
        assert sorted(created_events) == sorted(stored.values())
        assert all(timeline.get(task_id, 0) >= 1 for task_id in stored.values())

        drain(world, timeout=120)
        assert set(delivery_statuses(world.engine)) == {"done"}
