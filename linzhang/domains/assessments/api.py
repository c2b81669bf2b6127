"""REST endpoints of the assessments domain."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from linzhang.api.schemas import (
    CodeField,
    JurisdictionCode,
    LevelQuery,
    PageLimit,
    Period,
    PeriodField,
    RankingScope,
    limited_text,
    page_size,
)
from linzhang.container import Container
from linzhang.domains.assessments import service
from linzhang.domains.assessments.export import XLSX, download_headers, workbook
from linzhang.identity import Principal


class RunIn(msgspec.Struct, forbid_unknown_fields=True):
    period: PeriodField
    as_of: dt.date | None = None


class RunOut(msgspec.Struct):
    period: str
    version: int
    status: str  # draft | published | superseded
    status_name: str
    as_of: dt.date
    assessed: int
    computed_at: dt.datetime
    computed_by: str
    stale: bool  # a veto or bonus recorded since: the next version shows it
    stale_reason: str | None
    published_at: dt.datetime | None
    published_by: str | None


class RunList(msgspec.Struct):
    items: list[RunOut]


class Published(msgspec.Struct):
    period: str
    version: int
    status: str


class DeductionOut(msgspec.Struct):
    component: str
    reason: str
    points: float
    task_id: int | None
    task_title: str | None
    task_unit: str | None  # the unit of the target's quantity
    jurisdiction_code: str | None  # the unit responsible for the task
    jurisdiction_name: str | None


class ScoreOut(msgspec.Struct):
    jurisdiction_code: str
    name: str
    level: str
    score: float | None
    grade: str | None
    rank: int | None  # among the peers of ranked_within (group_code), or city-wide
    peers: int
    ranked_within: str
    group_code: str | None
    city_rank: int | None
    city_peers: int
    district_code: str | None  # 所属区县
    district_name: str | None
    vetoed: bool
    veto_reason: str | None
    components: dict[str, float | None]
    weighted: dict[str, float | None]  # each component's points in the total
    deductions: list[DeductionOut]
    deductions_count: int


class ScorePage(msgspec.Struct):
    period: str
    version: int
    status: str
    as_of: dt.date
    stale: bool
    items: list[ScoreOut]
    next: str | None


class StandingOut(msgspec.Struct):
    score: float | None
    grade: str | None
    rank: int | None


class ChangeOut(msgspec.Struct):
    jurisdiction_code: str
    name: str
    level: str
    before: StandingOut | None
    after: StandingOut | None


class ChangesOut(msgspec.Struct):
    period: str
    published_version: int
    version: int
    items: list[ChangeOut]
    next: str | None


class BonusItemOut(msgspec.Struct):
    code: str
    name: str
    points: float


class BonusItems(msgspec.Struct):
    items: list[BonusItemOut]


class VetoIn(msgspec.Struct, forbid_unknown_fields=True):
    jurisdiction_code: CodeField
    reason: Annotated[str, limited_text(2000, "一票否决的理由")]


class BonusIn(msgspec.Struct, forbid_unknown_fields=True):
    jurisdiction_code: CodeField
    item: str  # the item's code or its Chinese name
    reason: Annotated[str, limited_text(2000, "加分的理由")]


class Recorded(msgspec.Struct):
    period: str
    jurisdiction_code: str


class BonusRecorded(msgspec.Struct):
    period: str
    jurisdiction_code: str
    item: str
    item_name: str


STATUS_NAMES = {service.DRAFT: "草稿", service.PUBLISHED: "已公布", service.SUPERSEDED: "已被新版本替代"}


def context(container: Container) -> service.AssessmentContext:
    return container.context(service.AssessmentContext)


def _run(view: service.RunView) -> RunOut:
    return RunOut(
        period=view.period,
        version=view.version,
        status=view.status,
        status_name=STATUS_NAMES[view.status],
        as_of=view.as_of,
        assessed=view.assessed,
        computed_at=view.computed_at,
        computed_by=view.computed_by,
        stale=view.stale,
        stale_reason=view.stale_reason,
        published_at=view.published_at,
        published_by=view.published_by,
    )


def _standing(standing: service.Standing | None) -> StandingOut | None:
    return None if standing is None else StandingOut(standing.score, standing.grade, standing.rank)


def _out(view: service.ScoreView) -> ScoreOut:
    return ScoreOut(
        jurisdiction_code=view.jurisdiction_code,
        name=view.name,
        level=view.level,
        score=view.score,
        grade=view.grade,
        rank=view.rank,
        peers=view.peers,
        ranked_within=view.ranked_within,
        group_code=view.group_code,
        city_rank=view.city_rank,
        city_peers=view.city_peers,
        district_code=view.district_code,
        district_name=view.district_name,
        vetoed=view.vetoed,
        veto_reason=view.veto_reason,
        components=view.components,
        weighted=view.weighted,
        deductions=[
            DeductionOut(
                d.component,
                d.reason,
                d.points,
                d.task_id,
                d.task_title,
                d.task_unit,
                d.jurisdiction_code,
                d.jurisdiction_name,
            )
            for d in view.deductions
        ],
        deductions_count=view.deductions_count,
    )


class AssessmentController(Controller):
    path = "/assessments"
    tags = ["assessments"]

    @post("/", sync_to_thread=True)
    def compute(
        self, data: JSONBody[RunIn], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> RunOut:
        """Compute a new draft version of a period (2021, 2021Q3) from the record as it stood at as_of."""
        with container.transaction() as session:
            run = service.compute(session, principal, context(container), data.period, data.as_of)
        return _run(run)

    @get("/bonus-items", sync_to_thread=False)
    def bonus_items(self, container: NamedDependency[Container]) -> BonusItems:
        """The rubric's bonus items (加分项): code, Chinese name and points; a bonus is given by either."""
        return BonusItems([BonusItemOut(i.code, i.name, i.points) for i in service.bonus_items(context(container))])

    @get("/{period:str}", sync_to_thread=True)
    def show(
        self,
        period: FromPath[Period],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        version: FromQuery[str | None] = None,
    ) -> RunOut:
        """The version shown by default (the published one; the offices see the newest draft before it)."""
        with container.reading() as session:
            return _run(service.current(session, principal, period, version))

    @get("/{period:str}/versions", sync_to_thread=True)
    def versions(
        self, period: FromPath[Period], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> RunList:
        """Every version of the period the caller may read, newest first."""
        with container.reading() as session:
            return RunList([_run(run) for run in service.versions(session, principal, period)])

    @post("/{period:str}/publish", sync_to_thread=True, status_code=200)
    def publish(
        self, period: FromPath[Period], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> Published:
        """定稿/公布 the newest draft (the city's office): frozen from then on; chiefs see it."""
        with container.transaction() as session:
            run = service.publish(session, principal, context(container), period)
        return Published(run.period, run.version, run.status)

    @get("/{period:str}/changes", sync_to_thread=True)
    def changes(
        self,
        period: FromPath[Period],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        version: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[PageLimit] = None,
    ) -> ChangesOut:
        """A version (the newest draft by default) against the published one: score, grade, rank before/after."""
        size = page_size(container, limit)
        with container.reading() as session:
            found = service.changes(session, principal, period, version, cursor, size)
        return ChangesOut(
            found.period,
            found.published_version,
            found.version,
            [
                ChangeOut(c.jurisdiction_code, c.name, c.level, _standing(c.before), _standing(c.after))
                for c in found.items
            ],
            found.next,
        )

    @get("/{period:str}/scores", sync_to_thread=True)
    def scores(
        self,
        period: FromPath[Period],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        level: FromQuery[LevelQuery] = "district",
        within: FromQuery[RankingScope] = None,
        version: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[PageLimit] = None,
    ) -> ScorePage:
        """Scores of one level with each one's deductions, ranked as offices rank them (a township among its
        district's townships), or city-wide with ``within=city``; the published version unless ``version``
        (``draft``, ``published`` or a number) says otherwise."""
        size = page_size(container, limit)
        with container.reading() as session:
            page = service.list_scores(
                session, principal, context(container), period, level, cursor, size, version=version, within=within
            )
        run = page.run
        return ScorePage(
            run.period, run.version, run.status, run.as_of, run.stale, [_out(v) for v in page.items], page.next
        )

    @get("/{period:str}/jurisdictions/{code:str}", sync_to_thread=True)
    def breakdown(
        self,
        period: FromPath[Period],
        code: FromPath[JurisdictionCode],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        version: FromQuery[str | None] = None,
    ) -> ScoreOut:
        """One jurisdiction's score, components and every deduction."""
        with container.reading() as session:
            return _out(service.breakdown(session, principal, context(container), period, code, version))

    @post("/{period:str}/vetoes", sync_to_thread=True)
    def veto(
        self,
        period: FromPath[Period],
        data: JSONBody[VetoIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> Recorded:
        """一票否决 with its reason (the city's office); the period's versions are marked stale until the
        next computation shows it."""
        with container.transaction() as session:
            service.record_veto(session, principal, context(container), period, data.jurisdiction_code, data.reason)
        return Recorded(period, data.jurisdiction_code)

    @post("/{period:str}/bonuses", sync_to_thread=True)
    def bonus(
        self,
        period: FromPath[Period],
        data: JSONBody[BonusIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> BonusRecorded:
        """Award a bonus item of the rubric by its code or Chinese name (the city's office)."""
        ctx = context(container)
        with container.transaction() as session:
            key = service.award_bonus(session, principal, ctx, period, data.jurisdiction_code, data.item, data.reason)
        return BonusRecorded(period, data.jurisdiction_code, key, ctx.rubric.bonus[key].label)

    @get("/{period:str}/export.xlsx", sync_to_thread=True, media_type=XLSX)
    def export(
        self,
        period: FromPath[Period],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        version: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """The ranking as offices print it: sheets city, district, township, village; the period, as-of
        date, issuing unit and page numbers on every page."""
        ctx = context(container)
        with container.reading() as session:
            run, by_level = service.all_scores(session, principal, ctx, period, version)
        body = workbook(run, ctx.rubric, by_level)
        return Response(
            body,
            media_type=XLSX,
            headers=download_headers(run),
        )
