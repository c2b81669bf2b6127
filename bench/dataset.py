"""The one dataset every benchmark builds on: Chongqing's jurisdiction tree, its chiefs, its tasks.

- :func:`build_dataset`: the city, the 38 districts and 1,031 townships of the real division file (or
  synthetic codes of the same shape), three functional zones, ``villages`` villages spread unevenly, and
  chiefs over every level with some coverage gaps; fixed by its seed. :func:`load_tree` loads it through
  the real ``import_divisions``, :func:`load_chiefs` bulk-inserts the chiefs and their coverage.
- :func:`open_task_rows` / :func:`load_tasks`: open tasks at villages as ``create_task`` leaves them, a
  given number of them overdue on a given day, written with ``COPY`` on PostgreSQL (executemany
  elsewhere); :func:`load_inbox` derives the chiefs' inboxes from them as their subscriber would.
- :func:`database`: a throw-away database (a SQLite file, or a PostgreSQL database of its own on
  ``--pg-url``'s server, dropped afterwards), :func:`make_settings`: the settings of a benchmark process.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import random
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import String, cast, create_engine, func, insert, literal, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from linzhang.bootstrap import Container  # noqa: E402
from linzhang.clock import SHANGHAI  # noqa: E402
from linzhang.db.migrate import upgrade  # noqa: E402
from linzhang.domains.chiefs.tables import chiefs_table  # noqa: E402
from linzhang.domains.jurisdictions import service as jurisdictions  # noqa: E402
from linzhang.domains.jurisdictions.importer import read_divisions  # noqa: E402
from linzhang.domains.jurisdictions.tables import chief_terms_table, units_table  # noqa: E402
from linzhang.domains.tasks.tables import tasks_table, timeline_table  # noqa: E402
from linzhang.identity.scope import Principal, Role  # noqa: E402
from linzhang.paths import child_path, path_codes  # noqa: E402
from linzhang.settings import Settings, load_settings  # noqa: E402

DEFAULT_DIVISIONS = ROOT.parent / "shared" / "data" / "divisions" / "chongqing-2022.csv"
DEFAULT_PG_URL = os.environ.get("LINZHANG_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
EXECUTEMANY_BATCH = 20_000
SCALE = 10_000  # quantities are stored in ten-thousandths

ADMIN = Principal(user_id=1, username="bench-admin", role=Role.ADMIN, jurisdiction_code=None, path="/")

# Functional zones (功能区) managed as districts, with codes of their own, and how many streets each gets.
ZONES = (("LJXQ", "两江新区", 6), ("GXQ", "重庆高新区", 5), ("WSJK", "万盛经开区", 4))
CITY_CODE, CITY_NAME = "50", "重庆市"
SYNTHETIC_DISTRICTS = 38
SYNTHETIC_TOWNSHIPS = 1031

# Share of villages with a chief, of townships without one, and of chiefs whose term has ended.
VILLAGE_COVERAGE = 0.92
TOWNSHIP_GAPS = 0.015
ENDED_SHARE = 0.04

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢傅钟"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌海燕春梅鹏辉德林云飞凤琴"
VILLAGE_HEADS = "新红光明和平安石桥河坝湾山坪岭田家塘林溪龙凤金银双青白马柏杨松竹梨桃花水泉井沟槽坎"
VILLAGE_TAILS = ("村", "村", "村", "社区")


# -- the dataset ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    code: str
    name: str
    level: str
    parent_code: str | None
    path: str


@dataclass
class Dataset:
    source: str
    nodes: list[Node]  # parents before children, in file order
    chiefs: list[dict[str, Any]]  # rows for chiefs_chiefs, without ids

    def of_level(self, level: str) -> list[Node]:
        return [node for node in self.nodes if node.level == level]


def _read_csv(path: Path) -> list[tuple[str, str, str, str | None]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return [(row[0].strip(), row[1].strip(), row[2].strip(), row[3].strip() or None) for row in reader if row]


def _synthetic_upper(rng: random.Random) -> list[tuple[str, str, str, str | None]]:
    """A city, 38 districts and 1,031 townships with codes shaped like the real ones (50, 500101, 500101001)."""
    rows: list[tuple[str, str, str, str | None]] = [(CITY_CODE, CITY_NAME, "city", None)]
    districts = []
    for index in range(SYNTHETIC_DISTRICTS):
        code = f"5001{index + 1:02d}" if index < 26 else f"5002{index + 3:02d}"
        districts.append(code)
        rows.append((code, f"第{index + 1}区县", "district", CITY_CODE))
    counts = _split(SYNTHETIC_TOWNSHIPS, [rng.uniform(0.4, 1.6) for _ in districts], cap=999)
    for district, count in zip(districts, counts, strict=True):
        for number in range(1, count + 1):
            rows.append((f"{district}{number:03d}", f"{district[-2:]}区{number}号镇街", "township", district))
    return rows


def _split(total: int, weights: list[float], cap: int) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder), each share at most ``cap``."""
    if not weights:
        return []
    scale = sum(weights)
    shares = [total * weight / scale for weight in weights]
    counts = [min(cap, math.floor(share)) for share in shares]
    order = sorted(range(len(weights)), key=lambda i: shares[i] - math.floor(shares[i]), reverse=True)
    left = total - sum(counts)
    while left > 0 and any(count < cap for count in counts):
        for i in order:
            if left == 0:
                break
            if counts[i] < cap:
                counts[i] += 1
                left -= 1
    return counts


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def build_dataset(divisions: Path | None, villages: int, chief_count: int, seed: int) -> Dataset:
    rng = random.Random(seed)
    if divisions is not None and divisions.is_file():
        upper = _read_csv(divisions)
        source = str(divisions)
    else:
        upper = _synthetic_upper(rng)
        source = "synthetic (no division file)"
    city = next(row for row in upper if row[2] == "city")
    # The functional zones sit beside the districts, each with a few streets of its own.
    zone_rows: list[tuple[str, str, str, str | None]] = []
    for code, name, streets in ZONES:
        zone_rows.append((code, name, "district", city[0]))
        zone_rows.extend(
            (f"{code}{number:03d}", f"{name}第{number}街道", "township", code) for number in range(1, streets + 1)
        )
    rows = [row for row in upper if row[2] in ("city", "district")]
    rows += [row for row in zone_rows if row[2] == "district"]
    rows += [row for row in upper if row[2] == "township"]
    rows += [row for row in zone_rows if row[2] == "township"]

    nodes: list[Node] = []
    paths: dict[str, str] = {}
    for code, name, level, parent in rows:
        paths[code] = child_path(paths[parent] if parent else None, code)
        nodes.append(Node(code, name, level, parent, paths[code]))
    townships = [node for node in nodes if node.level == "township"]
    counts = _split(villages, [rng.uniform(0.3, 1.7) for _ in townships], cap=999)
    for township, count in zip(townships, counts, strict=True):
        for number in range(1, count + 1):
            code = f"{township.code}{number:03d}"
            name = "".join(rng.sample(VILLAGE_HEADS, 2)) + rng.choice(VILLAGE_TAILS)
            nodes.append(Node(code, name, "village", township.code, child_path(township.path, code)))
    return Dataset(source, nodes, _plan_chiefs(rng, nodes, chief_count))


