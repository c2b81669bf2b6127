"""Use cases of the assessments: compute a period, read scores and breakdowns, vetoes, bonuses."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import heapq
import json
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import BigInteger, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from linzhang.clock import SHANGHAI, Clock
from linzhang.deadlines import finished_late
from linzhang.domains.assessments.model import (
    Deduction,
    Facts,
    Period,
    PeriodError,
    Rubric,
    RubricError,
    parse_period,
    parse_rubric,
    rank,
    score,
)
from linzhang.domains.assessments.tables import bonuses_table as bonuses
from linzhang.domains.assessments.tables import ledger_table as ledger
from linzhang.domains.assessments.tables import results_table as results
from linzhang.domains.assessments.tables import runs_table as runs
from linzhang.domains.assessments.tables import tracked_table as tracked
from linzhang.domains.assessments.tables import vetoes_table as vetoes
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.errors import Conflict, InvalidInput, NotFound
from linzhang.identity import Action, Principal, authorize
from linzhang.identity.scope import subtree_of
from linzhang.pagination import CursorRank, CursorText, Page, decode_cursor, page_of
from linzhang.paths import in_subtree

LEVELS = ("city", "district", "township", "village")
CODE_COLUMNS = ("city_code", "district_code", "township_code", "village_code")
# Deductions kept with each stored result, largest first; the rest are counted.
DEDUCTIONS_KEPT = 200
# Quantities are stored as ten-thousandths (ScaledDecimal).
SCALE = 10_000


@dataclass(frozen=True, slots=True)
class AssessmentContext:
    clock: Clock
    rubric: Rubric
    rubric_digest: str

    def today(self) -> dt.date:
        return self.clock.now().astimezone(SHANGHAI).date()


@functools.cache
def rubric_at(path: Path) -> tuple[Rubric, str]:
    """The rubric in a file and a digest of its text (stored with every computation)."""
    try:
        text = path.read_text(encoding="utf-8")
        return parse_rubric(tomllib.loads(text)), hashlib.sha256(text.encode()).hexdigest()
    except FileNotFoundError:
        raise RubricError(f"{path} is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path}: not valid TOML: {exc}") from None


def period_of(key: str) -> Period:
    try:
        return parse_period(key)
    except PeriodError as exc:
        raise InvalidInput(str(exc), field="period") from None


@dataclass
class _Collected:
    targets: list[tuple[int, float, float]] = field(default_factory=list)
    due: list[tuple[int, bool]] = field(default_factory=list)
    escalated: dict[int, int] = field(default_factory=dict)
    issues: list[tuple[int, bool]] = field(default_factory=list)
    sent_back: list[int] = field(default_factory=list)


def _collect(session: Session, period: Period, as_of: dt.date, scope_path: str | None) -> dict[str, _Collected]:
    """Facts per jurisdiction code (every level), from the projection and the ledger.

    Each task's facts are built once and shared by the buckets of its owner and every level above it.
    """
    collected: dict[str, _Collected] = defaultdict(_Collected)
    query = select(
        tracked.c.task_id,
        tracked.c.kind,
        tracked.c.split,
        tracked.c.due_date,
        tracked.c.done_on,
        # The stored ten-thousandths, read as integers: exact, and no Decimal per row.
        type_coerce(tracked.c.target_quantity, BigInteger),
        type_coerce(tracked.c.completed_quantity, BigInteger),
        *(tracked.c[column] for column in CODE_COLUMNS),
    ).where(tracked.c.due_date >= period.start, tracked.c.due_date <= period.end)
    if scope_path is not None:
        query = query.where(in_subtree(tracked.c.path, scope_path))
    for task_id, kind, split, due_date, done_on, target, completed, *codes in session.execute(
        query.execution_options(yield_per=20_000)
    ):
        if split:
            continue  # a split target is the sum of its parts: its parts are assessed
        if done_on is not None and done_on > as_of:
            done_on = None
        target_fact = (task_id, completed / SCALE, target / SCALE) if kind == "target" and target else None
        # On time by the one definition of overdue (linzhang.deadlines) that tasks, inboxes and the board use.
        on_time = done_on is not None and not finished_late(due_date, done_on)
        due_fact = (task_id, on_time) if due_date <= as_of else None
        issue_fact = (task_id, done_on is not None) if kind == "issue" else None
        for code in codes:
            if not code:
                continue
            bucket = collected[code]
            if target_fact:
                bucket.targets.append(target_fact)
            if due_fact:
                bucket.due.append(due_fact)
            if issue_fact:
                bucket.issues.append(issue_fact)
    lines = select(ledger.c.task_id, ledger.c.fact, ledger.c.levels, *(ledger.c[c] for c in CODE_COLUMNS)).where(
        ledger.c.fact.in_(("escalated", "sent_back")),
        ledger.c.occurred_on >= period.start,
        ledger.c.occurred_on <= min(period.end, as_of),
    )
    if scope_path is not None:
        lines = lines.where(in_subtree(ledger.c.path, scope_path))
    for task_id, fact, levels, *codes in session.execute(lines.execution_options(yield_per=20_000)):
        for code in codes:
            if not code:
                continue
            bucket = collected[code]
            if fact == "escalated":
                bucket.escalated[task_id] = max(bucket.escalated.get(task_id, 0), levels)
            else:
                bucket.sent_back.append(task_id)
    return collected


def _facts(collected: _Collected | None, bonus: list[tuple[str, str]], veto: str | None) -> Facts:
    c = collected or _Collected()
    return Facts(
        targets=c.targets,
        due=c.due,
        escalated=sorted(c.escalated.items()),
        issues=c.issues,
        sent_back=c.sent_back,
        bonuses=bonus,
        veto=veto,
    )


@dataclass(frozen=True, slots=True)
class RunView:
    period: str
    status: str
    as_of: dt.date
    assessed: int
    computed_at: dt.datetime


def _kept_order(deduction: Deduction) -> tuple[float, str, int, str]:
    return (deduction.points, deduction.component, deduction.task_id or 0, deduction.reason)


def compute(
    session: Session, principal: Principal, ctx: AssessmentContext, period_key: str, as_of: dt.date | None
) -> RunView:
    """Score every jurisdiction for the period from the ledger and the rubric, and rank peers.

    The same ledger and rubric give the same scores: nothing here depends on the order rows come in.
    """
    # Assessing is the city office's act (and administrators'): it is authorized at the caller's own level.
    authorize(principal, Action.ASSESS, principal.path)
    period = period_of(period_key)
    day = min(as_of or ctx.today(), period.end)
    if day < period.start:
        raise InvalidInput(f"as_of {day} is before the period {period.key} starts", field="as_of")
    collecting = gc.isenabled()
    # Millions of short-lived, acyclic facts: the cyclic collector would only walk them again and again.
    gc.disable()
    try:
        collected = _collect(session, period, day, None)
        veto_of = dict(
            session.execute(
                select(vetoes.c.jurisdiction_code, vetoes.c.reason).where(vetoes.c.period == period.key)
            ).all()
        )
        bonus_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for code, item, reason in session.execute(
            select(bonuses.c.jurisdiction_code, bonuses.c.item, bonuses.c.reason).where(bonuses.c.period == period.key)
        ):
            bonus_of[code].append((item, reason))
        now = ctx.clock.now()
        run_id = session.execute(
            insert(runs)
            .values(
                period=period.key,
                as_of=day,
                computed_at=now,
                computed_by=principal.shown_as,
                rubric_digest=ctx.rubric_digest,
                assessed=0,
            )
            .returning(runs.c.id)
        ).scalar_one()
        assessed = 0
        for level in LEVELS:
            units = jurisdictions.at_level(session, level)
            rows: list[dict[str, object]] = []
            entries: list[tuple[str, float | None, bool]] = []
            for unit in units:
                # One unit at a time: its facts are dropped once scored, its deductions cut to those kept.
                result = score(
                    _facts(collected.pop(unit.code, None), bonus_of.get(unit.code, []), veto_of.get(unit.code)),
                    ctx.rubric,
                )
                kept = heapq.nsmallest(DEDUCTIONS_KEPT, result.breakdown, key=_kept_order)
                entries.append((unit.code, result.total, result.vetoed))
                rows.append(
                    {
                        "run_id": run_id,
                        "jurisdiction_code": unit.code,
                        "name": unit.name,
                        "level": level,
                        "path": unit.path,
                        "score": result.total,
                        "grade": result.grade,
                        "rank": None,
                        "peers": len(units),
                        "vetoed": result.vetoed,
                        "veto_reason": veto_of.get(unit.code),
                        "components": json.dumps({c.name: c.score for c in result.components}),
                        "deductions": json.dumps(
                            {
                                "count": len(result.breakdown),
                                "items": [
                                    {
                                        "component": d.component,
                                        "reason": d.reason,
                                        "points": d.points,
                                        "task_id": d.task_id,
                                    }
                                    for d in kept
                                ],
                            },
                            ensure_ascii=False,
                        ),
                    }
                )
                assessed += result.total is not None
            ranks = rank(entries)
            for row in rows:
                row["rank"] = ranks.get(str(row["jurisdiction_code"]))
            for start in range(0, len(rows), 5000):
                session.execute(insert(results), rows[start : start + 5000])
    finally:
        if collecting:
            gc.enable()
    session.execute(runs.update().where(runs.c.id == run_id).values(assessed=assessed))
    return RunView(period.key, "computed", day, assessed, now)


@dataclass(frozen=True, slots=True)
class DeductionView:
    component: str
    reason: str
    points: float
    task_id: int | None


@dataclass(frozen=True, slots=True)
class ScoreView:
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
    deductions: list[DeductionView]
    deductions_count: int


def computed_periods(session: Session) -> list[str]:
    """The periods that have been computed, latest first (years before their quarters)."""
    rows = session.execute(select(runs.c.period).distinct()).scalars()
    return sorted(rows, key=lambda key: (key[:4], len(key) == 4, key), reverse=True)


def _latest_run(session: Session, period_key: str) -> int:
    run_id = session.execute(
        select(func.max(runs.c.id)).where(runs.c.period == period_of(period_key).key)
    ).scalar_one_or_none()
    if run_id is None:
        raise NotFound(f"no assessment computed for {period_key}")
    return int(run_id)


def _score_view(row: object) -> ScoreView:
    deductions = json.loads(row.deductions)  # type: ignore[attr-defined]
    return ScoreView(
        jurisdiction_code=row.jurisdiction_code,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        level=row.level,  # type: ignore[attr-defined]
        score=row.score,  # type: ignore[attr-defined]
        grade=row.grade,  # type: ignore[attr-defined]
        rank=row.rank,  # type: ignore[attr-defined]
        peers=row.peers,  # type: ignore[attr-defined]
        vetoed=row.vetoed,  # type: ignore[attr-defined]
        veto_reason=row.veto_reason,  # type: ignore[attr-defined]
        components=json.loads(row.components),  # type: ignore[attr-defined]
        deductions=[DeductionView(**item) for item in deductions["items"]],
        deductions_count=deductions["count"],
    )


def list_scores(
    session: Session, principal: Principal, period_key: str, level: str, cursor: str | None, limit: int
) -> Page[ScoreView]:
    """Scores of one level in the caller's subtree, best rank first (unranked last)."""
    if level not in LEVELS:
        raise InvalidInput("level is city, district, township or village", field="level")
    run_id = _latest_run(session, period_key)
    rank_key = func.coalesce(results.c.rank, 1_000_000_000)
    query = select(results).where(
        results.c.run_id == run_id, results.c.level == level, in_subtree(results.c.path, subtree_of(principal))
    )
    after = decode_cursor(cursor, tuple[CursorRank, CursorText])
    if after is not None:
        last_rank, last_code = after
        query = query.where(
            (rank_key > last_rank) | ((rank_key == last_rank) & (results.c.jurisdiction_code > last_code))
        )
    rows = session.execute(query.order_by(rank_key, results.c.jurisdiction_code).limit(limit + 1)).all()
    page = page_of(
        list(rows), limit, lambda row: [row.rank if row.rank is not None else 1_000_000_000, row.jurisdiction_code]
    )
    return Page([_score_view(row) for row in page.items], page.next)


