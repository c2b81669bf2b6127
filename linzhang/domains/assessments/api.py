"""REST endpoints of the assessments domain."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from linzhang.api.schemas import page_size
from linzhang.container import Container
from linzhang.domains.assessments import service
from linzhang.domains.assessments.export import workbook
from linzhang.identity import Principal

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RunIn(msgspec.Struct, forbid_unknown_fields=True):
    period: str
    as_of: dt.date | None = None


class RunOut(msgspec.Struct):
    period: str
    status: str
    as_of: dt.date
    assessed: int
    computed_at: dt.datetime


class DeductionOut(msgspec.Struct):
    component: str
    reason: str
    points: float
    task_id: int | None


class ScoreOut(msgspec.Struct):
    jurisdiction_code: str
    name: str
    level: str
    score: float | None
    grade: str | None
    rank: int | None
    peers: int
    vetoed: bool
    veto_reason: str | None
    components: dict[str, float | None]
    deductions: list[DeductionOut]
    deductions_count: int


class ScorePage(msgspec.Struct):
    items: list[ScoreOut]
    next: str | None


class VetoIn(msgspec.Struct, forbid_unknown_fields=True):
    jurisdiction_code: str
    reason: str


class BonusIn(msgspec.Struct, forbid_unknown_fields=True):
    jurisdiction_code: str
    item: str
    reason: str


class Recorded(msgspec.Struct):
    period: str
    jurisdiction_code: str


def context(container: Container) -> service.AssessmentContext:
    rubric, digest = service.rubric_at(container.settings.config_file("assessment.toml"))
    return service.AssessmentContext(container.clock, rubric, digest)


def _out(view: service.ScoreView) -> ScoreOut:
    return ScoreOut(
        jurisdiction_code=view.jurisdiction_code,
        name=view.name,
        level=view.level,
        score=view.score,
        grade=view.grade,
        rank=view.rank,
        peers=view.peers,
        vetoed=view.vetoed,
        veto_reason=view.veto_reason,
        components=view.components,
        deductions=[DeductionOut(d.component, d.reason, d.points, d.task_id) for d in view.deductions],
        deductions_count=view.deductions_count,
    )


class AssessmentController(Controller):
    path = "/assessments"
    tags = ["assessments"]

    @post("/", sync_to_thread=True)
    def compute(
        self, data: JSONBody[RunIn], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> RunOut:
        """Compute a period (2021, 2021Q3) from the ledger and the rubric (the city's office)."""
        with container.transaction() as session:
            run = service.compute(session, principal, context(container), data.period, data.as_of)
        return RunOut(run.period, run.status, run.as_of, run.assessed, run.computed_at)

    @get("/{period:str}/scores", sync_to_thread=True)
    def scores(
        self,
        period: FromPath[str],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        level: FromQuery[str] = "district",
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> ScorePage:
        """Scores and ranks among peers of one level, best first, with each one's deductions."""
        size = page_size(container, limit)
        with container.reading() as session:
            page = service.list_scores(session, principal, period, level, cursor, size)
        return ScorePage([_out(view) for view in page.items], page.next)

    @get("/{period:str}/jurisdictions/{code:str}", sync_to_thread=True)
    def breakdown(
        self,
        period: FromPath[str],
        code: FromPath[str],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> ScoreOut:
        """One jurisdiction's score, components and every deduction."""
        with container.reading() as session:
            return _out(service.breakdown(session, principal, period, code))

    @post("/{period:str}/vetoes", sync_to_thread=True)
    def veto(
        self,
        period: FromPath[str],
        data: JSONBody[VetoIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> Recorded:
        """一票否决 with its reason (the city's office); takes effect at the next computation."""
        with container.transaction() as session:
            service.record_veto(session, principal, context(container), period, data.jurisdiction_code, data.reason)
        return Recorded(period, data.jurisdiction_code)

    @post("/{period:str}/bonuses", sync_to_thread=True)
    def bonus(
        self,
        period: FromPath[str],
        data: JSONBody[BonusIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> Recorded:
        """Award a bonus item of the rubric (the city's office)."""
        with container.transaction() as session:
            service.award_bonus(
                session, principal, context(container), period, data.jurisdiction_code, data.item, data.reason
            )
        return Recorded(period, data.jurisdiction_code)

    @get("/{period:str}/export.xlsx", sync_to_thread=True, media_type=XLSX)
    def export(
        self, period: FromPath[str], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> Response[bytes]:
        """The ranking as a workbook: one sheet per level, Chinese headers, ranks, grades, deductions."""
        with container.reading() as session:
            key, by_level = service.all_scores(session, principal, period)
        body = workbook(key, context(container).rubric, by_level)
        return Response(
            body,
            media_type=XLSX,
            headers={"content-disposition": f'attachment; filename="assessment-{key}.xlsx"'},
        )