def _plan_chiefs(rng: random.Random, nodes: list[Node], total: int) -> list[dict[str, Any]]:
    """Chiefs in the order a first appointment round enters them: the city, districts, townships, villages.

    The city and every district get two general chiefs (党政同责) and deputies; a township two general
    chiefs; ~92 % of the villages one chief or more (1.7 on average). Left without chiefs (coverage gaps): the last
    functional zone, ~1.5 % of townships and ~8 % of villages. ~4 % of the chiefs have ended terms.
    """
    created = dt.datetime(2022, 6, 1, 1, 0, tzinfo=dt.UTC)
    by_level: dict[str, list[Node]] = {"city": [], "district": [], "township": [], "village": []}
    for node in nodes:
        by_level[node.level].append(node)
    gap_zone = ZONES[-1][0]
    posts = {
        "city": (("general", "市委书记"), ("general", "市长"), ("deputy", "副市长"), ("deputy", "副市长")),
        "district": (("general", "区委书记"), ("general", "区长"), ("deputy", "副区长")),
        "township": (("general", "党委书记"), ("general", "乡镇长")),
    }
    planned: list[tuple[Node, str, str]] = []
    for level in ("city", "district", "township"):
        for node in by_level[level]:
            if node.code == gap_zone or (level == "township" and rng.random() < TOWNSHIP_GAPS):
                continue
            planned.extend((node, role, post) for role, post in posts[level])
    budget = max(0, total - len(planned))
    ended = round(total * ENDED_SHARE)
    active_villages = max(0, budget - ended)
    villages = by_level["village"]
    covered = rng.sample(villages, min(len(villages), round(len(villages) * VILLAGE_COVERAGE), active_villages))
    per_village = dict.fromkeys((node.code for node in covered), 1)
    for _ in range(active_villages - len(covered)):
        if not covered:
            break
        per_village[rng.choice(covered).code] += 1
    for node in villages:
        for number in range(per_village.get(node.code, 0)):
            planned.append((node, "chief", "村党组织书记" if number == 0 else "村委会主任"))
    planned = planned[:total]

    rows = [
        {
            "name": person(rng),
            "post": post,
            "role": role,
            "jurisdiction_code": node.code,
            "jurisdiction_path": node.path,
            "term_start": dt.date(2022, 1, 1) + dt.timedelta(days=rng.randrange(150)),
            "term_end": None,
            "active": True,
            "end_reason": None,
            "username": None,
            "created_at": created,
        }
        for node, role, post in planned
    ]
    # Ended terms: predecessors anywhere below the city, entered with the rest (a village or township whose
    # only chief left stays a gap until a successor is appointed).
    below_city = [node for node in nodes if node.level in ("township", "village")]
    for _ in range(min(ended, total - len(rows))):
        node = rng.choice(below_city)
        start = dt.date(2017, 1, 1) + dt.timedelta(days=rng.randrange(1500))
        rows.append(
            {
                "name": person(rng),
                "post": "村党组织书记" if node.level == "village" else "党委书记",
                "role": "chief" if node.level == "village" else "general",
                "jurisdiction_code": node.code,
                "jurisdiction_path": node.path,
                "term_start": start,
                "term_end": start + dt.timedelta(days=rng.randrange(200, 1500)),
                "active": False,
                "end_reason": "换届",
                "username": None,
                "created_at": created,
            }
        )
    return rows