def all_scores(session: Session, principal: Principal, period_key: str) -> tuple[str, dict[str, list[ScoreView]]]:
    """Every level's scores in the caller's subtree, ranked (for the workbook)."""
    run_id = _latest_run(session, period_key)
    rows = session.execute(
        select(results)
        .where(results.c.run_id == run_id, in_subtree(results.c.path, subtree_of(principal)))
        .order_by(func.coalesce(results.c.rank, 1_000_000_000), results.c.jurisdiction_code)
    ).all()
    by_level: dict[str, list[ScoreView]] = {level: [] for level in LEVELS}
    for row in rows:
        by_level[row.level].append(_score_view(row))
    return period_of(period_key).key, by_level


def breakdown(session: Session, principal: Principal, period_key: str, code: str) -> ScoreView:
    run_id = _latest_run(session, period_key)
    row = session.execute(
        select(results).where(results.c.run_id == run_id, results.c.jurisdiction_code == code)
    ).first()
    if row is None:
        raise NotFound(f"no assessment of {code} for {period_key}")
    authorize(principal, Action.READ, row.path, what=f"jurisdiction {code}")
    return _score_view(row)


def _target(session: Session, principal: Principal, code: str) -> str:
    reference = jurisdictions.lookup(session, code)
    if reference is None:
        raise InvalidInput(f"no jurisdiction {code}", field="jurisdiction_code")
    authorize(principal, Action.ASSESS, reference.path, what=f"jurisdiction {code}")
    return reference.path


