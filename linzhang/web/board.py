"""督办看板: the escalation board of the city and of each district, charts and items; it refreshes itself."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.orm import Session

from linzhang.container import Container
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.patrols import service as patrols
from linzhang.domains.patrols.model import SHANGHAI
from linzhang.domains.tasks import supervision
from linzhang.errors import NotFound
from linzhang.web.common import category_name, names, page_limit, tasks_context
from linzhang.web.session import Viewer


def _patrol_compliance(
    session: Session, viewer: Viewer, container: Container, district_code: str | None
) -> dict[str, Any] | None:
    """This month's patrol compliance per district (the city's board) or per township (a district's)."""
    code = district_code or viewer.principal.jurisdiction_code
    if code is None:
        cities = jurisdictions.at_level(session, "city")
        if not cities:
            return None
        code = cities[0].code
    today = container.clock.now().astimezone(SHANGHAI).date()
    whole, areas = patrols.compliance_by_area(
        session,
        viewer.principal,
        container.context(patrols.PatrolsContext),
        jurisdiction_code=code,
        year=today.year,
        month=today.month,
    )
    place = jurisdictions.lookup(session, whole.jurisdiction_code)
    parts = "区县" if place is not None and place.level == "city" else "乡镇（街道）"
    return {"whole": whole, "areas": areas, "parts": parts, "month": f"{today.year:04d}-{today.month:02d}"}


class BoardController(Controller):
    include_in_schema = False

    @get("/board", sync_to_thread=True)
    def board(
        self,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
        district: FromQuery[str | None] = None,
    ) -> Template:
        """The city's board (or a district's own); ``district`` narrows the city's board to one district."""
        if not viewer.sees_board:
            # Below the districts there is no board: the same answer as for a page that does not exist.
            raise NotFound("没有这个页面，或您无权查看", code="page_not_found")
        level = viewer.level
        ctx = tasks_context(container)
        district_code = district or None
        with container.reading() as session:
            board = supervision.escalation_board(
                session, viewer.principal, ctx, level, None, page_limit(container), district_code
            )
            weekly = supervision.escalations_per_week(
                session, viewer.principal, ctx, level, ctx.today().year, district_code
            )
            codes = [code for item in board.items for code in (*item.path, item.holder_code)]
            named = names(session, [*codes, *(c.code for c in board.by_district), district_code])
            patrolled = _patrol_compliance(session, viewer, container, district_code)
        charts: dict[str, Any] = {
            "districts": [{"code": c.code, "name": c.name or c.code, "count": c.count} for c in board.by_district],
            "categories": [
                {"name": category_name(container, c.code or None), "count": c.count} for c in board.by_category
            ],
            "aging": [{"name": f"{c.name}天", "count": c.count} for c in board.aging],
            "weekly": [{"week": w.week_start.isoformat(), "count": w.count} for w in weekly],
        }
        return Template(
            template_name="board.html",
            context={
                "viewer": viewer,
                "active": "board",
                "board": board,
                "named": named,
                "district": district_code,
                "charts_json": json.dumps(charts, ensure_ascii=False),
                "refresh_seconds": container.settings.web.board_refresh_seconds,
                "category_name": lambda code: category_name(container, code),
                "year": ctx.today().year,
                "patrols": patrolled,
            },
        )