def division_csv(dataset: Dataset) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("code", "name", "level", "parent_code"))
    for node in dataset.nodes:
        writer.writerow((node.code, node.name, node.level, node.parent_code or ""))
    return out.getvalue()


def make_settings(database_url: str, var_dir: Path) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "paths": {"var_dir": str(var_dir)},
            "database": {"url": database_url},
            "redis": {"url": ""},
            "logging": {"level": "WARNING"},
            "security": {"secret_key": "bench-" + "k" * 40, "password_time_cost": 1, "password_memory_kib": 8},
        },
    )


@contextmanager
def database(backend: str, pg_url: str) -> Iterator[tuple[str, Path]]:
    """A database URL for the backend and a var dir, both gone after the block."""
    with tempfile.TemporaryDirectory(prefix="linzhang-bench-") as tmp:
        var_dir = Path(tmp) / "var"
        if backend == "sqlite":
            yield f"sqlite:///{Path(tmp) / 'bench.db'}", var_dir
            return
        url = make_url(pg_url)
        if url.get_driver_name() in ("", "psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        name = f"linzhang_bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False), var_dir
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def load_chiefs(container: Container, dataset: Dataset) -> None:
    """Bulk-insert the chiefs, then the coverage projection exactly as its event handler would leave it."""
    u, t = units_table, chief_terms_table
    with container.transaction() as session:
        for start in range(0, len(dataset.chiefs), 2000):
            session.execute(insert(chiefs_table), dataset.chiefs[start : start + 2000])
        c = chiefs_table
        session.execute(
            insert(t).from_select(
                ["chief_id", "jurisdiction_code", "active"], select(c.c.id, c.c.jurisdiction_code, c.c.active)
            )
        )
        in_office = (
            select(func.count()).where(t.c.jurisdiction_code == u.c.code, t.c.active.is_(True)).scalar_subquery()
        )
        session.execute(update(u).values(active_chiefs=in_office))


def load_tree(container: Container, dataset: Dataset) -> int:
    """The schema by the migrations, then the tree through the real ``import_divisions``; units created."""
    upgrade(container.engine)
    rows = list(read_divisions(division_csv(dataset)))
    with container.transaction() as session:
        return jurisdictions.import_divisions(session, container.clock, rows).created


# -- open tasks --------------------------------------------------------------------------------------

