"""The demo: Chongqing's division tree, villages, chiefs with accounts, and a live year of work.

``chongqing-2022.csv`` holds Chongqing's city, 38 districts and counties and 1,031 townships and
streets from the National Bureau of Statistics' statistical division codes (统计用区划代码, 2022).

The season is dated from today (the container's clock): the 2021 plan's points are replayed as this
year's plan, its two big targets are split to every district and, in the districts that have demo
villages, down to townships and villages. Each district works with a diligence of its own, so that a
new user sees most work on time, some due soon, some late and already climbing to the township, the
district and the city, and a ranking that spreads over 优秀 / 良好 / 合格 / 不合格: the demo delivers its
events and computes this year's assessment before it returns.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from linzhang.bus.drain import drain
from linzhang.clock import SHANGHAI, FixedClock
from linzhang.console import Login
from linzhang.container import Container
from linzhang.demo.names import person_name, village_names
from linzhang.domains.assessments import service as assessments
from linzhang.domains.chiefs import service as chiefs
from linzhang.domains.chiefs.model import ChiefRole
from linzhang.domains.jurisdictions.importer import read_division_file
from linzhang.domains.jurisdictions.model import Division, Level
from linzhang.domains.jurisdictions.service import import_divisions
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.escalation import sweep
from linzhang.domains.tasks.model import SplitPart, TaskKind
from linzhang.domains.tasks.plans import PlanFile, import_plan, importer, read_plan
from linzhang.domains.tasks.service import (
    NewTask,
    complete_task,
    create_task,
    report_progress,
    split_task,
    verify_task,
)
from linzhang.domains.tasks.tables import Task
from linzhang.domains.tasks.views import TaskView
from linzhang.identity import Action, Principal, Role
from linzhang.identity.scope import system_actor
from linzhang.identity.service import create_user
from linzhang.identity.tables import User

DIVISIONS = Path(__file__).resolve().parent / "chongqing-2022.csv"
DEMO_PASSWORD = "linzhang-demo"  # noqa: S105 - the published password of the demo accounts
FUNCTIONAL_ZONES = [("LJXQ", "两江新区"), ("CQGXQ", "重庆高新区"), ("WSJKQ", "万盛经开区")]
# The demo loads its season as a system actor, recorded as "demo"; the chiefs' own acts run as them.
SYSTEM = system_actor("demo", *Action, name="demo")
PLAN_YEAR = 2021  # the plan the demo replays (config/plans/chongqing-2021.toml)
SEASON_DAYS = 100  # the season began this many days before today: the plan was issued then
VILLAGES_PER_TOWNSHIP = 4
TOWNSHIPS_WITH_VILLAGES = 3  # per district, the first ones in code order
SPLIT_TARGETS = ("营造林", "义务植树")
# How diligently each district works: the share of its work done on time and the figures it reaches.
# Cycled over the districts in code order, so that every grade appears whatever the number of villages.
DILIGENCE = (0.98, 0.9, 0.98, 0.8, 0.93, 0.55, 0.98, 0.88, 0.7, 0.96, 0.85, 0.45)
# Issues found on patrol, each with the vocabulary category its text belongs to (config/categories.toml).
ISSUES = (
    ("松材线虫病疫木未及时清理", "pest_control"),
    ("林区违规野外用火", "fire_prevention"),
    ("发现滥伐林木", "illegal_logging"),
    ("林地被违法占用建房", "illegal_land_use"),
    ("非法猎捕野生鸟类", "resource_protection"),
    ("防火通道杂草堆积", "fire_prevention"),
    ("林业有害生物监测点损坏", "pest_control"),
    ("无证采伐林木", "illegal_logging"),
    ("违规占用林地堆放建材", "illegal_land_use"),
)
# Days a late village leaf is overdue by: a few (held by its township), about two weeks (the district), a
# month and more (the city): the sweep climbs one level at a time, after each level's grace period.
LATE_VILLAGES = 0.3  # the least share of past-due village leaves that are late, however diligent the district
OVERDUE_DAYS = (1, 2, 3, 4, 10, 11, 13, 16, 24, 30, 38, 45)


@dataclass(frozen=True, slots=True)
class DemoReport:
    loaded: bool
    jurisdictions: int
    chiefs: int
    accounts: list[str]
    tasks: int = 0
    period: str = ""  # the assessment computed on the demo (this year)


def demo_loaded(container: Container) -> bool:
    """Whether the demo is there (its administrator account is)."""
    with container.reading() as session:
        return session.scalar(select(User.id).where(User.username == "admin")) is not None


def loader_while_serving(
    container: Container, announce: Callable[[DemoReport], object], villages: int = 300
) -> Callable[[], None] | None:
    """For ``linzhang serve --demo``: the work that loads the demo behind a serving app, or ``None`` if it is
    there already. Until it is done ``container.demo_loading`` is set, and every page says so."""
    if demo_loaded(container):
        return None
    container.demo_loading = True

    def load() -> None:
        try:
            report = load_demo(container, villages=villages)
        finally:
            container.demo_loading = False
        announce(report)

    return load


def load_demo(container: Container, villages: int = 300, seed: int = 2021) -> DemoReport:
    """Load the demo once; a second call finds the demo administrator and changes nothing."""
    if demo_loaded(container):
        return DemoReport(False, 0, 0, [])
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    today = container.clock.now().astimezone(SHANGHAI).date()
    season_start = today - dt.timedelta(days=SEASON_DAYS)
    at_start = FixedClock(dt.datetime.combine(season_start, dt.time(9), SHANGHAI))

    rows = read_division_file(DIVISIONS)
    zones = [(0, Division(code, name, Level.DISTRICT, "50")) for code, name in FUNCTIONAL_ZONES]
    district_rows = [d for _, d in rows if d.level is Level.DISTRICT] + [d for _, d in zones]
    townships = [division for _, division in rows if division.level is Level.TOWNSHIP]
    village_rows = _villages(district_rows, townships, villages, rng)
    with container.transaction() as session:
        report = import_divisions(session, container.clock, [*rows, *zones, *((0, v) for v in village_rows)])

    # Chiefs took office before the season began.
    context = chiefs.ChiefsContext(at_start, container.passwords, container.lookup_jurisdiction)
    appointed = 0
    accounts: list[str] = []
    with container.transaction() as session:
        for account, role, code in (("admin", Role.ADMIN, None), ("city-office", Role.OFFICE, "50")):
            reference = container.lookup_jurisdiction(session, code) if code else None
            create_user(
                session,
                container.passwords,
                container.clock,
                username=account,
                password=DEMO_PASSWORD,
                role=role,
                jurisdiction_code=code,
                jurisdiction_path=reference.path if reference else None,
            )
            accounts.append(account)
        signed_in = {"50": "city-chief", "500101": "wanzhou-chief", "500101001": "gaosuntang-chief"}
        if village_rows:
            signed_in[village_rows[0].code] = "village-chief"
        with_villages = {village.parent_code for village in village_rows}
        # 党政同责: the party secretary and the government head are both general chiefs.
        for division, posts in [
            (Division("50", "重庆市", Level.CITY, None), ("市委书记", "市长")),
            *((district, ("区县委书记", "区县长")) for district in district_rows),
            *(
                (township, ("党（工）委书记", "乡镇长（街道办主任）"))
                for township in townships
                if township.code in signed_in or township.code in with_villages or rng.random() < 0.6
            ),
        ]:
            for index, post in enumerate(posts):
                username = signed_in.get(division.code) if index == 0 else None
                chiefs.appoint_chief(
                    session,
                    SYSTEM,
                    context,
                    chiefs.Appointment(
                        name=person_name(rng),
                        post=post,
                        role=ChiefRole.GENERAL if index == 0 else ChiefRole.DEPUTY,
                        jurisdiction_code=division.code,
                        account=chiefs.Account(username, DEMO_PASSWORD) if username else None,
                    ),
                )
                appointed += 1
                if username:
                    accounts.append(username)
        for village in village_rows:
            if village.code in signed_in or rng.random() < 0.85:
                username = signed_in.get(village.code)
                chiefs.appoint_chief(
                    session,
                    SYSTEM,
                    context,
                    chiefs.Appointment(
                        name=person_name(rng),
                        post="社区党组织书记" if village.name.endswith("社区") else "村党组织书记",
                        role=ChiefRole.CHIEF,
                        jurisdiction_code=village.code,
                        account=chiefs.Account(username, DEMO_PASSWORD) if username else None,
                    ),
                )
                appointed += 1
                if username:
                    accounts.append(username)
    season = _Season(container, rng, today, at_start)
    tasks = season.load(district_rows, village_rows)
    period = _assess(container, today)
    return DemoReport(True, report.created, appointed, accounts, tasks, period)


# The sign-ins ``make run`` prints: the city office, a district chief and a village chief.
CONSOLE_LOGINS = (("市林长办", "city-office"), ("区县林长", "wanzhou-chief"), ("村林长", "village-chief"))


def demo_logins(container: Container) -> list[Login]:
    """The demo's sign-ins for the console, if the demo is loaded (and those accounts exist)."""
    if container.demo_loading:
        return [Login(who, username, DEMO_PASSWORD) for who, username in CONSOLE_LOGINS]
    usernames = [username for _, username in CONSOLE_LOGINS]
    with container.reading() as session:
        present = set(session.execute(select(User.username).where(User.username.in_(usernames))).scalars())
    return [Login(who, username, DEMO_PASSWORD) for who, username in CONSOLE_LOGINS if username in present]


