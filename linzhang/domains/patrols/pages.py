"""The patrols pages: the ranger's phone page, a patrol with its track drawn, the month's compliance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template

from linzhang.api.schemas import Id64
from linzhang.container import Container
from linzhang.domains.patrols import service
from linzhang.domains.patrols.api import PointBatchIn, parse_month, read_field_report
from linzhang.domains.patrols.model import SHANGHAI, TrackPoint
from linzhang.identity import Role
from linzhang.web.session import Viewer

SVG_WIDTH = 640
SVG_HEIGHT = 400
SVG_MARGIN = 16


@dataclass(frozen=True, slots=True)
class Drawing:
    """A track as an SVG polyline: positions projected to the box, north up, the scale kept."""

    points: str
    start: tuple[float, float] | None
    end: tuple[float, float] | None
    width: int = SVG_WIDTH
    height: int = SVG_HEIGHT


def draw(track: list[TrackPoint]) -> Drawing:
    if not track:
        return Drawing("", None, None)
    mean_lat = sum(p.lat for p in track) / len(track)
    shrink = math.cos(math.radians(mean_lat))  # a degree of longitude is shorter than one of latitude
    xs = [p.lon * shrink for p in track]
    ys = [p.lat for p in track]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1e-9
    scale = min(SVG_WIDTH, SVG_HEIGHT) - 2 * SVG_MARGIN
    coords = [
        (SVG_MARGIN + (x - min(xs)) / span * scale, SVG_HEIGHT - SVG_MARGIN - (y - min(ys)) / span * scale)
        for x, y in zip(xs, ys, strict=True)
    ]
    return Drawing(" ".join(f"{x:.1f},{y:.1f}" for x, y in coords), coords[0], coords[-1])


def _context(container: Container) -> service.PatrolsContext:
    return container.context(service.PatrolsContext)


def _this_month(container: Container) -> str:
    return container.clock.now().astimezone(SHANGHAI).strftime("%Y-%m")


class PatrolPages(Controller):
    include_in_schema = False

    @get("/patrols", sync_to_thread=True)
    def index(self, viewer: NamedDependency[Viewer], container: NamedDependency[Container]) -> Template:
        """巡林: the phone page of who patrols (start, points, stop, report); the recent patrols in scope."""
        principal = viewer.principal
        ctx = _context(container)
        patrols_anyone = principal.role in (Role.RANGER, Role.CHIEF)
        with container.reading() as session:
            page = service.list_patrols(
                session,
                principal,
                ctx,
                jurisdiction_code=None,
                ranger_id=None,
                day_from=None,
                day_to=None,
                cursor=None,
                limit=30,
            )
            reports = service.list_field_reports(session, principal, ctx, cursor=None, limit=10).items
            live = service.open_patrol_of(session, principal, ctx) if patrols_anyone else None
        return Template(
            template_name="patrols/index.html",
            context={
                "viewer": viewer,
                "active": "patrols",
                "patrols": page.items,
                "reports": reports,
                "live": live,
                "patrols_anyone": patrols_anyone,
                "categories": ctx.categories.terms,
                "month": _this_month(container),
            },
        )

    @post("/patrols/start", sync_to_thread=True)
    def start(self, viewer: NamedDependency[Viewer], container: NamedDependency[Container]) -> Redirect:
        with container.transaction() as session:
            service.start_patrol(session, viewer.principal, _context(container))
        return Redirect("/patrols", status_code=303)

    @post("/patrols/{patrol_id:int}/points", status_code=200, sync_to_thread=True)
    def points(
        self,
        patrol_id: FromPath[Id64],
        data: JSONBody[PointBatchIn],
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
    ) -> dict[str, Any]:
        batch = [service.PointIn(p.lon, p.lat, p.time, p.accuracy) for p in data.points]
        with container.transaction() as session:
            result = service.add_points(
                session, viewer.principal, _context(container), patrol_id, data.batch_key, batch
            )
        return {"stored": result.stored, "duplicate": result.duplicate, "point_count": result.point_count}

    @post("/patrols/{patrol_id:int}/end", sync_to_thread=True)
    def end(
        self, patrol_id: FromPath[Id64], viewer: NamedDependency[Viewer], container: NamedDependency[Container]
    ) -> Redirect:
        with container.transaction() as session:
            service.end_patrol(session, viewer.principal, _context(container), patrol_id)
        return Redirect(f"/patrols/{patrol_id}", status_code=303)

    @post("/patrols/report")
    async def report(
        self,
        request: Request,  # type: ignore[type-arg]
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
    ) -> Redirect:
        new = await read_field_report(request, container.settings.media)

        def record() -> None:
            with container.transaction() as session:
                service.report_problem(session, viewer.principal, _context(container), new)

        await anyio.to_thread.run_sync(record)
        return Redirect("/patrols?reported=1", status_code=303)

    @get("/patrols/{patrol_id:int}", sync_to_thread=True)
    def patrol(
        self, patrol_id: FromPath[Id64], viewer: NamedDependency[Viewer], container: NamedDependency[Container]
    ) -> Template:
        """One patrol: its verdict with the reasons, and its track drawn (inline SVG, no map tiles)."""
        with container.reading() as session:
            view = service.get_patrol(session, viewer.principal, patrol_id)
            track = service.patrol_track(session, viewer.principal, patrol_id)
        return Template(
            template_name="patrols/patrol.html",
            context={"viewer": viewer, "active": "patrols", "patrol": view, "drawing": draw(track)},
        )

    @get("/patrols/compliance", sync_to_thread=True)
    def compliance(
        self,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
        code: FromQuery[str | None] = None,
        month: FromQuery[str | None] = None,
    ) -> Template:
        """The month's patrol compliance of a district or township: each person's valid days."""
        chosen = month or _this_month(container)
        year, number = parse_month(chosen)
        jurisdiction = code or viewer.principal.jurisdiction_code or "50"
        with container.reading() as session:
            result = service.compliance(
                session, viewer.principal, _context(container), jurisdiction_code=jurisdiction, year=year, month=number
            )
        return Template(
            template_name="patrols/compliance.html",
            context={"viewer": viewer, "active": "patrols", "result": result, "month": chosen},
        )
