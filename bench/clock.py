"""What honest time costs: reading the test clock, and marking deadlines provisional.

Prints, for each backend it can reach:

* ``SystemClock.now()`` against ``TestClock.now()`` (one primary-key read on a pooled connection), the
  price a training instance pays per read of "now" (a request reads it a few times);
* the official calendar's lookup: chinese-calendar's own ``is_workday`` recomputes its year range on
  every call; ``official_workday`` checks the range once per process;
* ``WorkCalendar.is_provisional`` per deadline (twice per task view and inbox item), beside
  ``add_workdays(today, 20)``, which every sweep and due-soon flag already pays, with the office's
  entries kept in memory between refreshes.

    .venv/bin/python bench/clock.py                       # SQLite in a temporary folder
    .venv/bin/python bench/clock.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chinese_calendar import is_workday  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from linzhang.clock import SystemClock, TestClock  # noqa: E402
from linzhang.db import create_db_engine  # noqa: E402
from linzhang.db.migrate import upgrade  # noqa: E402
from linzhang.settings import load_settings  # noqa: E402
from linzhang.workdays import entries_in, load_calendar, official_workday  # noqa: E402


def per_call_us(run: Callable[[], object], calls: int, rounds: int = 5) -> tuple[float, float]:
    """Median and best of ``rounds`` rounds, in microseconds per call."""
    results = []
    for _ in range(rounds):
        begun = time.perf_counter()
        for _ in range(calls):
            run()
        results.append((time.perf_counter() - begun) / calls * 1e6)
    return statistics.median(results), min(results)


def measure(label: str, url: str, calls: int) -> None:
    settings = load_settings(environ={}, overrides={"database": {"url": url}, "paths": {"var_dir": "/nonexistent"}})
    engine = create_db_engine(settings)
    try:
        upgrade(engine)
        clock = TestClock(engine)
        clock.start()
        kept = settings.clock.test_clock_refresh_seconds
        cached = TestClock(engine, refresh_seconds=kept)
        calendar = load_calendar(settings.config_path / "calendar.toml", entries=entries_in(engine))
        today = dt.date(2026, 12, 1)
        deadline = dt.date(2027, 2, 8)
        print(f"{label} ({calls} calls per round, median / best of 5 rounds, microseconds per call)")
        rows = [
            ("SystemClock.now()", per_call_us(SystemClock().now, calls)),
            ("TestClock.now()  (one read of platform_test_clock)", per_call_us(clock.now, calls)),
            (f"TestClock.now()  (a read kept {kept:g} s, as bootstrap builds it)", per_call_us(cached.now, calls)),
            ("chinese_calendar.is_workday  (the package's own check)", per_call_us(lambda: is_workday(today), calls)),
            (
                "official_workday  (the same rule, range checked once)",
                per_call_us(lambda: official_workday(today), calls),
            ),
            (
                "WorkCalendar.is_provisional(2027-02-08, today)",
                per_call_us(lambda: calendar.is_provisional(deadline, today), calls),
            ),
            ("WorkCalendar.add_workdays(today, 20)", per_call_us(lambda: calendar.add_workdays(today, 20), calls)),
        ]
        for name, (median, best) in rows:
            print(f"  {name:<62} {median:9.2f} {best:9.2f}")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL server (a database of its own)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", f"sqlite:///{Path(folder) / 'clock.db'}", args.calls)
    if args.pg_url:
        name = f"linzhang_bench_clock_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
            measure("PostgreSQL", url, args.calls)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