KINDS = (("target", 0.50), ("issue", 0.35), ("order", 0.15))
CATEGORIES = ("营造林", "森林防火", "林业有害生物防治", "森林资源管护", "林政执法", "古树名木保护", "国土绿化")
TARGETS = (("完成人工造林", "亩"), ("完成森林抚育", "亩"), ("完成退化林修复", "亩"), ("新植苗木", "株"))
ISSUES = ("巡林发现疑似乱砍滥伐", "林地疑似被非法占用", "发现疑似松材线虫病枯死树", "林区发现火源隐患", "护林标牌损坏")
ORDERS = ("林长令：切实加强森林防火工作", "督办：森林督查图斑整改", "林长令：松材线虫病疫木清理")
DESCRIPTIONS = (
    None,
    None,
    "按照林长办工作要点，压实林长责任，确保按期完成并上报进展。",
    "请于到期日前完成整改并附照片。",
)
DEPARTMENTS = ("林业局", "规划自然资源局", "应急管理局", "公安局", "生态环境局", "农业农村委")

# The columns this benchmark writes, in its rows' order; the table may add only nullable ones.
TASK_COLUMNS = (
    "id",
    "kind",
    "status",
    "title",
    "description",
    "category",
    "lead_department",
    "cooperating_departments",
    "revision",
    "jurisdiction_code",
    "jurisdiction_path",
    "city_code",
    "district_code",
    "township_code",
    "village_code",
    "holder_code",
    "holder_path",
    "holder_level",
    "due_date",
    "escalation_due_date",
    "next_escalation_on",
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


@dataclass(frozen=True, slots=True)
class Day:
    """The fixed time of the run: the sweep is as of the start of ``today`` in Shanghai."""

    today: dt.date
    as_of: dt.datetime  # Shanghai time

    @property
    def now(self) -> dt.datetime:
        return self.as_of.astimezone(dt.UTC)


def open_task_rows(villages: list[Node], count: int, overdue: int, day: Day, seed: int) -> Iterator[tuple[Any, ...]]:
    """``count`` open tasks at random villages, ``overdue`` of them (chosen at random) due before ``today``.

    Overdue tasks were due 1-90 days ago, the others are due 1-365 days from today (none today, so a
    sweep later the same day, or just after midnight, finds nothing more). Holder = owner, revision 1,
    ``next_escalation_on`` = the due date: as ``create_task`` leaves a task.
    """
    rng = random.Random(seed)
    randrange, random_ = rng.randrange, rng.random
    late = set(rng.sample(range(count), overdue))
    places = [(node.code, node.path, *path_codes(node.path)) for node in villages]
    kind_cut = (KINDS[0][1], KINDS[0][1] + KINDS[1][1])
    morning = dt.time(9, 0, tzinfo=SHANGHAI)
    for n in range(count):
        code, path, city, district, township, village = places[randrange(len(places))]
        if n in late:
            due = day.today - dt.timedelta(days=randrange(1, 91))
        else:
            due = day.today + dt.timedelta(days=randrange(1, 366))
        created_on = min(day.today - dt.timedelta(days=1), due - dt.timedelta(days=randrange(5, 150)))
        created = (dt.datetime.combine(created_on, morning) + dt.timedelta(seconds=randrange(8 * 3600))).astimezone(
            dt.UTC
        )
        r = random_()
        kind = "target" if r < kind_cut[0] else ("issue" if r < kind_cut[1] else "order")
        if kind == "target":
            title, unit = TARGETS[randrange(len(TARGETS))]
            target_raw = randrange(1, 5000) * SCALE
            target: int | None = target_raw
            completed = randrange(0, target_raw // 100) * 100
        else:
            title = ISSUES[randrange(len(ISSUES))] if kind == "issue" else ORDERS[randrange(len(ORDERS))]
            unit, target, completed = None, None, 0
        yield (
            n + 1,
            kind,
            "open",
            title,
            DESCRIPTIONS[randrange(len(DESCRIPTIONS))],
            CATEGORIES[randrange(len(CATEGORIES))],
            DEPARTMENTS[randrange(len(DEPARTMENTS))],
            None,
            1,
            code,
            path,
            city,
            district,
            township,
            village,
            code,
            path,
            "village",
            due,
            None,
            due,
            target,
            completed,
            unit,
            None,
            0,
            None,
            None,
            f"office-{township}",
            created,
            created,
            None,
        )


def check_columns() -> None:
    """Every column of ``tasks_tasks`` that this benchmark does not write must be nullable."""
    known = set(TASK_COLUMNS)
    table = {column.name: column for column in tasks_table.columns}
    missing = [name for name in TASK_COLUMNS if name not in table]
    unwritten = [c.name for c in tasks_table.columns if c.name not in known and not c.nullable]
    if missing or unwritten:
        raise SystemExit(
            f"tasks_tasks changed: columns gone {missing}, new NOT NULL columns {unwritten}; update bench/dataset.py"
        )


def load_tasks(container: Container, rows: Iterator[tuple[Any, ...]], method: str) -> int:
    """COPY (PostgreSQL's bulk path), or SQLAlchemy Core executemany in batches of 20,000."""
    loaded = 0
    if method == "copy":
        raw = container.engine.raw_connection()
        try:
            connection = raw.driver_connection
            assert connection is not None
            sql = f"COPY tasks_tasks ({', '.join(TASK_COLUMNS)}) FROM STDIN"
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
                    loaded += 1
            connection.commit()
        finally:
            raw.close()
    else:
        statement = insert(tasks_table)
        quantity = {TASK_COLUMNS.index("target_quantity"), TASK_COLUMNS.index("completed_quantity")}
        with container.transaction() as session:
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(
                    {
                        name: (Decimal(value).scaleb(-4) if i in quantity and value is not None else value)
                        for i, (name, value) in enumerate(zip(TASK_COLUMNS, row, strict=True))
                    }
                )
                if len(batch) == EXECUTEMANY_BATCH:
                    session.execute(statement, batch)
                    loaded += len(batch)
                    batch = []
            if batch:
                session.execute(statement, batch)
                loaded += len(batch)
    with container.transaction() as session:
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('tasks_tasks', 'id'), (SELECT max(id) FROM tasks_tasks))")
        )
    return loaded


