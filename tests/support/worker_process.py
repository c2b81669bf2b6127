"""A bus worker in a process of its own, for tests that need a real worker process (and may kill it).

Run it from the project folder::

    python -m tests.support.worker_process --threads 4 [--prefetch 8] [--slow 0.3] [--slow-commit 0.2]
    python -m tests.support.worker_process --scheduler

With ``--scheduler`` it runs what ``linzhang scheduler`` runs (relay, redelivery, periodic jobs) instead
of worker threads.

Settings come from the environment like any ``linzhang`` process (``LINZHANG_DATABASE_URL``,
``LINZHANG_REDIS_URL``, ``LINZHANG_BUS_QUEUE_NAME``, ...). The subscribers are the test ones of
:mod:`tests.support.bus`. The process prints ``ready`` on stdout once its worker threads consume, and
stops on SIGTERM or SIGINT, or when the process that started it is gone.

Tests start it with :func:`worker_process`, which always ends it.
"""

from __future__ import annotations

import argparse
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url

from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.container import Container
from linzhang.log import configure_logging
from linzhang.settings import Settings, load_settings
from tests.support.bus import SampleRecorded, recording_handler, slow_handler

PROJECT_DIR = Path(__file__).resolve().parents[2]
SUBSCRIBERS = ("test.first", "test.second")
READY = "ready"
APPLICATION_NAME = "linzhang-test-worker"


def build_registry(slow_seconds: float = 0.0) -> SubscriberRegistry:
    """The test subscribers; with ``slow_seconds`` each handler takes that long after writing its effect."""
    registry = SubscriberRegistry()
    for subscriber in SUBSCRIBERS:
        handler = slow_handler(subscriber, slow_seconds) if slow_seconds > 0 else recording_handler(subscriber)
        registry.subscribe(subscriber, SampleRecorded, handler)
    return registry


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment that makes a process load ``settings``' database, broker, queue and bus timings."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LINZHANG_")}
    bus = settings.bus
    database_url = make_url(settings.database.url)
    if database_url.get_backend_name() == "postgresql":
        # Its connections are told apart in pg_stat_activity by this name.
        database_url = database_url.update_query_dict({"application_name": APPLICATION_NAME})
    environment.update(
        LINZHANG_DATABASE_URL=database_url.render_as_string(hide_password=False),
        LINZHANG_REDIS_URL=settings.redis.url,
        LINZHANG_PATHS_VAR_DIR=settings.paths.var_dir,
        LINZHANG_LOGGING_LEVEL=settings.logging.level,
        LINZHANG_BUS_QUEUE_NAME=bus.queue_name,
        LINZHANG_BUS_REDELIVERY_TIMEOUT_SECONDS=str(bus.redelivery_timeout_seconds),
        LINZHANG_BUS_MAX_ATTEMPTS=str(bus.max_attempts),
        LINZHANG_BUS_RETRY_BACKOFF_SECONDS=str(bus.retry_backoff_seconds),
    )
    return environment


@contextmanager
def worker_process(
    settings: Settings,
    threads: int = 4,
    slow_seconds: float = 0.0,
    slow_commit_seconds: float = 0.0,
    prefetch: int | None = None,
    ready_timeout: float = 15.0,
    scheduler: bool = False,
) -> Iterator[subprocess.Popen[str]]:
    """Start a worker process for ``settings`` and wait until it is ready; end it on leaving, whatever happens.

    ``scheduler``: the process relays and resends instead of consuming (a ``linzhang scheduler``).

    Leaving normally asks it to stop (SIGTERM) and waits a bounded time; a process that is still alive
    after that, or when the block raised, is killed.
    """
    command = [sys.executable, "-m", "tests.support.worker_process", "--threads", str(threads)]
    if slow_seconds > 0:
        command += ["--slow", str(slow_seconds)]
    if slow_commit_seconds > 0:
        command += ["--slow-commit", str(slow_commit_seconds)]
    if prefetch is not None:
        command += ["--prefetch", str(prefetch)]
    if scheduler:
        command.append("--scheduler")
    process = subprocess.Popen(
        command, cwd=PROJECT_DIR, env=settings_environment(settings), stdout=subprocess.PIPE, text=True
    )
    try:
        _wait_until_ready(process, ready_timeout)
        yield process
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_ready(process: subprocess.Popen[str], timeout: float) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"the worker process did not get ready within {timeout} s")
            if selector.select(remaining):
                line = process.stdout.readline()
                if line.strip() == READY:
                    return
                if not line:
                    raise AssertionError(f"the worker process ended before it was ready (exit {process.wait()})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--threads", type=int, default=4, help="worker threads")
    parser.add_argument("--prefetch", type=int, default=None, help="messages fetched ahead (default: the bus's)")
    parser.add_argument("--slow", type=float, default=0.0, help="seconds each handler takes after its write")
    parser.add_argument("--slow-commit", type=float, default=0.0, help="seconds every session commit takes")
    parser.add_argument("--scheduler", action="store_true", help="relay and resend instead of consuming")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    parent = os.getppid()

    settings = load_settings()
    configure_logging(settings.logging)
    container = bootstrap(settings, registry=build_registry(args.slow))
    if args.slow_commit > 0:
        # A slow database commit: whatever the consumer commits, it commits that much later.
        event.listen(container.session_factory, "before_commit", lambda _session: time.sleep(args.slow_commit))
    try:
        if args.scheduler:
            return _run_scheduler(container, stop, parent)
        worker = container.bus.start_worker(args.threads, args.prefetch)
        try:
            print(READY, flush=True)
            # An orphan (the test process died without ending it) stops by itself.
            while not stop.wait(0.2) and os.getppid() == parent:
                pass
        finally:
            worker.stop(timeout=10_000)
    finally:
        container.close()
    return 0


def _run_scheduler(container: Container, stop: threading.Event, parent: int) -> int:
    loop = threading.Thread(target=container.bus.run_scheduler, args=(stop,), name="scheduler", daemon=True)
    loop.start()
    print(READY, flush=True)
    while not stop.wait(0.2) and os.getppid() == parent:
        pass
    stop.set()
    container.bus.wake()
    loop.join(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
