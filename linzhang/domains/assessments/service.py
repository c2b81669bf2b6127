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
from typing import Any

from sqlalchemy import BigInteger, Subquery, and_, func, insert, literal, or_, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linzhang.clock import SHANGHAI, Clock
from linzhang.deadlines import finished_late
from linzhang.domains.assessments.model import (
    Deduction,
    Facts,
    PatrolMonthFact,
    Period,
    PeriodError,
    Rubric,
    RubricError,
    parse_period,
    parse_rubric,
    rank,
    rank_within,
    score,
)
from linzhang.domains.assessments.tables import bonuses_table as bonuses
from linzhang.domains.assessments.tables import figures_table as figures
from linzhang.domains.assessments.tables import ledger_table as ledger
from linzhang.domains.assessments.tables import patrol_months_table as patrol_months
from linzhang.domains.assessments.tables import results_table as results
from linzhang.domains.assessments.tables import runs_table as runs
from linzhang.domains.assessments.tables import tracked_table as tracked
from linzhang.domains.assessments.tables import vetoes_table as vetoes
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.errors import Conflict, InvalidInput, NotFound, PermissionDenied, not_found
from linzhang.identity import Action, Principal, Role, authorize, can_read
from linzhang.identity.scope import subtree_of
from linzhang.pagination import CursorRank, CursorText, Keyset
from linzhang.paths import in_subtree, path_codes
from linzhang.references import JurisdictionRef
from linzhang.vocabularies import LEVEL_CODES as LEVELS

CODE_COLUMNS = ("city_code", "district_code", "township_code", "village_code")
# The posts of a closed patrol month as a deduction names them (the patrols domain's codes).
POST_NAMES = {"ranger": "护林员", "supervisor": "监管员", "village_chief": "村级林长", "township_chief": "乡镇级林长"}
# Deductions kept with each stored result, largest first; the rest are counted.
DEDUCTIONS_KEPT = 200
# Quantities are stored as ten-thousandths (ScaledDecimal).
SCALE = 10_000
# Changes between two versions: by level (its place in LEVELS), then by code.
BY_LEVEL_AND_CODE = Keyset((), tuple[CursorRank, CursorText], lambda item: [item[0], item[1]])
# Longest reason of a veto or a bonus, in characters.
REASON_MAX = 2000


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
        raise RubricError(f"{path} 不存在") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path}：不是有效的 TOML：{exc}") from None


def period_of(key: str) -> Period:
    try:
        return parse_period(key)
    except PeriodError as exc:
        raise InvalidInput(str(exc), code="period_invalid", field="period") from None


@dataclass
class _Collected:
    targets: list[tuple[int, float, float]] = field(default_factory=list)
    due: list[tuple[int, bool]] = field(default_factory=list)
    escalated: dict[int, int] = field(default_factory=dict)
    issues: list[tuple[int, bool]] = field(default_factory=list)
    sent_back: list[int] = field(default_factory=list)
    patrol_months: list[PatrolMonthFact] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _TaskNote:
    """What a deduction says of its task: its title, the unit of its quantity and its owner."""

    title: str | None
    unit: str | None
    owner_code: str | None


def _figures_as_of(as_of: dt.date) -> Subquery:
    """Each task's figure at the newest revision reported on or before ``as_of``."""
    newest = (
        select(figures.c.task_id, func.max(figures.c.revision).label("revision"))
        .where(figures.c.occurred_on <= as_of)
        .group_by(figures.c.task_id)
        .subquery()
    )
    return (
        select(
            figures.c.task_id,
            type_coerce(figures.c.completed_quantity, BigInteger).label("completed"),
            type_coerce(figures.c.target_quantity, BigInteger).label("target"),
        )
        .join(newest, and_(figures.c.task_id == newest.c.task_id, figures.c.revision == newest.c.revision))
        .subquery()
    )


