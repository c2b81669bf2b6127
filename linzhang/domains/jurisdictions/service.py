"""Use cases of the jurisdictions domain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session

from linzhang.bus import publish
from linzhang.clock import Clock
from linzhang.contracts import ChiefAppointed, ChiefTermEnded, JurisdictionCreated, JurisdictionRenamed
from linzhang.domains.jurisdictions.model import (
    Division,
    InvalidDivision,
    Level,
    PlacedDivision,
    parse_division,
    place_divisions,
)
from linzhang.domains.jurisdictions.tables import chief_terms_table as t
from linzhang.domains.jurisdictions.tables import units_table as u
from linzhang.errors import Conflict, InvalidInput, not_found
from linzhang.identity import Action, Principal, authorize
from linzhang.identity.scope import subtree_of
from linzhang.pagination import CursorText, Keyset, Page
from linzhang.paths import in_subtree, path_codes


@dataclass(frozen=True, slots=True)
class JurisdictionView:
    code: str
    name: str
    level: str
    parent_code: str | None
    path: list[str]


@dataclass(frozen=True, slots=True)
class Gap:
    code: str
    name: str
    level: str


@dataclass(frozen=True, slots=True)
class Coverage:
    code: str
    total: int
    covered: int
    gaps: list[Gap]
    gaps_truncated: bool


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    renamed: int
    unchanged: int


_COLUMNS = (u.c.code, u.c.name, u.c.level, u.c.parent_code, u.c.path)
# Listings come in path order: a subtree is a range of it.
BY_PATH = Keyset((u.c.path,), CursorText, lambda row: row.path)


def _view(row: object) -> JurisdictionView:
    return JurisdictionView(
        row.code,  # type: ignore[attr-defined]
        row.name,  # type: ignore[attr-defined]
        row.level,  # type: ignore[attr-defined]
        row.parent_code,  # type: ignore[attr-defined]
        path_codes(row.path),  # type: ignore[attr-defined]
    )


def _load_visible(session: Session, principal: Principal, code: str) -> object:
    row = session.execute(select(*_COLUMNS).where(u.c.code == code)).first()
    if row is None:
        raise not_found("jurisdiction")
    authorize(principal, Action.READ, row.path, what="jurisdiction")
    return row


def get_jurisdiction(session: Session, principal: Principal, code: str) -> JurisdictionView:
    """One jurisdiction the principal may see; 404 otherwise."""
    return _view(_load_visible(session, principal, code))


def list_children(session: Session, principal: Principal, code: str) -> list[JurisdictionView]:
    _load_visible(session, principal, code)
    rows = session.execute(select(*_COLUMNS).where(u.c.parent_code == code).order_by(u.c.code)).all()
    return [_view(row) for row in rows]


def list_subtree(
    session: Session,
    principal: Principal,
    *,
    under: str | None,
    level: Level | None,
    cursor: str | None,
    limit: int,
) -> Page[JurisdictionView]:
    """Jurisdictions in a subtree (the principal's own when ``under`` is not given), in path order."""
    scope = _load_visible(session, principal, under).path if under else subtree_of(principal)  # type: ignore[attr-defined]
    query = select(*_COLUMNS).where(in_subtree(u.c.path, scope))
    if level is not None:
        query = query.where(u.c.level == level.value)
    page = BY_PATH.page(session, query, cursor, limit)
    return Page([_view(row) for row in page.items], page.next)


def coverage(session: Session, principal: Principal, code: str, gaps_limit: int) -> Coverage:
    """全域覆盖: how many jurisdictions in the subtree have a chief in office, and which have none."""
    unit = _load_visible(session, principal, code)
    scope = in_subtree(u.c.path, unit.path)  # type: ignore[attr-defined]
    total, covered = session.execute(
        select(func.count(), func.coalesce(func.sum(case((u.c.active_chiefs > 0, 1), else_=0)), 0)).where(scope)
    ).one()
    gaps = session.execute(
        select(u.c.code, u.c.name, u.c.level)
        .where(scope, u.c.active_chiefs == 0)
        .order_by(u.c.path)
        .limit(gaps_limit + 1)
    ).all()
    return Coverage(
        code,
        int(total),
        int(covered),
        [Gap(row.code, row.name, row.level) for row in gaps[:gaps_limit]],
        len(gaps) > gaps_limit,
    )


def create_jurisdiction(
    session: Session, principal: Principal, clock: Clock, *, code: str, name: str, level: str, parent_code: str | None
) -> JurisdictionView:
    """Add one division (administrators only)."""
    authorize(principal, Action.MANAGE_JURISDICTIONS)
    try:
        division = parse_division(code, name, level, parent_code)
    except InvalidDivision as exc:
        raise InvalidInput(exc.reason, code=exc.code) from None
    if session.execute(select(u.c.code).where(u.c.code == division.code)).first():
        raise Conflict(f"辖区 {division.code} 已存在", code="jurisdiction_exists", jurisdiction_code=division.code)
    existing = _load_existing(session, [division])
    try:
        (placed,) = place_divisions([(1, division)], existing)
    except InvalidDivision as exc:
        raise InvalidInput(exc.reason, code=exc.code) from None
    _insert(session, clock, [placed])
    return JurisdictionView(placed.code, placed.name, placed.level.value, placed.parent_code, path_codes(placed.path))


def import_divisions(session: Session, clock: Clock, rows: Iterable[tuple[int, Division]]) -> ImportReport:
    """Load or update the tree from ``(line, division)`` rows, all or nothing, idempotently.

    New codes are added; known codes under the same parent get their new name; everything else is a
    rule broken, reported as :class:`InvalidDivision` with its line, and nothing is written.
    """
    rows = list(rows)
    existing = _load_existing(session, [division for _, division in rows])
    placed = place_divisions(rows, existing)
    new = [division for division in placed if division.code not in existing]
    renamed = [
        division for division in placed if division.code in existing and existing[division.code].name != division.name
    ]
    _insert(session, clock, new)
    now = clock.now()
    for division in renamed:
        old = existing[division.code]
        session.execute(update(u).where(u.c.code == division.code).values(name=division.name, updated_at=now))
        publish(
            session,
            JurisdictionRenamed(
                code=division.code, old_name=old.name, name=division.name, path=old.path, occurred_at=now
            ),
        )
    return ImportReport(len(new), len(renamed), len(placed) - len(new) - len(renamed))


def _load_existing(session: Session, divisions: list[Division]) -> dict[str, PlacedDivision]:
    """The known divisions an import can touch: its own codes and its parents (few queries, any size)."""
    codes = {d.code for d in divisions} | {d.parent_code for d in divisions if d.parent_code}
    found: dict[str, PlacedDivision] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 900):  # stay under SQLite's bound-parameter limit
        chunk = ordered[start : start + 900]
        for row in session.execute(select(*_COLUMNS).where(u.c.code.in_(chunk))):
            found[row.code] = PlacedDivision(row.code, row.name, Level(row.level), row.parent_code, row.path)
    return found


