"""林长体系: the tree of jurisdictions with each level's chiefs and the gaps, a district at a time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.orm import Session

from linzhang.container import Container
from linzhang.domains.chiefs import service as chiefs
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.jurisdictions import service as divisions
from linzhang.errors import NotFound
from linzhang.identity import Principal, can_read
from linzhang.web.common import page_limit
from linzhang.web.session import Viewer


@dataclass
class Node:
    code: str
    name: str
    level: str
    chiefs: list[chiefs.ChiefView] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    @property
    def gap(self) -> bool:
        """No chief in office: a hole in 全域覆盖."""
        return not self.chiefs

    @property
    def gaps_below(self) -> int:
        """Gaps strictly below this node."""
        return sum(int(child.gap) + child.gaps_below for child in self.children)


def _all_units(session: Session, principal: Principal, code: str, limit: int) -> list[divisions.JurisdictionView]:
    units, cursor = [], None
    while True:
        page = divisions.list_subtree(session, principal, under=code, level=None, cursor=cursor, limit=limit)
        units.extend(page.items)
        if page.next is None:
            return units
        cursor = page.next


def _all_chiefs(session: Session, principal: Principal, code: str, subtree: bool, limit: int) -> list[chiefs.ChiefView]:
    found, cursor = [], None
    while True:
        page = chiefs.list_chiefs(
            session,
            principal,
            jurisdictions.lookup,
            jurisdiction_code=code,
            subtree=subtree,
            active=True,
            cursor=cursor,
            limit=limit,
        )
        found.extend(page.items)
        if page.next is None:
            return found
        cursor = page.next


ROLE_ORDER = {"general": 0, "deputy": 1, "chief": 2}


class CoverageController(Controller):
    include_in_schema = False

    @get("/coverage", sync_to_thread=True)
    def coverage(
        self,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
        code: FromQuery[str | None] = None,
    ) -> Template:
        """The city: its chiefs and each district's coverage. A district (or below): the whole tree."""
        principal = viewer.principal
        limit = page_limit(container)
        with container.reading() as session:
            root_code = code or principal.jurisdiction_code or _city_code(session)
            root = divisions.get_jurisdiction(session, principal, root_code)
            if root.level == "city":
                root_chiefs = _all_chiefs(session, principal, root.code, False, limit)
                districts = divisions.list_children(session, principal, root.code)
                summary = [(d, divisions.coverage(session, principal, d.code, 0)) for d in districts]
                return Template(
                    template_name="coverage_city.html",
                    context={
                        "viewer": viewer,
                        "active": "coverage",
                        "root": root,
                        "chiefs": sorted(root_chiefs, key=lambda c: ROLE_ORDER.get(c.role.value, 9)),
                        "summary": summary,
                    },
                )
            units = _all_units(session, principal, root.code, limit)
            appointed = _all_chiefs(session, principal, root.code, True, limit)
            total = divisions.coverage(session, principal, root.code, 0)
            parent = jurisdictions.lookup(session, root.parent_code) if root.parent_code else None
        by_code: dict[str, list[chiefs.ChiefView]] = defaultdict(list)
        for chief in appointed:
            by_code[chief.jurisdiction_code].append(chief)
        nodes = {
            unit.code: Node(
                unit.code,
                unit.name,
                unit.level,
                sorted(by_code.get(unit.code, []), key=lambda c: ROLE_ORDER.get(c.role.value, 9)),
            )
            for unit in units
        }
        for unit in units:
            if unit.parent_code in nodes and unit.code != root.code:
                nodes[unit.parent_code].children.append(nodes[unit.code])
        tree = nodes[root.code]
        return Template(
            template_name="coverage.html",
            context={
                "viewer": viewer,
                "active": "coverage",
                "tree": tree,
                "coverage": total,
                "gaps": sum(1 for node in nodes.values() if node.gap),
                "up": parent if parent is not None and can_read(principal, parent.path) else None,
            },
        )


def _city_code(session: Session) -> str:
    cities = jurisdictions.at_level(session, "city")
    if not cities:
        raise NotFound("还没有导入行政区划", code="no_divisions")
    return cities[0].code
