"""REST endpoints of the jurisdictions domain."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from linzhang.api.schemas import (
    CODE_PATTERN,
    CODE_TEXT,
    NAME_PATTERN,
    CodeField,
    GapsLimit,
    JurisdictionCode,
    OptionalJurisdictionCode,
    PageLimit,
    documented,
    page_size,
)
from linzhang.container import Container
from linzhang.domains.jurisdictions import service
from linzhang.domains.jurisdictions.model import Level
from linzhang.errors import InvalidInput
from linzhang.identity import Principal

MAX_GAPS = 10_000


class JurisdictionOut(msgspec.Struct):
    code: str
    name: str
    level: str
    parent_code: str | None
    path: list[str]


class JurisdictionList(msgspec.Struct):
    items: list[JurisdictionOut]


class JurisdictionPage(msgspec.Struct):
    items: list[JurisdictionOut]
    next: str | None


class NewJurisdiction(msgspec.Struct, forbid_unknown_fields=True):
    code: CodeField
    name: Annotated[str, documented("名称（不含控制字符）", max_length=100, pattern=NAME_PATTERN)]
    level: Level
    parent_code: Annotated[str | None, documented(CODE_TEXT, pattern=CODE_PATTERN)] = None


class GapOut(msgspec.Struct):
    code: str
    name: str
    level: str


class CoverageOut(msgspec.Struct):
    code: str
    total: int
    covered: int
    gaps: list[GapOut]
    gaps_truncated: bool


def _out(view: service.JurisdictionView) -> JurisdictionOut:
    return JurisdictionOut(view.code, view.name, view.level, view.parent_code, view.path)


class JurisdictionController(Controller):
    path = "/jurisdictions"
    tags = ["jurisdictions"]

    @get("/", sync_to_thread=True)
    def list_jurisdictions(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        under: FromQuery[OptionalJurisdictionCode] = None,
        level: FromQuery[Level | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[PageLimit] = None,
    ) -> JurisdictionPage:
        """The subtree under a jurisdiction (default: the caller's own), in path order, paginated."""
        size = page_size(container, limit)
        with container.reading() as session:
            page = service.list_subtree(session, principal, under=under, level=level, cursor=cursor, limit=size)
        return JurisdictionPage([_out(view) for view in page.items], page.next)

    @get("/{code:str}", sync_to_thread=True)
    def get_jurisdiction(
        self,
        code: FromPath[JurisdictionCode],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> JurisdictionOut:
        """One jurisdiction with its path (codes from the city down)."""
        with container.reading() as session:
            return _out(service.get_jurisdiction(session, principal, code))

    @get("/{code:str}/children", sync_to_thread=True)
    def list_children(
        self,
        code: FromPath[JurisdictionCode],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> JurisdictionList:
        """The divisions directly below one."""
        with container.reading() as session:
            return JurisdictionList([_out(view) for view in service.list_children(session, principal, code)])

    @get("/{code:str}/coverage", sync_to_thread=True)
    def get_coverage(
        self,
        code: FromPath[JurisdictionCode],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        gaps_limit: FromQuery[GapsLimit] = 1000,
    ) -> CoverageOut:
        """全域覆盖: jurisdictions in the subtree with a chief in office, and the gaps (none in office)."""
        if not 0 <= gaps_limit <= MAX_GAPS:
            raise InvalidInput(f"缺口条数须在0至{MAX_GAPS}之间", code="gaps_limit_out_of_range", field="gaps_limit")
        with container.reading() as session:
            result = service.coverage(session, principal, code, gaps_limit)
        return CoverageOut(
            result.code,
            result.total,
            result.covered,
            [GapOut(gap.code, gap.name, gap.level) for gap in result.gaps],
            result.gaps_truncated,
        )

    @post("/", sync_to_thread=True)
    def create_jurisdiction(
        self,
        data: JSONBody[NewJurisdiction],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> JurisdictionOut:
        """Add a division (administrators); its parent must exist one level up."""
        with container.transaction() as session:
            view = service.create_jurisdiction(
                session,
                principal,
                container.clock,
                code=data.code,
                name=data.name,
                level=data.level.value,
                parent_code=data.parent_code,
            )
        return _out(view)