def _collect(
    session: Session, period: Period, as_of: dt.date, scope_path: str | None
) -> tuple[dict[str, _Collected], dict[int, _TaskNote]]:
    """Facts per jurisdiction code (every level) as the record stood at ``as_of``, and each task's note.

    Tasks that came to be after ``as_of`` are left out, a split after it is not yet a split, the
    figures are those of the newest revision reported by then, a completion after it is not one yet,
    and only escalations and send-backs up to it count. Each task's facts are built once and shared by
    the buckets of its owner and every level above it.
    """
    collected: dict[str, _Collected] = defaultdict(_Collected)
    notes: dict[int, _TaskNote] = {}
    figure = _figures_as_of(as_of)
    query = (
        select(
            tracked.c.task_id,
            tracked.c.kind,
            # A split recorded with no day (before the history was kept) counts as a split at any date.
            and_(tracked.c.split, or_(tracked.c.split_on.is_(None), tracked.c.split_on <= as_of)),
            tracked.c.due_date,
            tracked.c.done_on,
            tracked.c.late,
            # The stored ten-thousandths, read as integers: exact, and no Decimal per row.
            func.coalesce(figure.c.target, type_coerce(tracked.c.target_quantity, BigInteger)),
            func.coalesce(figure.c.completed, 0),
            tracked.c.title,
            tracked.c.unit,
            *(tracked.c[column] for column in CODE_COLUMNS),
        )
        .select_from(tracked.outerjoin(figure, figure.c.task_id == tracked.c.task_id))
        .where(
            tracked.c.due_date >= period.start,
            tracked.c.due_date <= period.end,
            or_(tracked.c.created_on.is_(None), tracked.c.created_on <= as_of),
        )
    )
    if scope_path is not None:
        query = query.where(in_subtree(tracked.c.path, scope_path))
    for task_id, kind, split, due_date, done_on, late, target, completed, title, unit, *codes in session.execute(
        query.execution_options(yield_per=20_000)
    ):
        if split:
            continue  # a split target is the sum of its parts: its parts are assessed
        if done_on is not None and done_on > as_of:
            done_on = None
        target_fact = (task_id, (completed or 0) / SCALE, target / SCALE) if kind == "target" and target else None
        # On time as the tasks domain judged it when it closed the task (work submitted on time and accepted
        # later is on time); rows from before that judgement was kept use the one definition of overdue
        # (linzhang.deadlines) that tasks, inboxes and the board use.
        on_time = done_on is not None and (not late if late is not None else not finished_late(due_date, done_on))
        due_fact = (task_id, on_time) if due_date <= as_of else None
        issue_fact = (task_id, done_on is not None) if kind == "issue" else None
        owner = None
        for code in codes:
            if not code:
                continue
            owner = code
            bucket = collected[code]
            if target_fact:
                bucket.targets.append(target_fact)
            if due_fact:
                bucket.due.append(due_fact)
            if issue_fact:
                bucket.issues.append(issue_fact)
        notes[task_id] = _TaskNote(title, unit, owner)
    lines = (
        select(
            ledger.c.task_id,
            ledger.c.fact,
            ledger.c.levels,
            tracked.c.title,
            tracked.c.unit,
            *(ledger.c[c] for c in CODE_COLUMNS),
        )
        .select_from(ledger.outerjoin(tracked, tracked.c.task_id == ledger.c.task_id))
        .where(
            # 问题整改 counts the send-backs of issues (核查); a target sent back at 验收 is not an issue.
            or_(ledger.c.fact == "escalated", and_(ledger.c.fact == "sent_back", tracked.c.kind == "issue")),
            ledger.c.occurred_on >= period.start,
            ledger.c.occurred_on <= min(period.end, as_of),
        )
    )
    if scope_path is not None:
        lines = lines.where(in_subtree(ledger.c.path, scope_path))
    for task_id, fact, levels, title, unit, *codes in session.execute(lines.execution_options(yield_per=20_000)):
        owner = None
        for code in codes:
            if not code:
                continue
            owner = code
            bucket = collected[code]
            if fact == "escalated":
                bucket.escalated[task_id] = max(bucket.escalated.get(task_id, 0), levels)
            else:
                bucket.sent_back.append(task_id)
        if task_id not in notes:
            notes[task_id] = _TaskNote(title, unit, owner)
    _collect_patrol_months(session, period, as_of, scope_path, collected)
    return collected, notes