def record_veto(
    session: Session, principal: Principal, ctx: AssessmentContext, period_key: str, code: str, reason: str
) -> None:
    """一票否决 (a major forest fire, serious illegal deforestation): the grade fails whatever the points."""
    period = period_of(period_key)
    path = _target(session, principal, code)
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise InvalidInput("a veto needs its reason (up to 2000 characters)", field="reason")
    if session.execute(
        select(vetoes.c.id).where(vetoes.c.period == period.key, vetoes.c.jurisdiction_code == code)
    ).first():
        raise Conflict(f"{code} is vetoed for {period.key} already")
    session.execute(
        insert(vetoes).values(
            period=period.key,
            jurisdiction_code=code,
            path=path,
            reason=reason,
            recorded_by=principal.shown_as,
            recorded_at=ctx.clock.now(),
        )
    )


def award_bonus(
    session: Session, principal: Principal, ctx: AssessmentContext, period_key: str, code: str, item: str, reason: str
) -> None:
    """A bonus item of the rubric (加分项) for a jurisdiction and period."""
    period = period_of(period_key)
    path = _target(session, principal, code)
    if item not in ctx.rubric.bonus:
        raise InvalidInput(
            f"no bonus item {item!r}; the rubric has {', '.join(sorted(ctx.rubric.bonus))}", field="item"
        )
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise InvalidInput("a bonus needs its reason (up to 2000 characters)", field="reason")
    exists = session.execute(
        select(bonuses.c.id).where(
            bonuses.c.period == period.key, bonuses.c.jurisdiction_code == code, bonuses.c.item == item
        )
    ).first()
    if exists:
        raise Conflict(f"{code} has the bonus {item} for {period.key} already")
    session.execute(
        insert(bonuses).values(
            period=period.key,
            jurisdiction_code=code,
            path=path,
            item=item,
            reason=reason,
            recorded_by=principal.shown_as,
            recorded_at=ctx.clock.now(),
        )
    )
