"""A day of Chongqing's patrols: rangers' live tracks stored through the service, then every patrol judged.

Each ranger walks one patrol of ``--minutes`` (a point every ``--every`` seconds), sent the way a phone
sends them (``start_patrol``, then ``add_points`` in batches of ``--batch`` points, each in a transaction
of its own), and ended (``end_patrol``: the track read back, measured geodesically, checked against the
village's area and earlier tracks, the verdict stored and published). The figures are the points stored
per second and the time to judge the whole day; the baseline of the judging is the pure rules
(``model.judge``) over the same tracks in memory, without the database.

    .venv/bin/python bench/patrols.py                         # quick: 400 rangers on SQLite
    .venv/bin/python bench/patrols.py --backend postgresql --full   # 40,000 rangers, 2 hours each
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import os
import random
import sys
import time

from dataset import DEFAULT_PG_URL, build_dataset, database, load_tree, make_settings
from results import Row, emit

from linzhang.bootstrap import bootstrap
from linzhang.clock import FixedClock
from linzhang.domains.patrols import service
from linzhang.domains.patrols.model import TrackPoint, judge
from linzhang.domains.patrols.tables import rangers_table
from linzhang.identity.scope import Principal, Role
from linzhang.log import configure_logging
from linzhang.settings import LoggingSettings

DAY = dt.datetime(2026, 10, 12, 0, 0, tzinfo=dt.UTC)  # 08:00 in 重庆, in the fire season


def walk(
    rng: random.Random, origin: tuple[float, float], start: dt.datetime, minutes: int, every: int
) -> list[TrackPoint]:
    """A winding walk at 3-5 km/h with a phone's jitter."""
    count = minutes * 60 // every + 1
    speed = rng.uniform(3.0, 5.0) / 3.6 * every
    heading = rng.uniform(0, 2 * math.pi)
    per_lon = 111_320.0 * math.cos(math.radians(origin[1]))
    east = north = 0.0
    points = []
    for i in range(count):
        heading += rng.gauss(0, 0.3)
        east += speed * math.cos(heading)
        north += speed * math.sin(heading)
        points.append(
            TrackPoint(
                origin[0] + (east + rng.gauss(0, 3)) / per_lon,
                origin[1] + (north + rng.gauss(0, 3)) / 111_320.0,
                start + dt.timedelta(seconds=i * every),
                rng.uniform(3, 15),
            )
        )
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rangers", type=int, default=400)
    parser.add_argument("--full", action="store_true", help="40,000 rangers (Chongqing's)")
    parser.add_argument("--villages", type=int, default=2000)
    parser.add_argument("--minutes", type=int, default=120)
    parser.add_argument("--every", type=int, default=15, help="seconds between points")
    parser.add_argument("--batch", type=int, default=40, help="points per batch a phone sends")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    rangers = 40_000 if args.full else args.rangers
    villages = 11_000 if args.full else args.villages
    if rangers < 1 or args.minutes < 1 or args.every < 1 or args.batch < 1:
        parser.error("counts must be positive")
    configure_logging(LoggingSettings(level="WARNING", json=False))
    rng = random.Random(args.seed)
    dataset = build_dataset(None, villages, 0, args.seed)
    village_nodes = dataset.of_level("village")
    print(
        f"dataset: {len(village_nodes):,} villages; {rangers:,} rangers, {args.minutes} min each, a point every {args.every} s"
    )
    with database(args.backend, args.pg_url) as (url, var_dir):
        container = bootstrap(make_settings(url, var_dir), clock=FixedClock(DAY))
        try:
            load_tree(container, dataset)
            people = []
            with container.transaction() as session:
                rows = []
                for i in range(rangers):
                    node = village_nodes[i % len(village_nodes)]
                    rows.append(
                        {
                            "name": f"护林员{i}",
                            "phone": f"1{i:010d}",
                            "post": "ranger",
                            "jurisdiction_code": node.code,
                            "jurisdiction_path": node.path,
                            "active": True,
                            "started_on": dt.date(2026, 1, 1),
                            "user_id": 1_000_000 + i,
                            "created_at": DAY,
                        }
                    )
                    people.append(Principal(1_000_000 + i, f"r{i}", Role.RANGER, node.code, node.path))
                for start in range(0, len(rows), 2000):
                    session.execute(rangers_table.insert(), rows[start : start + 2000])
            clock = FixedClock(DAY)
            ctx = dataclasses.replace(container.context(service.PatrolsContext), clock=clock)
            origin = (108.38, 30.80)
            tracks = [
                walk(
                    rng, (origin[0] + rng.uniform(-1, 1), origin[1] + rng.uniform(-1, 1)), DAY, args.minutes, args.every
                )
                for _ in range(rangers)
            ]
            total_points = sum(len(track) for track in tracks)

            # Ingest: every ranger starts at DAY; batches arrive as the day goes on.
            patrol_ids = []
            started = time.perf_counter()
            for principal in people:
                with container.transaction() as session:
                    patrol_ids.append(service.start_patrol(session, principal, ctx).id)
            clock.set(DAY + dt.timedelta(minutes=args.minutes))
            for principal, patrol_id, track in zip(people, patrol_ids, tracks, strict=True):
                for number, first in enumerate(range(0, len(track), args.batch)):
                    batch = [service.PointIn(p.lon, p.lat, p.at, p.accuracy) for p in track[first : first + args.batch]]
                    with container.transaction() as session:
                        service.add_points(session, principal, ctx, patrol_id, f"b{number}", batch)
            ingest_s = time.perf_counter() - started
            points_per_s = total_points / ingest_s
            print(
                f"ingest: {total_points:,} points in {ingest_s:.1f} s = {points_per_s:,.0f} points/s ({args.backend})"
            )

            # Judge: end every patrol (read the track back, measure, verdict, publish).
            started = time.perf_counter()
            valid = 0
            for principal, patrol_id in zip(people, patrol_ids, strict=True):
                with container.transaction() as session:
                    valid += bool(service.end_patrol(session, principal, ctx, patrol_id).valid)
            judge_s = time.perf_counter() - started
            started = time.perf_counter()
            for track in tracks:
                judge(track, ctx.rules)
            rules_s = time.perf_counter() - started
            print(f"judge: {rangers:,} patrols in {judge_s:.1f} s ({valid:,} valid); pure rules alone {rules_s:.1f} s")
            scale = 40_000 / rangers
            print(
                f"at 40,000 rangers (linear): ingest {total_points * scale / points_per_s / 60:.0f} min, "
                f"judging {judge_s * scale / 60:.1f} min"
            )
        finally:
            container.close()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    emit(
        "patrols",
        [
            Row(f"points stored per second ({args.backend})", points_per_s, "points/s", None, "", "", None),
            Row(
                f"time to judge {rangers:,} patrols ({args.backend})",
                judge_s,
                "s",
                rules_s,
                "s, the rules alone in memory",
                "",
                None,
            ),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
