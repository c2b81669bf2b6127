"""Benchmark of the jurisdiction tree at Chongqing's size, on SQLite and PostgreSQL.

Builds a tree the size of the real one (1 city, 38 districts and 3 functional zones, ~1,031 townships,
~11,000 villages) and ~20,000 chiefs spread over every level with some coverage gaps, loads the tree
through the real ``import_divisions`` service and the chiefs with bulk inserts, times a few hundred real
``appoint_chief`` calls, then measures the read paths of the jurisdictions and chiefs domains: warm-up
first, then the median and p95 of repeated calls, each call in a session of its own as a request has.
On PostgreSQL it also prints the plans (EXPLAIN ANALYZE) of the coverage, subtree and chief-list queries.

    .venv/bin/python bench/hierarchy.py                      # both backends, full size
    .venv/bin/python bench/hierarchy.py --backend sqlite --villages 2000 --chiefs 4000 --repeat 10

The division file is ``../shared/data/divisions/chongqing-2022.csv`` next to the project when it exists
(``--divisions`` to point elsewhere); without it, synthetic codes of the same shape are generated. The
dataset is fixed by ``--seed``. SQLite runs on a temporary file; PostgreSQL on a database of its own,
created on ``--pg-url``'s server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dataset import (  # noqa: E402
    DEFAULT_DIVISIONS,
    DEFAULT_PG_URL,
    Dataset,
    build_dataset,
    database,
    division_csv,
    load_chiefs,
    make_settings,
    person,
)
from results import Row, emit  # noqa: E402
from sqlalchemy import Engine, event, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from linzhang.bootstrap import Container, bootstrap  # noqa: E402
from linzhang.bus import consume_delivery  # noqa: E402
from linzhang.bus.tables import deliveries_table  # noqa: E402
from linzhang.domains.chiefs import service as chiefs  # noqa: E402
from linzhang.domains.chiefs.model import ChiefRole  # noqa: E402
from linzhang.domains.chiefs.tables import chiefs_table  # noqa: E402
from linzhang.domains.jurisdictions import service as jurisdictions  # noqa: E402
from linzhang.domains.jurisdictions.importer import read_divisions  # noqa: E402
from linzhang.domains.jurisdictions.model import Level  # noqa: E402
from linzhang.domains.jurisdictions.tables import units_table  # noqa: E402
from linzhang.identity.scope import Principal, Role  # noqa: E402
from linzhang.log import configure_logging  # noqa: E402
from linzhang.pagination import Page  # noqa: E402
from linzhang.settings import LoggingSettings  # noqa: E402

SLOW_MS = 50.0
PAGE = 500
GAPS_LIMIT = 1000

# -- timing ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Walk:
    rows: int
    pages: int


@dataclass
class Result:
    label: str
    samples: list[float]  # seconds
    outcome: str
    calls: int = 1  # service calls per sample (the pages of a walk)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000

    @property
    def min_ms(self) -> float:
        return min(self.samples) * 1000

    @property
    def max_ms(self) -> float:
        return max(self.samples) * 1000

    @property
    def slow(self) -> bool:
        return max(self.median_ms, self.p95_ms) / self.calls > SLOW_MS


def describe(value: Any) -> str:
    if isinstance(value, Page):
        return f"{len(value.items)} rows" + (", more" if value.next else "")
    if isinstance(value, list):
        return f"{len(value)} rows"
    if isinstance(value, jurisdictions.Coverage):
        more = "+" if value.gaps_truncated else ""
        return f"{value.covered}/{value.total} covered, {len(value.gaps)}{more} gaps"
    if isinstance(value, Walk):
        return f"{value.rows:,} rows in {value.pages} pages"
    if isinstance(value, jurisdictions.JurisdictionView):
        return f"1 row ({value.level})"
    return str(value)


# The baseline of every read, measured in the same run: a session, the pool checkout and one round trip.
FLOOR: tuple[str, Callable[[Session, int], Any]] = (
    "session + SELECT 1 (the floor)",
    lambda s, i: s.execute(text("SELECT 1")),
)


def result_rows(results: list[Result], backend: str) -> list[Row]:
    """Each read's median beside the floor's, against the 50 ms a page may take."""
    floor = next((result for result in results if result.label == FLOOR[0]), None)
    return [
        Row(
            f"{result.label} [{backend}] median",
            result.median_ms,
            "ms",
            floor.median_ms if floor else None,
            "ms floor",
            f"p95 < {SLOW_MS:.0f} ms",
            result.p95_ms / result.calls < SLOW_MS,
        )
        for result in results
        if result is not floor
    ]


def measure(container: Container, label: str, call: Callable[[Session, int], Any], warmup: int, repeat: int) -> Result:
    """Time ``call`` ``repeat`` times after ``warmup`` untimed runs; each run opens and closes a session."""
    outcome: Any = None
    for i in range(warmup):
        with container.reading() as session:
            outcome = call(session, i)
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        with container.reading() as session:
            outcome = call(session, i)
        samples.append(time.perf_counter() - started)
    result = Result(label, samples, describe(outcome))
    if isinstance(outcome, Walk):
        result.calls = outcome.pages
        result.outcome += f", {result.median_ms / outcome.pages:.2f} ms a page (median)"
    return result


def print_results(results: list[Result]) -> None:
    width = max(len(result.label) for result in results)
    print(f"\n  {'operation':<{width}}  {'median ms':>9}  {'p95 ms':>8}  {'min ms':>8}  {'max ms':>8}  result")
    for r in results:
        flag = f"   <- over {SLOW_MS:.0f} ms a call" if r.slow else ""
        print(
            f"  {r.label:<{width}}  {r.median_ms:9.2f}  {r.p95_ms:8.2f}  {r.min_ms:8.2f}  {r.max_ms:8.2f}  "
            f"{r.outcome}{flag}"
        )


# -- plans -----------------------------------------------------------------------------------------


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) that run on ``engine`` inside the block."""
    statements: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


