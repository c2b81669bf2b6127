"""The demo: Chongqing's division tree, villages, chiefs with accounts. Loaded by ``linzhang demo``.

``chongqing-2022.csv`` holds Chongqing's city, 38 districts and counties and 1,031 townships and
streets from the National Bureau of Statistics' statistical division codes (统计用区划代码, 2022).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from linzhang.container import Container
from linzhang.domains.chiefs import service as chiefs
from linzhang.domains.chiefs.model import ChiefRole
from linzhang.domains.jurisdictions import public as jurisdictions_public
from linzhang.domains.jurisdictions.importer import read_division_file
from linzhang.domains.jurisdictions.model import Division, Level
from linzhang.domains.jurisdictions.service import import_divisions
from linzhang.domains.tasks.model import SplitPart, TaskKind
from linzhang.domains.tasks.plans import import_plan, read_plan
from linzhang.domains.tasks.service import (
    CreateTask,
    TasksContext,
    complete_task,
    create_task,
    report_progress,
    split_task,
)
from linzhang.domains.tasks.tables import Task
from linzhang.identity import Principal, Role
from linzhang.identity.service import create_user
from linzhang.identity.tables import User

DIVISIONS = Path(__file__).resolve().parent / "chongqing-2022.csv"
DEMO_PASSWORD = "linzhang-demo"  # noqa: S105 - the published password of the demo accounts
FUNCTIONAL_ZONES = [("LJXQ", "两江新区"), ("CQGXQ", "重庆高新区"), ("WSJKQ", "万盛经开区")]
ADMIN = Principal(0, "demo", Role.ADMIN, None, "/")


@dataclass(frozen=True, slots=True)
class DemoReport:
    loaded: bool
    jurisdictions: int
    chiefs: int
    accounts: list[str]
    tasks: int = 0


def load_demo(container: Container, villages: int = 300, seed: int = 2021) -> DemoReport:
    """Load the demo once; a second call finds the demo administrator and changes nothing."""
    with container.reading() as session:
        if session.scalar(select(User.id).where(User.username == "admin")) is not None:
            return DemoReport(False, 0, 0, [])
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    rows = read_division_file(DIVISIONS)
    zones = [(0, Division(code, name, Level.DISTRICT, "50")) for code, name in FUNCTIONAL_ZONES]
    townships = [division for _, division in rows if division.level is Level.TOWNSHIP]
    village_rows = []
    for number in range(villages):
        township = townships[number % len(townships)]
        village_rows.append(
            (
                0,
                Division(
                    f"{township.code}{number // len(townships) + 1:03d}",
                    f"{township.name}第{number // len(townships) + 1}村",
                    Level.VILLAGE,
                    township.code,
                ),
            )
        )
    with container.transaction() as session:
        report = import_divisions(session, container.clock, [*rows, *zones, *village_rows])

    context = chiefs.ChiefsContext(container.clock, container.passwords, container.lookup_jurisdiction)
    appointed = 0
    accounts: list[str] = []
    with container.transaction() as session:
        create_user(
            session,
            container.passwords,
            container.clock,
            username="admin",
            password=DEMO_PASSWORD,
            role=Role.ADMIN,
            jurisdiction_code=None,
            jurisdiction_path=None,
        )
        accounts.append("admin")
        city = container.lookup_jurisdiction(session, "50")
        assert city is not None
        create_user(
            session,
            container.passwords,
            container.clock,
            username="city-office",
            password=DEMO_PASSWORD,
            role=Role.OFFICE,
            jurisdiction_code="50",
            jurisdiction_path=city.path,
        )
        accounts.append("city-office")
        signed_in = {"50": "city-chief", "500101": "wanzhou-chief", "500101001": "gaosuntang-chief"}
        if village_rows:
            signed_in[village_rows[0][1].code] = "village-chief"
        districts = [d for _, d in rows if d.level is Level.DISTRICT] + [d for _, d in zones]
        # 党政同责: the party secretary and the government head are both general chiefs.
        for division, posts in [
            (Division("50", "重庆市", Level.CITY, None), ("市委书记", "市长")),
            *((district, ("区县委书记", "区县长")) for district in districts),
            *(
                (township, ("党（工）委书记", "乡镇长（街道办主任）"))
                for township in townships
                if township.code in signed_in or rng.random() < 0.6
            ),
        ]:
            for index, post in enumerate(posts):
                username = signed_in.get(division.code) if index == 0 else None
                chiefs.appoint_chief(
                    session,
                    ADMIN,
                    context,
                    chiefs.Appointment(
                        name=f"{division.name}{'总林长' if index == 0 else '副总林长'}",
                        post=post,
                        role=ChiefRole.GENERAL if index == 0 else ChiefRole.DEPUTY,
                        jurisdiction_code=division.code,
                        account=chiefs.Account(username, DEMO_PASSWORD) if username else None,
                    ),
                )
                appointed += 1
                if username:
                    accounts.append(username)
        for _, village in village_rows:
            if village.code in signed_in or rng.random() < 0.85:
                username = signed_in.get(village.code)
                chiefs.appoint_chief(
                    session,
                    ADMIN,
                    context,
                    chiefs.Appointment(
                        name=f"{village.name}林长",
                        post="村党组织书记",
                        role=ChiefRole.CHIEF,
                        jurisdiction_code=village.code,
                        account=chiefs.Account(username, DEMO_PASSWORD) if username else None,
                    ),
                )
                appointed += 1
                if username:
                    accounts.append(username)
    tasks = _load_season(container, rng, [d for _, d in village_rows])
    return DemoReport(True, report.created, appointed, accounts, tasks)


def _as_chief(container: Container, session: Session, code: str) -> Principal:
    reference = container.lookup_jurisdiction(session, code)
    assert reference is not None
    return Principal(0, f"demo-{code}", Role.CHIEF, code, reference.path)


def _shares(total: Decimal, count: int, rng: random.Random) -> list[Decimal]:
    """``total`` cut into ``count`` whole parts of random size that add up exactly."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
    scale = sum(weights)
    parts = [Decimal(int(total * Decimal(w / scale))) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


def _load_season(container: Container, rng: random.Random, villages: list[Division]) -> int:
    """The 2021 plan, its big targets split down the levels, and a season of reports and issues."""
    context = TasksContext.of(container)
    plan = read_plan(container.settings.config_path / "plans" / "chongqing-2021.toml")
    with container.transaction() as session:
        imported = import_plan(session, context, plan)
    created = imported.created
    with container.transaction() as session:
        city_targets = {
            task.title: task
            for task in session.execute(
                select(Task).where(Task.plan_key == plan.plan.key, Task.kind == "target")
            ).scalars()
        }
    for title in ("营造林", "义务植树"):
        task = city_targets[title]
        assert task.target_quantity is not None
        with container.transaction() as session:
            districts = sorted(jurisdictions_public.children(session, "50"))
            shares = _shares(task.target_quantity, len(districts), rng)
            parts = split_task(
                session, ADMIN, context, task.id, [SplitPart(c, q) for c, q in zip(districts, shares, strict=True)]
            )
        created += len(parts)
        for part in parts:
            with container.transaction() as session:
                townships = sorted(jurisdictions_public.children(session, part.jurisdiction_code))
                if part.jurisdiction_code == "500101" and townships and part.target_quantity is not None:
                    shares = _shares(part.target_quantity, len(townships), rng)
                    leaves = split_task(
                        session,
                        ADMIN,
                        context,
                        part.id,
                        [SplitPart(c, q) for c, q in zip(townships, shares, strict=True)],
                    )
                    created += len(leaves)
                else:
                    leaves = [part]
            for leaf in leaves:
                if rng.random() < 0.7 and leaf.target_quantity is not None:
                    figure = (leaf.target_quantity * Decimal(rng.uniform(0.2, 1.05))).quantize(Decimal(1))
                    with container.transaction() as session:
                        report_progress(
                            session,
                            _as_chief(container, session, leaf.jurisdiction_code),
                            context,
                            leaf.id,
                            figure,
                            "季度报送",
                        )
    today = context.today()
    for index, village in enumerate(villages[:30]):
        with container.transaction() as session:
            issue = create_task(
                session,
                ADMIN,
                context,
                CreateTask(
                    title=rng.choice(["松材线虫病疫木", "林区违规用火", "滥伐林木", "林地违法占用"]),
                    kind=TaskKind.ISSUE,
                    jurisdiction_code=village.code,
                    due_in_workdays=rng.randint(3, 15) if index % 3 else None,
                    due_date=None if index % 3 else today,
                    category=rng.choice(["pest_control", "fire_prevention", "illegal_logging"]),
                    description="巡林发现，需处置并上报核查",
                ),
            )
            created += 1
            if index % 4 == 0:
                complete_task(session, _as_chief(container, session, village.code), context, issue.id, "已处置")
    return created
