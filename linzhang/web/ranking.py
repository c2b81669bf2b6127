"""考核排名: scores, grades and deductions per level, townships within their district, the workbook."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from linzhang.container import Container
from linzhang.domains.assessments import service as assessments
from linzhang.domains.assessments.export import XLSX, download_headers, workbook
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.errors import InvalidInput, NotFound
from linzhang.vocabularies import LEVEL_CODES as LEVELS
from linzhang.web.common import page_limit
from linzhang.web.session import Viewer


def _context(container: Container) -> assessments.AssessmentContext:
    return container.context(assessments.AssessmentContext)


def _levels_for(viewer: Viewer) -> list[str]:
    """The levels a viewer ranks: those below its own (its own too, for a village)."""
    below = list(LEVELS[LEVELS.index(viewer.level) + 1 :])
    return below or [viewer.level]


class RankingController(Controller):
    include_in_schema = False

    @get("/ranking", sync_to_thread=True)
    def ranking(
        self,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
        period: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        version: FromQuery[str | None] = None,
    ) -> Template:
        levels = _levels_for(viewer)
        chosen = level or levels[0]
        if chosen not in levels:
            raise InvalidInput("没有这个层级的排名", code="unknown_level", field="level")
        ctx = _context(container)
        rubric = ctx.rubric
        groups: list[tuple[str, list[assessments.ScoreView]]] = []
        with container.reading() as session:
            periods = assessments.computed_periods(session)
            key = period or (periods[0] if periods else None)
            if key is not None:
                scores: list[assessments.ScoreView] = []
                cursor = None
                while True:
                    # The published version unless an office asks for the draft (?version=draft).
                    try:
                        page = assessments.list_scores(
                            session, viewer.principal, ctx, key, chosen, cursor, page_limit(container), version=version
                        )
                    except NotFound:
                        break  # nothing published yet for this reader
                    scores.extend(page.items)
                    if page.next is None:
                        break
                    cursor = page.next
                if chosen in {"township", "village"}:
                    # Townships (villages) within their district (township), best first in each.
                    refs = jurisdictions.lookup_many(session, [s.jurisdiction_code for s in scores])
                    parents = {code: ref.parent_code or "" for code, ref in refs.items()}
                    parent_refs = jurisdictions.lookup_many(session, [p for p in parents.values() if p])
                    grouped: dict[str, list[assessments.ScoreView]] = defaultdict(list)
                    for score in scores:
                        grouped[parents.get(score.jurisdiction_code, "")].append(score)
                    groups = [
                        (parent_refs[code].name if code in parent_refs else code, grouped[code])
                        for code in sorted(grouped)
                    ]
                else:
                    groups = [("", scores)]
        return Template(
            template_name="ranking.html",
            context={
                "viewer": viewer,
                "active": "ranking",
                "periods": periods,
                "period": key,
                "levels": levels,
                "level": chosen,
                "groups": groups,
                "component_labels": dict(rubric.labels),
                "deduction_labels": {**rubric.labels, "bonus": "加分"},
            },
        )

    @get("/ranking/export.xlsx", sync_to_thread=True, media_type=XLSX)
    def export(
        self,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
        period: FromQuery[str],
        version: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """The same workbook as the API's export, for the viewer's subtree."""
        ctx = _context(container)
        with container.reading() as session:
            run, by_level = assessments.all_scores(session, viewer.principal, ctx, period, version)
        body = workbook(run, ctx.rubric, by_level)
        return Response(
            body,
            media_type=XLSX,
            headers=download_headers(run),
        )
