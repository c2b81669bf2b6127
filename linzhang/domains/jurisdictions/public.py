"""Read facade of the jurisdictions domain: the one synchronous cross-domain call (docs/architecture.md, rule 2).

Other domains look up a code's level and path here, so that a chief appointed in a village created a
second ago works at once. Read-only; nothing here changes state.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from linzhang.domains.jurisdictions.tables import units_table as u
from linzhang.references import JurisdictionRef


def lookup(session: Session, code: str) -> JurisdictionRef | None:
    """The jurisdiction with ``code``, or None."""
    row = session.execute(
        select(u.c.code, u.c.name, u.c.level, u.c.parent_code, u.c.path).where(u.c.code == code)
    ).first()
    return JurisdictionRef(*row) if row else None


def lookup_many(session: Session, codes: list[str]) -> dict[str, JurisdictionRef]:
    """The jurisdictions among ``codes`` that exist, by code."""
    if not codes:
        return {}
    rows = session.execute(
        select(u.c.code, u.c.name, u.c.level, u.c.parent_code, u.c.path).where(u.c.code.in_(set(codes)))
    ).all()
    return {row.code: JurisdictionRef(*row) for row in rows}


def names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """The names of the jurisdictions among ``codes`` that exist, by code (one query for a page)."""
    if not codes:
        return {}
    rows = session.execute(select(u.c.code, u.c.name).where(u.c.code.in_(set(codes)))).all()
    return {row.code: row.name for row in rows}


def children(session: Session, code: str) -> dict[str, str]:
    """The direct children of ``code``: code to name."""
    rows = session.execute(select(u.c.code, u.c.name).where(u.c.parent_code == code)).all()
    return {row.code: row.name for row in rows}


def at_level(session: Session, level: str) -> list[JurisdictionRef]:
    """Every jurisdiction of a level, by code."""
    rows = session.execute(
        select(u.c.code, u.c.name, u.c.level, u.c.parent_code, u.c.path).where(u.c.level == level).order_by(u.c.code)
    ).all()
    return [JurisdictionRef(*row) for row in rows]