def _collect_patrol_months(
    session: Session, period: Period, as_of: dt.date, scope_path: str | None, collected: dict[str, _Collected]
) -> None:
    """巡林履职: the person-months of the period closed by ``as_of`` (a month counts once it has ended)."""
    months = select(
        patrol_months.c.year,
        patrol_months.c.month,
        patrol_months.c.person_kind,
        patrol_months.c.person_id,
        patrol_months.c.person_name,
        patrol_months.c.post,
        patrol_months.c.valid_days,
        patrol_months.c.required_days,
        *(patrol_months.c[c] for c in CODE_COLUMNS),
    ).where(
        patrol_months.c.month_end >= period.start,
        patrol_months.c.month_end <= min(period.end, as_of),
    )
    if scope_path is not None:
        months = months.where(in_subtree(patrol_months.c.path, scope_path))
    for year, month, kind, person_id, name, post, valid, required, *codes in session.execute(
        months.execution_options(yield_per=20_000)
    ):
        fact = PatrolMonthFact(year, month, kind, person_id, f"{POST_NAMES.get(post, '')}{name}", valid, required)
        for code in codes:
            if code:
                collected[code].patrol_months.append(fact)


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
        patrol_months=c.patrol_months,
    )


DRAFT, PUBLISHED, SUPERSEDED = "draft", "published", "superseded"


@dataclass(frozen=True, slots=True)
class RunView:
    """One version of a period's assessment."""

    period: str
    version: int
    status: str  # draft | published | superseded
    as_of: dt.date
    assessed: int
    computed_at: dt.datetime
    computed_by: str
    stale: bool
    stale_reason: str | None
    published_at: dt.datetime | None
    published_by: str | None


def _run_view(row: Any) -> RunView:
    return RunView(
        period=row.period,
        version=row.version,
        status=row.status,
        as_of=row.as_of,
        assessed=row.assessed,
        computed_at=row.computed_at,
        computed_by=row.computed_by,
        stale=bool(row.stale),
        stale_reason=row.stale_reason,
        published_at=row.published_at,
        published_by=row.published_by,
    )


def _kept_order(deduction: Deduction) -> tuple[float, str, int, str]:
    return (deduction.points, deduction.component, deduction.task_id or 0, deduction.reason)


def _deduction_item(deduction: Deduction, notes: dict[int, _TaskNote], names: dict[str, str]) -> dict[str, object]:
    note = notes.get(deduction.task_id) if deduction.task_id is not None else None
    owner = note.owner_code if note else None
    return {
        "component": deduction.component,
        "reason": deduction.reason,
        "points": deduction.points,
        "task_id": deduction.task_id,
        "task_title": note.title if note else None,
        "task_unit": note.unit if note else None,
        "jurisdiction_code": owner,
        "jurisdiction_name": names.get(owner) if owner else None,
    }


def _group_code(unit: JurisdictionRef, group_level: str) -> str:
    """The code of the unit of ``group_level`` a unit's peers share ("" for the whole city)."""
    if group_level == "city":
        return ""
    codes = path_codes(unit.path)
    index = LEVELS.index(group_level)
    return codes[index] if len(codes) > index else ""