def _villages(districts: list[Division], townships: list[Division], count: int, rng: random.Random) -> list[Division]:
    """``count`` villages: a few under each of the first townships of each district, district after district."""
    by_district: dict[str, list[Division]] = {}
    for township in townships:
        by_district.setdefault(township.parent_code or "", []).append(township)
    chosen = [t for d in districts for t in by_district.get(d.code, [])[:TOWNSHIPS_WITH_VILLAGES]]
    made: list[Division] = []
    for township in chosen:
        if len(made) >= count:
            break
        wanted = min(VILLAGES_PER_TOWNSHIP, count - len(made))
        for number, name in enumerate(village_names(township.name, wanted, rng), start=1):
            made.append(Division(f"{township.code}{number:03d}", name, Level.VILLAGE, township.code))
    return made


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


def _at(day: dt.date) -> FixedClock:
    return FixedClock(dt.datetime.combine(day, dt.time(10), SHANGHAI))


class _Season:
    """This year's plan, split down the levels, and the season's reports, issues and escalations."""

    def __init__(self, container: Container, rng: random.Random, today: dt.date, at_start: FixedClock) -> None:
        self.container = container
        self.rng = rng
        self.today = today
        self.start = at_start.now().astimezone(SHANGHAI).date()
        self.live = container.context(TasksContext)
        self.opening = replace(self.live, clock=at_start)
        self.created = 0
        self.villages: set[str] = set()
        self.late: set[tuple[str, dt.date]] = set()  # leaves that will miss their due date

    def context_on(self, day: dt.date) -> TasksContext:
        return replace(self.live, clock=_at(day))

    def load(self, districts: list[Division], villages: list[Division]) -> int:
        self.villages = {village.code for village in villages}
        plan = self.this_years_plan()
        with self.container.transaction() as session:
            self.created += import_plan(session, importer(plan), self.opening, plan).created
        with self.container.transaction() as session:
            targets = {
                task.title: (task.id, task.target_quantity, task.due_date)
                for task in session.execute(
                    select(Task).where(Task.plan_key == plan.plan.key, Task.kind == "target", Task.parent_id.is_(None))
                ).scalars()
            }
        diligence = {d.code: DILIGENCE[index % len(DILIGENCE)] for index, d in enumerate(sorted(districts, key=_code))}
        below: dict[str, list[str]] = {}
        for village in villages:
            township = village.parent_code or ""
            below.setdefault(township, []).append(village.code)
            below.setdefault(township[:6], [])
            if township not in below[township[:6]]:
                below[township[:6]].append(township)
        for title in SPLIT_TARGETS:
            task_id, quantity, due = targets[title]
            assert quantity is not None
            codes = sorted(d.code for d in districts)
            self.split_down(task_id, quantity, due, codes, below, diligence)
        self.issues(villages, diligence)
        self.sweep_the_season()
        return self.created

    def this_years_plan(self) -> PlanFile:
        """The 2021 plan replayed as this year's: issued when the season began, due this year (or soon after)."""
        plan = read_plan(self.container.settings.config_file(f"plans/chongqing-{PLAN_YEAR}.toml"))
        year = self.today.year
        earliest = self.today + dt.timedelta(days=30)

        def moved(day: dt.date) -> dt.date:
            return max(day.replace(year=day.year + year - PLAN_YEAR), earliest)

        header = msgspec.structs.replace(
            plan.plan,
            key=f"chongqing-{year}",
            title=plan.plan.title.replace(str(PLAN_YEAR), str(year)) + "（演示）",
            issued_on=self.start,
            year=year,
            default_due_date=moved(plan.plan.default_due_date),
        )
        points = [
            msgspec.structs.replace(point, due_date=moved(point.due_date) if point.due_date else None)
            for point in plan.points
        ]
        return PlanFile(header, points)

    def split_down(
        self,
        task_id: int,
        quantity: Decimal,
        due: dt.date,
        codes: list[str],
        below: dict[str, list[str]],
        diligence: dict[str, float],
    ) -> None:
        """Split a target among ``codes``; parts with villages under them go further down, leaves are worked."""
        shares = _shares(quantity, len(codes), self.rng)
        parts = []
        for code, share in zip(codes, shares, strict=True):
            leaf = code not in below
            due_date = self.leaf_due(code, due, diligence[code[:6]], village=code in self.villages) if leaf else None
            parts.append(SplitPart(code, share, due_date))
        with self.container.transaction() as session:
            made = split_task(session, SYSTEM, self.opening, task_id, parts)
        self.created += len(made)
        for part in made:
            assert part.target_quantity is not None
            if part.jurisdiction_code in below:
                children = below[part.jurisdiction_code]
                self.split_down(part.id, part.target_quantity, part.due_date, children, below, diligence)
            else:
                self.work(part, diligence[part.jurisdiction_code[:6]])

    def leaf_due(self, code: str, latest: dt.date, diligence: float, *, village: bool) -> dt.date:
        """Most leaves are due later; some are due now or were due a while ago (more of them for the slow)."""
        roll = self.rng.random()
        if roll < 0.35 + 0.25 * (1 - diligence):
            # Due in the past, never before the season began. A late village leaf takes the next of the
            # overdue spans in turn, so that late work is held at every level whatever the villages' number.
            late = self.rng.random() < (max(LATE_VILLAGES, 1 - diligence) if village else 1 - diligence)
            turn = OVERDUE_DAYS[len(self.late) % len(OVERDUE_DAYS)]
            days = turn if late and village else self.rng.randint(1, 45)
            due = max(self.start + dt.timedelta(days=5), self.today - dt.timedelta(days=days))
            if late:
                self.late.add((code, due))
            return due
        if roll < 0.5:
            return min(latest, self.today + dt.timedelta(days=self.rng.randint(0, 3)))  # due soon
        later = self.today + dt.timedelta(days=self.rng.randint(10, 90))
        # Within this year's assessment while the year leaves room for it.
        year_end = dt.date(self.today.year, 12, 31)
        if year_end >= self.today + dt.timedelta(days=10):
            later = min(later, year_end)
        return min(latest, later)

    def work(self, task: TaskView, diligence: float) -> None:
        """The leaf's owner reports: in time and in full if diligent, late and short if not."""
        assert task.target_quantity is not None
        owner = task.jurisdiction_code
        if task.due_date < self.today:
            if (owner, task.due_date) not in self.late:
                # Reached before the due date.
                day = max(self.start, task.due_date - dt.timedelta(days=self.rng.randint(0, 10)))
                figure = (task.target_quantity * Decimal(self.rng.uniform(1.0, 1.08))).quantize(Decimal(1))
            else:
                day = max(self.start, self.today - dt.timedelta(days=self.rng.randint(0, 5)))
                share = Decimal(self.rng.uniform(0.2, 0.8) * diligence)
                figure = (task.target_quantity * share).quantize(Decimal(1))
        else:
            if self.rng.random() > 0.3 + 0.7 * diligence:
                return  # nothing reported yet
            day = max(self.start, self.today - dt.timedelta(days=self.rng.randint(0, 10)))
            share = Decimal(min(0.99, self.rng.uniform(0.75, 1.0) * diligence))
            figure = (task.target_quantity * share).quantize(Decimal(1))
        context = self.context_on(day)
        with self.container.transaction() as session:
            reported = report_progress(
                session, _as_chief(self.container, session, owner), context, task.id, figure, "按季度报送"
            )
            if reported.status == "submitted":
                # A target that reached its figure awaits 验收 by the level above: accepted at once.
                above = _above(self.container, session, owner)
                verify_task(session, _as_chief(self.container, session, above), context, task.id, True, "")

    def issues(self, villages: list[Division], diligence: dict[str, float]) -> None:
        """Issues found on patrol in the villages: most handled and verified in time, some late, some new."""
        for index, village in enumerate(villages[:60]):
            title, category = ISSUES[index % len(ISSUES)]
            care = diligence[village.code[:6]]
            found = self.start + dt.timedelta(days=self.rng.randint(0, SEASON_DAYS - 20))
            due = min(found + dt.timedelta(days=self.rng.randint(7, 30)), self.today + dt.timedelta(days=20))
            if index % 9 == 0:
                due = self.today + dt.timedelta(days=self.rng.randint(0, 2))  # due soon
            with self.container.transaction() as session:
                issue = create_task(
                    session,
                    SYSTEM,
                    self.context_on(found),
                    NewTask(
                        title=title,
                        kind=TaskKind.ISSUE,
                        jurisdiction_code=village.code,
                        due_date=due,
                        category=category,
                        description="巡林发现，需处置并上报核查",
                    ),
                )
            self.created += 1
            if index % 9 == 0 or self.rng.random() > care:
                continue  # still open: due soon, or late
            handled = min(due - dt.timedelta(days=self.rng.randint(0, 5)), self.today)
            handled = max(handled, found)
            context = self.context_on(handled)
            with self.container.transaction() as session:
                complete_task(session, _as_chief(self.container, session, village.code), context, issue.id, "已处置")
                if index % 7 == 1:
                    continue  # submitted: awaits the township's 核查
                township = village.parent_code or ""
                verify_task(session, _as_chief(self.container, session, township), context, issue.id, True, "")

    def sweep_the_season(self) -> None:
        """The daily escalation sweep of the season, so overdue work has climbed as it would have."""
        day = self.start + dt.timedelta(days=1)
        while day < self.today:
            with self.container.transaction() as session:
                sweep(session, SYSTEM, self.live, dt.datetime.combine(day, dt.time(1), SHANGHAI))
            day += dt.timedelta(days=1)
        with self.container.transaction() as session:
            sweep(session, SYSTEM, self.live, self.container.clock.now())


def _code(division: Division) -> str:
    return division.code


def _above(container: Container, session: Session, code: str) -> str:
    """The jurisdiction one level above ``code``."""
    reference = container.lookup_jurisdiction(session, code)
    assert reference is not None
    assert reference.parent_code is not None
    return reference.parent_code


def _assess(container: Container, today: dt.date) -> str:
    """Deliver the demo's events, then compute this year's assessment so the ranking has something to show."""
    _deliver(container)
    context = container.context(assessments.AssessmentContext)
    with container.transaction() as session:
        run = assessments.compute(session, SYSTEM, context, str(today.year), today)
    return run.period


def _deliver(container: Container) -> None:
    """Handle every delivery the demo's events made, in this thread, many per transaction.

    No relay or worker threads: on SQLite they would only wait for one another's write lock.
    """
    bus = container.bus
    drain(bus.session_factory, bus.registry, bus.clock, bus.policy)