def load_inbox(container: Container) -> tuple[int, int]:
    """The inbox projection as its subscriber leaves it after each task's TaskCreated: a ``todo`` item at
    the owner, and revision 1 applied. Derived in SQL from the loaded tasks."""
    t = tasks_table
    with container.transaction() as session:
        revisions = derive_from_tasks(session, "chiefs_task_revisions", {"task_id": t.c.id, "revision": t.c.revision})
        items = derive_from_tasks(session, "chiefs_inbox_items", todo_item_columns())
    return items, revisions


def load_timeline(container: Container) -> int:
    """A ``created`` entry per task, as ``create_task`` records it."""
    t, tl = tasks_table, timeline_table
    detail = (
        literal('{"kind": "', String)
        + t.c.kind
        + literal('", "due_date": "', String)
        + cast(t.c.due_date, String)
        + literal('"}', String)
    )
    with container.transaction() as session:
        session.execute(
            insert(tl).from_select(
                ["task_id", "at", "actor", "action", "detail"],
                select(t.c.id, t.c.created_at, t.c.created_by, literal("created"), detail).order_by(t.c.id),
            )
        )
        return int(session.execute(select(func.count()).select_from(tl)).scalar_one())


def todo_item_columns() -> dict[str, Any]:
    """``chiefs_inbox_items`` columns of the ``todo`` item each task held by its owner has, from ``tasks_tasks``."""
    t = tasks_table
    return {
        "task_id": t.c.id,
        "box": literal("todo"),
        "jurisdiction_code": t.c.jurisdiction_code,
        "jurisdiction_path": t.c.jurisdiction_path,
        "reason": literal("assigned"),
        "kind": t.c.kind,
        "title": t.c.title,
        "category": t.c.category,
        "status": t.c.status,
        "owner_code": t.c.jurisdiction_code,
        "holder_code": t.c.holder_code,
        "due_date": t.c.due_date,
        "deadline": t.c.due_date,
        "open": t.c.status != "done",
        "created_at": t.c.created_at,
        "updated_at": t.c.updated_at,
    }


def derive_from_tasks(session: Session, table_name: str, columns: dict[str, Any]) -> int:
    """Fill a projection table from ``tasks_tasks`` in one INSERT .. SELECT; returns its row count."""
    table = tasks_table.metadata.tables[table_name]
    session.execute(insert(table).from_select(list(columns), select(*columns.values()).order_by(tasks_table.c.id)))
    return int(session.execute(select(func.count()).select_from(table)).scalar_one())