def compute(
    session: Session, principal: Principal, ctx: AssessmentContext, period_key: str, as_of: dt.date | None
) -> RunView:
    """Score every jurisdiction for the period from the record as it stood at ``as_of``, and rank peers.

    Each computation is a new draft version of the period; older drafts are superseded, a published
    version stays as it was. The same record and rubric give the same scores: nothing here depends on
    the order rows come in, nor on anything recorded after ``as_of``.
    """
    # Assessing is the city office's act (and administrators'): it is authorized at the caller's own level.
    authorize(principal, Action.ASSESS, principal.path)
    period = period_of(period_key)
    day = min(as_of or ctx.today(), period.end)
    if day < period.start:
        raise InvalidInput(
            f"考核截止日期 {day} 早于考核期 {period.key} 的开始日期 {period.start}",
            code="as_of_before_period",
            field="as_of",
        )
    if day > ctx.today():
        raise InvalidInput(
            f"考核截止日期 {day} 晚于今天 {ctx.today()}：尚未发生的记录无法考核", code="as_of_in_future", field="as_of"
        )
    # One computation of a period at a time: the version numbers follow one another.
    previous = session.execute(
        select(runs.c.id, runs.c.version)
        .where(runs.c.period == period.key)
        .order_by(runs.c.id.desc())
        .with_for_update()
    ).first()
    version = (previous.version if previous else 0) + 1
    collecting = gc.isenabled()
    # Millions of short-lived, acyclic facts: the cyclic collector would only walk them again and again.
    gc.disable()
    try:
        collected, notes = _collect(session, period, day, None)
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
        session.execute(
            runs.update().where(runs.c.period == period.key, runs.c.status == DRAFT).values(status=SUPERSEDED)
        )
        try:
            run_id = session.execute(
                insert(runs)
                .values(
                    period=period.key,
                    version=version,
                    status=DRAFT,
                    as_of=day,
                    computed_at=now,
                    computed_by=principal.shown_as,
                    rubric_digest=ctx.rubric_digest,
                    assessed=0,
                    stale=False,
                )
                .returning(runs.c.id)
            ).scalar_one()
        except IntegrityError:
            # Another computation of the period took this version number first (the lock above holds
            # nothing while the period has no run yet): nothing of this one is kept.
            raise Conflict(
                f"考核期 {period.key} 正在由他人计算，请稍后重试", code="assessment_computing", field="period"
            ) from None
        units_of = {level: jurisdictions.at_level(session, level) for level in LEVELS}
        names = {unit.code: unit.name for units in units_of.values() for unit in units}
        assessed = 0
        for level in LEVELS:
            units = units_of[level]
            group_level = ctx.rubric.group_level(level)
            rows: list[dict[str, object]] = []
            entries: list[tuple[str, str, float | None, bool]] = []
            for unit in units:
                # One unit at a time: its facts are dropped once scored, its deductions cut to those kept.
                result = score(
                    _facts(collected.pop(unit.code, None), bonus_of.get(unit.code, []), veto_of.get(unit.code)),
                    ctx.rubric,
                )
                kept = heapq.nsmallest(DEDUCTIONS_KEPT, result.breakdown, key=_kept_order)
                group = _group_code(unit, group_level)
                entries.append((unit.code, group, result.total, result.vetoed))
                codes = path_codes(unit.path)
                district = codes[1] if len(codes) > 1 else None
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
                        "peers": 0,
                        "group_code": group,
                        "city_rank": None,
                        "city_peers": len(units),
                        "district_code": district,
                        "district_name": names.get(district) if district else None,
                        "vetoed": result.vetoed,
                        "veto_reason": veto_of.get(unit.code),
                        "components": json.dumps({c.name: c.score for c in result.components}),
                        "weighted": json.dumps(result.weighted),
                        "deductions": json.dumps(
                            {
                                "count": len(result.breakdown),
                                "items": [_deduction_item(d, notes, names) for d in kept],
                            },
                            ensure_ascii=False,
                        ),
                    }
                )
                assessed += result.total is not None
            in_group = rank_within(entries)
            city_wide = rank([(code, total, vetoed) for code, _, total, vetoed in entries])
            for row in rows:
                code = str(row["jurisdiction_code"])
                row["rank"], row["peers"] = in_group[code]
                row["city_rank"] = city_wide.get(code)
            for start in range(0, len(rows), 5000):
                session.execute(insert(results), rows[start : start + 5000])
    finally:
        if collecting:
            gc.enable()
    session.execute(runs.update().where(runs.c.id == run_id).values(assessed=assessed))
    return _run_view(session.execute(select(runs).where(runs.c.id == run_id)).one())