INDEX_NODE = re.compile(r"(Index Only Scan|Bitmap Index Scan|Index Scan)(?: Backward)?(?: using| on) (\S+)")


def explain(container: Container, label: str, call: Callable[[Session], Any], seen: set[str]) -> None:
    """Print the plan of every statement ``call`` runs (the primary-key lookup of a code only once)."""
    engine = container.engine
    with captured(engine) as statements, container.reading() as session:
        call(session)
    postgres = engine.dialect.name == "postgresql"
    for statement, parameters in statements:
        one_line = " ".join(statement.split())
        if not one_line.upper().startswith("SELECT"):
            continue  # BEGIN on SQLite
        if "WHERE jurisdictions_units.code =" in one_line:  # a code's primary-key lookup
            if "lookup" in seen:
                continue
            seen.add("lookup")
        with engine.connect() as connection:
            if postgres:
                prefix = "EXPLAIN (ANALYZE, BUFFERS) "
                lines = [row[0] for row in connection.exec_driver_sql(prefix + statement, parameters)]
            else:
                prefix = "EXPLAIN QUERY PLAN "
                lines = [f"{row[3]}" for row in connection.exec_driver_sql(prefix + statement, parameters)]
            connection.rollback()
        print(f"\n  [{label}] {one_line}")
        print(f"    parameters: {parameters}")
        if postgres:
            found = sorted({f"{kind} on {index}" for kind, index in INDEX_NODE.findall("\n".join(lines))})
            print(f"    uses an index: {'yes - ' + '; '.join(found) if found else 'NO'}")
        else:
            found = [line for line in lines if "INDEX" in line.upper()]
            print(f"    uses an index: {'yes' if found else 'NO'}")
        for line in lines:
            print(f"    | {line}")


# -- one backend -----------------------------------------------------------------------------------


def check_projection(container: Container) -> int:
    """Units whose active_chiefs differs from the chiefs actually in office there (0 when consistent)."""
    u, c = units_table, chiefs_table
    in_office = select(func.count()).where(c.c.jurisdiction_code == u.c.code, c.c.active.is_(True)).scalar_subquery()
    with container.reading() as session:
        return int(session.execute(select(func.count()).where(u.c.active_chiefs != in_office)).scalar_one())