def _insert(session: Session, clock: Clock, divisions: list[PlacedDivision]) -> None:
    if not divisions:
        return
    now = clock.now()
    session.execute(
        insert(u),
        [
            {
                "code": d.code,
                "name": d.name,
                "level": d.level.value,
                "parent_code": d.parent_code,
                "path": d.path,
                "active_chiefs": 0,
                "created_at": now,
                "updated_at": now,
            }
            for d in divisions
        ],
    )
    publish(
        session,
        *(
            JurisdictionCreated(
                code=d.code, name=d.name, level=d.level.value, parent_code=d.parent_code, path=d.path, occurred_at=now
            )
            for d in divisions
        ),
    )


def record_chief_appointed(session: Session, event: ChiefAppointed) -> None:
    """Coverage projection: the chief is in office, unless its term's end was already recorded."""
    _record_term(session, event.chief_id, event.jurisdiction_code, active=True)


def record_chief_term_ended(session: Session, event: ChiefTermEnded) -> None:
    """Coverage projection: the chief's term is over."""
    _record_term(session, event.chief_id, event.jurisdiction_code, active=False)


def _record_term(session: Session, chief_id: int, code: str, *, active: bool) -> None:
    # Lock the unit first: two chief events for one unit handled at once would otherwise each recount
    # from a snapshot without the other's change, and the later commit would win with a stale count.
    session.execute(select(u.c.code).where(u.c.code == code).with_for_update())
    known = session.execute(select(t.c.active).where(t.c.chief_id == chief_id)).first()
    if known is None:
        session.execute(insert(t).values(chief_id=chief_id, jurisdiction_code=code, active=active))
    elif not active:
        # An end is final: an appointment handled after it does not revive the term.
        session.execute(update(t).where(t.c.chief_id == chief_id).values(active=False))
    in_office = select(func.count()).where(t.c.jurisdiction_code == code, t.c.active.is_(True)).scalar_subquery()
    session.execute(update(u).where(u.c.code == code).values(active_chiefs=in_office))