def _may_read_drafts(principal: Principal) -> bool:
    """Drafts are the offices' working copies (林长办 and administrators); chiefs see what is published."""
    return principal.is_admin or principal.role is Role.OFFICE or Action.ASSESS in principal.grants


def _versions(session: Session, period: Period) -> list[Any]:
    return list(session.execute(select(runs).where(runs.c.period == period.key).order_by(runs.c.version.desc())))


def _chosen_run(session: Session, principal: Principal, period_key: str, version: str | None) -> Any:
    """The version to read: the published one by default (the newest draft when none is published, for
    the offices), ``draft`` for the newest draft, or a version number."""
    period = period_of(period_key)
    if version == "draft" and not _may_read_drafts(principal):
        raise PermissionDenied("考核草稿仅林长办可查看", code="assessment_draft_forbidden")
    versions = _versions(session, period)
    readable = [v for v in versions if v.published_at is not None or _may_read_drafts(principal)]
    if not readable:
        raise NotFound(f"{period.key} 的考核结果尚未公布", code="assessment_not_found")
    if version is None:
        published = [v for v in readable if v.status == PUBLISHED]
        return published[0] if published else readable[0]
    if version == "draft":
        drafts = [v for v in versions if v.status == DRAFT]
        if not drafts:
            raise NotFound(f"{period.key} 没有待公布的考核草稿", code="assessment_draft_not_found")
        return drafts[0]
    if version == "published":
        published = [v for v in versions if v.status == PUBLISHED]
        if not published:
            raise NotFound(f"{period.key} 的考核结果尚未公布", code="assessment_not_published")
        return published[0]
    if not version.isascii() or not version.isdigit() or len(version) > 6:
        raise InvalidInput(
            "version 应为版本号、draft（草稿）或 published（已公布）", code="version_invalid", field="version"
        )
    for row in readable:
        if row.version == int(version):
            return row
    raise NotFound(f"{period.key} 没有第 {int(version)} 版考核结果", code="assessment_version_not_found")


def current(session: Session, principal: Principal, period_key: str, version: str | None = None) -> RunView:
    """The version a reader sees by default (or the one asked for), with its status and staleness."""
    return _run_view(_chosen_run(session, principal, period_key, version))


def versions(session: Session, principal: Principal, period_key: str) -> list[RunView]:
    """Every version of the period the caller may read, newest first."""
    period = period_of(period_key)
    rows = [v for v in _versions(session, period) if v.published_at is not None or _may_read_drafts(principal)]
    if not rows:
        raise NotFound(f"{period.key} 的考核结果尚未公布", code="assessment_not_found")
    return [_run_view(row) for row in rows]


def publish(session: Session, principal: Principal, ctx: AssessmentContext, period_key: str) -> RunView:
    """定稿/公布: the newest draft becomes the period's published version and is frozen from then on.

    A stale draft (a veto or bonus recorded after it was computed) is refused: recompute first.
    """
    authorize(principal, Action.ASSESS, principal.path)
    period = period_of(period_key)
    rows = session.execute(
        select(runs).where(runs.c.period == period.key).order_by(runs.c.version.desc()).with_for_update()
    ).all()
    if not rows:
        raise NotFound(f"{period.key} 尚未计算考核结果", code="assessment_not_found")
    newest = rows[0]
    if newest.status == PUBLISHED:
        raise Conflict(
            f"{period.key} 第 {newest.version} 版已公布，没有新的草稿可公布", code="assessment_already_published"
        )
    if newest.status != DRAFT:
        raise Conflict(f"{period.key} 没有待公布的考核草稿", code="assessment_draft_not_found")
    if newest.stale:
        raise Conflict(
            f"{period.key} 第 {newest.version} 版草稿已过时（{newest.stale_reason}），请重新计算后再公布",
            code="assessment_stale",
        )
    session.execute(
        runs.update().where(runs.c.period == period.key, runs.c.status == PUBLISHED).values(status=SUPERSEDED)
    )
    session.execute(
        runs.update()
        .where(runs.c.id == newest.id)
        .values(status=PUBLISHED, published_at=ctx.clock.now(), published_by=principal.shown_as)
    )
    return _run_view(session.execute(select(runs).where(runs.c.id == newest.id)).one())