def run_backend(backend: str, dataset: Dataset, args: argparse.Namespace) -> list[Result]:
    print(f"\n=== {backend} " + "=" * (70 - len(backend)))
    with database(backend, args.pg_url) as (url, var_dir):
        settings = make_settings(url, var_dir)
        container = bootstrap(settings)
        try:
            return _run(container, backend, dataset, args)
        finally:
            container.close()


def _run(container: Container, backend: str, dataset: Dataset, args: argparse.Namespace) -> list[Result]:
    from linzhang.db.migrate import upgrade

    started = time.perf_counter()
    upgrade(container.engine)
    print(f"schema (migrations):          {time.perf_counter() - started:8.2f} s")

    # The tree, through the file reader and the import service, in one transaction as `linzhang` does it.
    text_file = division_csv(dataset)
    started = time.perf_counter()
    rows = list(read_divisions(text_file))
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    with container.transaction() as session:
        report = jurisdictions.import_divisions(session, container.clock, rows)
    imported = time.perf_counter() - started
    print(f"parse division file:          {parsed:8.2f} s  ({len(rows):,} rows)")
    print(
        f"import_divisions + commit:    {imported:8.2f} s  ({report.created:,} created, "
        f"{len(rows) / imported:,.0f} divisions/s)"
    )

    started = time.perf_counter()
    load_chiefs(container, dataset)
    print(f"bulk chiefs + projection:     {time.perf_counter() - started:8.2f} s  ({len(dataset.chiefs):,} chiefs)")
    if backend == "postgresql":
        # What autovacuum does soon after a bulk load: statistics and the visibility map.
        started = time.perf_counter()
        with container.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        print(f"VACUUM ANALYZE:               {time.perf_counter() - started:8.2f} s")

    admin = Principal(user_id=1, username="bench-admin", role=Role.ADMIN, jurisdiction_code=None, path="/")
    rng = random.Random(args.seed + 1)
    villages = dataset.of_level("village") or dataset.of_level("township")
    if args.appointments:
        ctx = container.context(chiefs.ChiefsContext)
        targets = [rng.choice(villages) for _ in range(args.appointments)]
        started = time.perf_counter()
        for node in targets:
            with container.transaction() as session:
                chiefs.appoint_chief(
                    session,
                    admin,
                    ctx,
                    chiefs.Appointment(
                        name=person(rng), post="村委会主任", role=ChiefRole.CHIEF, jurisdiction_code=node.code
                    ),
                )
        took = time.perf_counter() - started
        print(
            f"{f'appoint_chief x{len(targets)}:':<30}{took:8.2f} s  ({len(targets) / took:,.0f} appointments/s, "
            f"{took / len(targets) * 1000:.2f} ms each, one transaction each)"
        )
        # The coverage projection handles the ChiefAppointed events, as a worker would.
        d = deliveries_table
        with container.reading() as session:
            pending = list(session.execute(select(d.c.id).where(d.c.status == "pending").order_by(d.c.id)).scalars())
        started = time.perf_counter()
        for delivery_id in pending:
            consume_delivery(
                container.session_factory, container.registry, container.clock, container.bus.policy, delivery_id
            )
        took = time.perf_counter() - started
        if pending:
            print(f"{f'coverage projection x{len(pending)}:':<30}{took:8.2f} s  ({len(pending) / took:,.0f} events/s)")
    mismatched = check_projection(container)
    print(f"projection consistent:        {'yes' if mismatched == 0 else f'NO, {mismatched} units differ'}")

    # What to read: the district with the largest subtree, its township with the most villages.
    u = units_table
    with container.reading() as session:
        per_level: dict[str, int] = dict(session.execute(select(u.c.level, func.count()).group_by(u.c.level)).all())
        gaps: dict[str, int] = dict(
            session.execute(select(u.c.level, func.count()).where(u.c.active_chiefs == 0).group_by(u.c.level)).all()
        )
        chief_rows: dict[bool, int] = dict(
            session.execute(select(chiefs_table.c.active, func.count()).group_by(chiefs_table.c.active)).all()
        )
    print(
        "units: "
        + ", ".join(
            f"{level.value} {per_level.get(level.value, 0):,} ({gaps.get(level.value, 0):,} without chiefs)"
            for level in Level
        )
    )
    print(f"chiefs: {chief_rows.get(True, 0):,} in office, {chief_rows.get(False, 0):,} with ended terms")
    city = dataset.of_level("city")[0]
    size: dict[str, int] = {}
    for node in dataset.nodes:
        for code in node.path.strip("/").split("/"):
            size[code] = size.get(code, 0) + 1
    district = max(dataset.of_level("district"), key=lambda node: size[node.code])
    township = max(
        (n for n in dataset.of_level("township") if n.parent_code == district.code), key=lambda n: size[n.code]
    )
    print(
        f"district read: {district.code} {district.name} ({size[district.code]:,} units in its subtree); "
        f"township read: {township.code} {township.name} ({size[township.code]:,} units)"
    )
    office = Principal(
        user_id=2, username="bench-district", role=Role.OFFICE, jurisdiction_code=district.code, path=district.path
    )
    lookup = container.lookup_jurisdiction
    sample = [node.code for node in rng.sample(villages, min(len(villages), 200))]

    def walk(session: Session, _i: int) -> Walk:
        pages = rows_seen = 0
        cursor: str | None = None
        while True:
            page = jurisdictions.list_subtree(session, admin, under=city.code, level=None, cursor=cursor, limit=PAGE)
            pages += 1
            rows_seen += len(page.items)
            if page.next is None:
                return Walk(rows_seen, pages)
            cursor = page.next

    def walk_requests(_session: Session, _i: int) -> Walk:
        # Each page in a session of its own, as a client paging through the API would.
        pages = rows_seen = 0
        cursor: str | None = None
        while True:
            with container.reading() as session:
                page = jurisdictions.list_subtree(
                    session, admin, under=city.code, level=None, cursor=cursor, limit=PAGE
                )
            pages += 1
            rows_seen += len(page.items)
            if page.next is None:
                return Walk(rows_seen, pages)
            cursor = page.next

    operations: list[tuple[str, Callable[[Session, int], Any]]] = [
        FLOOR,
        (
            "get_jurisdiction (a village)",
            lambda s, i: jurisdictions.get_jurisdiction(s, admin, sample[i % len(sample)]),
        ),
        ("list_children (city)", lambda s, i: jurisdictions.list_children(s, admin, city.code)),
        ("list_children (district)", lambda s, i: jurisdictions.list_children(s, admin, district.code)),
        (
            "list_subtree city, first 500",
            lambda s, i: jurisdictions.list_subtree(s, admin, under=city.code, level=None, cursor=None, limit=PAGE),
        ),
        (
            "list_subtree district, first 500",
            lambda s, i: jurisdictions.list_subtree(s, admin, under=district.code, level=None, cursor=None, limit=PAGE),
        ),
        (
            "list_subtree district level=village",
            lambda s, i: jurisdictions.list_subtree(
                s, admin, under=district.code, level=Level.VILLAGE, cursor=None, limit=PAGE
            ),
        ),
        ("coverage (city, gaps_limit 1000)", lambda s, i: jurisdictions.coverage(s, admin, city.code, GAPS_LIMIT)),
        ("coverage (district)", lambda s, i: jurisdictions.coverage(s, admin, district.code, GAPS_LIMIT)),
        ("coverage (township)", lambda s, i: jurisdictions.coverage(s, admin, township.code, GAPS_LIMIT)),
        (
            "list_chiefs district subtree (district)",
            lambda s, i: chiefs.list_chiefs(
                s, office, lookup, jurisdiction_code=None, subtree=True, active=None, cursor=None, limit=PAGE
            ),
        ),
        (
            "list_chiefs district subtree (admin)",
            lambda s, i: chiefs.list_chiefs(
                s, admin, lookup, jurisdiction_code=district.code, subtree=True, active=None, cursor=None, limit=PAGE
            ),
        ),
    ]
    if args.gc_freeze:
        # The generated dataset and the load's leftovers stay alive in this process; without this, every
        # full collection the timed calls trigger walks them too and shows up as a 50-150 ms outlier.
        gc.collect()
        gc.freeze()
    try:
        results = [measure(container, label, call, args.warmup, args.repeat) for label, call in operations]
        walks = max(3, args.repeat // 10)
        results.append(measure(container, "walk city subtree (one session)", walk, 1, walks))
        results.append(measure(container, "walk city subtree (session/page)", walk_requests, 1, walks))
    finally:
        gc.unfreeze()
    print_results(results)

    if backend == "postgresql" or args.plans:
        title = "EXPLAIN (ANALYZE, BUFFERS)" if backend == "postgresql" else "EXPLAIN QUERY PLAN"
        print(f"\n  --- {title} ---")
        seen: set[str] = set()
        explain(
            container, "coverage district", lambda s: jurisdictions.coverage(s, admin, district.code, GAPS_LIMIT), seen
        )
        explain(
            container,
            "list_subtree district",
            lambda s: jurisdictions.list_subtree(s, admin, under=district.code, level=None, cursor=None, limit=PAGE),
            seen,
        )
        explain(
            container,
            "list_subtree district level=village",
            lambda s: jurisdictions.list_subtree(
                s, admin, under=district.code, level=Level.VILLAGE, cursor=None, limit=PAGE
            ),
            seen,
        )
        explain(container, "coverage city", lambda s: jurisdictions.coverage(s, admin, city.code, GAPS_LIMIT), seen)
        explain(
            container,
            "list_chiefs district subtree",
            lambda s: chiefs.list_chiefs(
                s, office, lookup, jurisdiction_code=None, subtree=True, active=None, cursor=None, limit=PAGE
            ),
            seen,
        )
    return results


# -- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--villages", type=int, default=11000)
    parser.add_argument("--chiefs", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=100, help="timed runs per operation (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--appointments", type=int, default=300, help="real appoint_chief calls to time")
    parser.add_argument("--divisions", type=Path, default=DEFAULT_DIVISIONS, help="code,name,level,parent_code file")
    parser.add_argument("--synthetic", action="store_true", help="ignore the division file, generate the codes")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a PostgreSQL server to create the database on")
    parser.add_argument("--plans", action="store_true", help="also print SQLite's query plans")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="keep the benchmark's own objects in the garbage collector's reach while timing",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.villages < 0 or args.chiefs < 0 or args.warmup < 0 or args.appointments < 0:
        parser.error("counts cannot be negative, and --repeat is at least 1")

    configure_logging(LoggingSettings(level="WARNING", json=False))
    begun = time.perf_counter()
    started = time.perf_counter()
    dataset = build_dataset(None if args.synthetic else args.divisions, args.villages, args.chiefs, args.seed)
    levels = {level.value: len(dataset.of_level(level.value)) for level in Level}
    print(f"divisions from: {dataset.source}")
    print(
        f"dataset: {len(dataset.nodes):,} units ("
        + ", ".join(f"{count:,} {level}" for level, count in levels.items())
        + f"), {len(dataset.chiefs):,} chiefs; generated in {time.perf_counter() - started:.2f} s"
    )
    print(
        f"timing: {args.warmup} warm-up + {args.repeat} timed runs per call, each in a session of its own; "
        f"gc.freeze() of the setup's objects {'on' if args.gc_freeze else 'off'}; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )

    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = {backend: run_backend(backend, dataset, args) for backend in backends}
    if len(results) == 2:
        sqlite, postgres = results["sqlite"], results["postgresql"]
        width = max(len(result.label) for result in sqlite)
        print(f"\n=== summary (median / p95, ms) {'=' * 41}")
        print(f"  {'operation':<{width}}  {'sqlite':>17}  {'postgresql':>17}")
        for left, right in zip(sqlite, postgres, strict=True):
            print(
                f"  {left.label:<{width}}  {left.median_ms:8.2f} /{left.p95_ms:7.2f}  {right.median_ms:8.2f} /{right.p95_ms:7.2f}"
            )
    print(f"\ntotal time: {time.perf_counter() - begun:.1f} s")
    emit("hierarchy", [row for backend, found in results.items() for row in result_rows(found, backend)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
