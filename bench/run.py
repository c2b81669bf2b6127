"""``make bench``: every benchmark at a quick size (or its full size with ``--full``), then one table.

Each benchmark runs as a process of its own and ends with ``BENCH-RESULT`` lines (``bench/results.py``):
a figure, the baseline measured in the same run, the goal and whether it is met. Their own output goes
to a log file under ``--log-dir`` (named in the table's footer); a benchmark that fails is named too.

    .venv/bin/python bench/run.py                  # quick sizes, a few minutes on 2 cores
    .venv/bin/python bench/run.py --full           # the sizes of the goals (most of an hour)
    .venv/bin/python bench/run.py --only bus_throughput bus_backlog
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import MARK, Row, table

HERE = Path(__file__).resolve().parent

# Each benchmark's arguments at the quick size and at the full size (the sizes its goals are stated at).
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "bus_throughput": (["--events", "5000"], ["--events", "20000"]),
    "bus_backlog": ([], ["--full"]),
    "hierarchy": (
        ["--backend", "postgresql", "--villages", "2000", "--chiefs", "4000", "--repeat", "20", "--appointments", "50"],
        [],
    ),
    "tasks": (
        ["--backend", "postgresql", "--tasks", "100000", "--compare-tasks", "0", "--reports", "20", "--repeat", "20"],
        ["--backend", "postgresql"],
    ),
    "escalation": (
        ["--tasks", "100000", "--overdue", "10000", "--orm-sample", "1000", "--wrk-duration", "5", "--no-explain"],
        [],
    ),
    "assessment": (
        ["--backend", "postgresql", "--events", "100000", "--repeat", "1", "--read-repeat", "5"],
        ["--backend", "postgresql"],
    ),
    "patrols": (["--backend", "postgresql", "--rangers", "200"], ["--backend", "postgresql", "--full"]),
}


def run_one(name: str, args: list[str], log_dir: Path, redis_url: str) -> tuple[list[Row], str | None, float]:
    """Run one benchmark; its rows, an error (or None) and its wall time."""
    log_path = log_dir / f"{name}.log"
    command = [sys.executable, "-u", str(HERE / f"{name}.py"), *args]
    if name.startswith("bus_"):
        command += ["--redis-url", redis_url]
    started = time.perf_counter()
    with log_path.open("w") as log:
        process = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, text=True, check=False)
    log_path.write_text(log_path.read_text() + process.stdout)
    rows = []
    for line in process.stdout.splitlines():
        if line.startswith(MARK):
            found = json.loads(line[len(MARK) :])
            found.pop("bench")
            rows.append(Row(**found))
    error = None if process.returncode == 0 else f"exit {process.returncode}"
    if not rows and error is None:
        error = "printed no result"
    return rows, error, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--full", action="store_true", help="the full sizes, those the goals are stated at")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="these benchmarks only")
    parser.add_argument("--log-dir", type=Path, default=None, help="where each benchmark's output goes")
    parser.add_argument("--redis-url", default=os.environ.get("LINZHANG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args(argv)
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="linzhang-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    collected: list[tuple[str, Row]] = []
    failures: list[str] = []
    load = os.getloadavg()[0]
    for name, (quick, full) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"{name} ...", end=" ", flush=True)
        rows, error, seconds = run_one(name, full if args.full else quick, log_dir, args.redis_url)
        print(f"{seconds:.0f} s" + (f" - FAILED ({error})" if error else ""), flush=True)
        collected += [(name, row) for row in rows]
        if error:
            failures.append(name)
    print()
    print(table(collected))
    print()
    print(
        f"{'full' if args.full else 'quick'} sizes; load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end (figures compare only between quiet runs); logs in {log_dir}"
    )
    if failures:
        print(f"failed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