def _mark_stale(session: Session, period: Period, reason: str) -> None:
    """A draft or published version no longer shows everything recorded: say so, never wait silently."""
    session.execute(
        runs.update()
        .where(runs.c.period == period.key, runs.c.status.in_((DRAFT, PUBLISHED)), runs.c.stale.is_(False))
        .values(stale=True, stale_reason=reason)
    )


@dataclass(frozen=True, slots=True)
class Standing:
    score: float | None
    grade: str | None
    rank: int | None


@dataclass(frozen=True, slots=True)
class Change:
    jurisdiction_code: str
    name: str
    level: str
    before: Standing | None
    after: Standing | None


@dataclass(frozen=True, slots=True)
class Changes:
    period: str
    published_version: int
    version: int
    items: list[Change]
    next: str | None


def changes(
    session: Session, principal: Principal, period_key: str, version: str | None, cursor: str | None, limit: int
) -> Changes:
    """What a version changes against the published one, per jurisdiction: score, grade and rank."""
    if not _may_read_drafts(principal):
        raise PermissionDenied("考核版本差异仅林长办可查看", code="assessment_draft_forbidden")
    period = period_of(period_key)
    base = next((v for v in _versions(session, period) if v.status == PUBLISHED), None)
    if base is None:
        raise NotFound(f"{period.key} 的考核结果尚未公布，没有可比较的版本", code="assessment_not_published")
    other = _chosen_run(session, principal, period_key, "draft" if version is None else version)
    scope = subtree_of(principal)

    def standings(run_id: int) -> dict[str, Any]:
        rows = session.execute(
            select(
                results.c.jurisdiction_code,
                results.c.name,
                results.c.level,
                results.c.score,
                results.c.grade,
                results.c.rank,
            ).where(results.c.run_id == run_id, in_subtree(results.c.path, scope))
        )
        return {row.jurisdiction_code: row for row in rows}

    before, after = standings(base.id), standings(other.id)
    items: list[tuple[int, str, Change]] = []
    for code in before.keys() | after.keys():
        old, new = before.get(code), after.get(code)
        old_standing = Standing(old.score, old.grade, old.rank) if old else None
        new_standing = Standing(new.score, new.grade, new.rank) if new else None
        if old_standing == new_standing:
            continue
        row = new if new is not None else old
        assert row is not None  # the code came from one of the two
        items.append((LEVELS.index(row.level), code, Change(code, row.name, row.level, old_standing, new_standing)))
    items.sort(key=lambda item: (item[0], item[1]))
    page = BY_LEVEL_AND_CODE.items(items, cursor, limit)
    return Changes(period.key, base.version, other.version, [item[2] for item in page.items], page.next)


@dataclass(frozen=True, slots=True)
class DeductionView:
    component: str
    reason: str
    points: float
    task_id: int | None
    task_title: str | None = None
    task_unit: str | None = None
    jurisdiction_code: str | None = None  # the unit responsible for the task (its owner)
    jurisdiction_name: str | None = None


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
    ranked_within: str  # the level whose units group the peers ("city": city-wide)
    group_code: str | None
    city_rank: int | None
    city_peers: int
    district_code: str | None
    district_name: str | None
    weighted: dict[str, float | None]


def computed_periods(session: Session) -> list[str]:
    """The periods that have been computed, latest first (years before their quarters)."""
    rows = session.execute(select(runs.c.period).distinct()).scalars()
    return sorted(rows, key=lambda key: (key[:4], len(key) == 4, key), reverse=True)


def _score_view(row: Any, within_city: bool, group_level: str) -> ScoreView:
    deductions = json.loads(row.deductions)
    city = within_city or group_level == "city"
    return ScoreView(
        jurisdiction_code=row.jurisdiction_code,
        name=row.name,
        level=row.level,
        score=row.score,
        grade=row.grade,
        rank=row.city_rank if city else row.rank,
        peers=row.city_peers if city else row.peers,
        vetoed=row.vetoed,
        veto_reason=row.veto_reason,
        components=json.loads(row.components),
        deductions=[DeductionView(**item) for item in deductions["items"]],
        deductions_count=deductions["count"],
        ranked_within="city" if city else group_level,
        group_code=None if city else row.group_code,
        city_rank=row.city_rank,
        city_peers=row.city_peers,
        district_code=row.district_code,
        district_name=row.district_name,
        weighted=json.loads(row.weighted or "{}"),
    )


def _within(ctx: AssessmentContext, level: str, within: str | None) -> bool:
    """Whether the city-wide ranking is asked for; anything but the city or the office's group is refused."""
    group_level = ctx.rubric.group_level(level)
    if within is None or within == group_level:
        return group_level == "city"
    if within == "city":
        return True
    raise InvalidInput(
        f"{level} 级的排名范围可为 city（全市）或 {group_level}（考核办法规定的范围），不能是 {within!r}",
        code="ranking_scope_invalid",
        field="within",
    )


@dataclass(frozen=True, slots=True)
class ScorePage:
    run: RunView
    items: list[ScoreView]
    next: str | None


NO_RANK = 1_000_000_000


def list_scores(
    session: Session,
    principal: Principal,
    ctx: AssessmentContext,
    period_key: str,
    level: str,
    cursor: str | None,
    limit: int,
    *,
    version: str | None = None,
    within: str | None = None,
) -> ScorePage:
    """Scores of one level in the caller's subtree: by group (a township among its district's), best
    rank first (unranked last), or city-wide with ``within=city``."""
    if level not in LEVELS:
        raise InvalidInput("level 应为 city、district、township 或 village", code="level_invalid", field="level")
    city = _within(ctx, level, within)
    run = _chosen_run(session, principal, period_key, version)
    rank_key = func.coalesce(results.c.city_rank if city else results.c.rank, NO_RANK)
    group_key = literal("") if city else results.c.group_code
    query = select(results).where(
        results.c.run_id == run.id, results.c.level == level, in_subtree(results.c.path, subtree_of(principal))
    )

    def key_of(row: Any) -> list[object]:
        position = row.city_rank if city else row.rank
        return ["" if city else row.group_code, position if position is not None else NO_RANK, row.jurisdiction_code]

    by_rank = Keyset(
        (group_key, rank_key, results.c.jurisdiction_code), tuple[CursorText, CursorRank, CursorText], key_of
    )
    page = by_rank.page(session, query, cursor, limit)
    group_level = ctx.rubric.group_level(level)
    return ScorePage(_run_view(run), [_score_view(row, city, group_level) for row in page.items], page.next)


def all_scores(
    session: Session, principal: Principal, ctx: AssessmentContext, period_key: str, version: str | None = None
) -> tuple[RunView, dict[str, list[ScoreView]]]:
    """Every level's scores in the caller's subtree, ranked as offices print them (for the workbook)."""
    run = _chosen_run(session, principal, period_key, version)
    rows = session.execute(
        select(results)
        .where(results.c.run_id == run.id, in_subtree(results.c.path, subtree_of(principal)))
        .order_by(results.c.group_code, func.coalesce(results.c.rank, NO_RANK), results.c.jurisdiction_code)
    ).all()
    by_level: dict[str, list[ScoreView]] = {level: [] for level in LEVELS}
    for row in rows:
        by_level[row.level].append(_score_view(row, False, ctx.rubric.group_level(row.level)))
    return _run_view(run), by_level


def breakdown(
    session: Session,
    principal: Principal,
    ctx: AssessmentContext,
    period_key: str,
    code: str,
    version: str | None = None,
) -> ScoreView:
    run = _chosen_run(session, principal, period_key, version)
    row = session.execute(
        select(results).where(results.c.run_id == run.id, results.c.jurisdiction_code == code)
    ).first()
    # Outside the caller's subtree answers exactly as a code with no result.
    if row is None or not can_read(principal, row.path):
        raise not_found("assessment")
    return _score_view(row, False, ctx.rubric.group_level(row.level))


def _target(session: Session, principal: Principal, code: str) -> str:
    reference = jurisdictions.lookup(session, code)
    if reference is None:
        raise not_found("jurisdiction", field="jurisdiction_code")
    authorize(principal, Action.ASSESS, reference.path, what="jurisdiction", field="jurisdiction_code")
    return reference.path


def record_veto(
    session: Session, principal: Principal, ctx: AssessmentContext, period_key: str, code: str, reason: str
) -> None:
    """一票否决 (a major forest fire, serious illegal deforestation): the grade fails whatever the points.

    The period's draft and published versions are marked stale: the veto shows from the next version.
    """
    period = period_of(period_key)
    path = _target(session, principal, code)
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidInput(f"一票否决须写明理由（不超过 {REASON_MAX} 字）", code="reason_required", field="reason")
    if session.execute(
        select(vetoes.c.id).where(vetoes.c.period == period.key, vetoes.c.jurisdiction_code == code)
    ).first():
        raise Conflict(f"{code} 在 {period.key} 已被一票否决", code="veto_exists")
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
    _mark_stale(session, period, f"其后记录了 {code} 的一票否决")


@dataclass(frozen=True, slots=True)
class BonusItemView:
    code: str
    name: str
    points: float


def bonus_items(ctx: AssessmentContext) -> list[BonusItemView]:
    """The rubric's bonus items (加分项) with their Chinese names and points."""
    return [BonusItemView(item.key, item.label, item.points) for item in ctx.rubric.bonus.values()]


def _bonus_item(ctx: AssessmentContext, given: str) -> str:
    """A bonus item by its code or its Chinese name."""
    given = given.strip()
    for item in ctx.rubric.bonus.values():
        if given in (item.key, item.label):
            return item.key
    listed = "、".join(f"{item.key}（{item.label}）" for item in ctx.rubric.bonus.values())
    raise InvalidInput(f"没有加分项 {given!r}；可选：{listed}", code="bonus_item_unknown", field="item")


def award_bonus(
    session: Session, principal: Principal, ctx: AssessmentContext, period_key: str, code: str, item: str, reason: str
) -> str:
    """A bonus item of the rubric (加分项), given by code or Chinese name, for a jurisdiction and period.

    Marks the period's versions stale like a veto; returns the item's code.
    """
    period = period_of(period_key)
    path = _target(session, principal, code)
    key = _bonus_item(ctx, item)
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidInput(f"加分须写明理由（不超过 {REASON_MAX} 字）", code="reason_required", field="reason")
    exists = session.execute(
        select(bonuses.c.id).where(
            bonuses.c.period == period.key, bonuses.c.jurisdiction_code == code, bonuses.c.item == key
        )
    ).first()
    if exists:
        raise Conflict(f"{code} 在 {period.key} 已获加分项 {ctx.rubric.bonus[key].label}", code="bonus_exists")
    session.execute(
        insert(bonuses).values(
            period=period.key,
            jurisdiction_code=code,
            path=path,
            item=key,
            reason=reason,
            recorded_by=principal.shown_as,
            recorded_at=ctx.clock.now(),
        )
    )
    _mark_stale(session, period, f"其后记录了 {code} 的加分项 {ctx.rubric.bonus[key].label}")
    return key
