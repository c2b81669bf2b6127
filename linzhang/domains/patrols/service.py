"""Use cases of the patrols domain: rangers, patrols and their verdicts, patrol areas, compliance."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from linzhang.bus import publish
from linzhang.clock import Clock
from linzhang.contracts.chiefs import ChiefAppointed, ChiefTermEnded
from linzhang.contracts.patrols import PatrolJudged, PatrolMonthClosed, RangerRegistered, RangerReplaced
from linzhang.contracts.reports import ProblemReported, ReportBecameIssue, ReportRefused
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.patrols.model import (
    MAX_POINTS,
    SHANGHAI,
    Area,
    InvalidPatrolInput,
    PatrolRules,
    Post,
    TrackPoint,
    check_person,
    check_point,
    check_post_level,
    fingerprint,
    judge,
    month_bounds,
    parse_area,
    patrol_day,
    required_days,
)
from linzhang.domains.patrols.tables import (
    ChiefPost,
    FieldReport,
    MonthCheck,
    Patrol,
    PatrolArea,
    PointBatch,
    Ranger,
    TrackPointRow,
    points_table,
)
from linzhang.errors import Conflict, InvalidInput, NotFound, PermissionDenied, not_found
from linzhang.identity import Action, Principal, Role, authorize
from linzhang.identity import service as identity
from linzhang.identity.passwords import Passwords
from linzhang.identity.scope import subtree_of
from linzhang.media.service import attach, owner_rule, store_photo
from linzhang.media.store import PhotoStore
from linzhang.media.upload import limits_of
from linzhang.pagination import CursorId32, CursorId64, Page, decode_cursor, page_of
from linzhang.paths import in_subtree, is_within, path_codes, path_of_codes
from linzhang.references import JurisdictionLookup
from linzhang.settings import MediaSettings
from linzhang.vocabularies import Vocabulary

# The most points one batch of a live patrol may carry (a phone sends one every 15 s).
MAX_BATCH_POINTS = 1000
BATCH_KEY_MAX_LENGTH = 100
# Points of a live patrol may start this long before the patrol was started (the phone's first fix).
EARLY_POINT_SECONDS = 120


@dataclass(frozen=True, slots=True)
class PatrolsContext:
    """What the use cases need besides the session and the principal."""

    clock: Clock
    passwords: Passwords
    lookup_jurisdiction: JurisdictionLookup
    rules: PatrolRules
    categories: Vocabulary
    photos: PhotoStore
    media: MediaSettings


def _invalid(exc: InvalidPatrolInput) -> InvalidInput:
    extra: dict[str, Any] = {}
    if exc.field:
        extra["field"] = exc.field
    if exc.line is not None:
        extra["line"] = exc.line
    return InvalidInput(str(exc), code=exc.code, **extra)


def _today(clock: Clock) -> dt.date:
    return clock.now().astimezone(SHANGHAI).date()


# ---------------------------------------------------------------------------------------------- rangers


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class NewRanger:
    name: str
    phone: str
    post: str
    jurisdiction_code: str
    account: Account | None = None


@dataclass(frozen=True, slots=True)
class RangerView:
    id: int
    name: str
    phone: str
    post: Post
    jurisdiction_code: str
    jurisdiction_name: str
    active: bool
    started_on: dt.date
    ended_on: dt.date | None
    predecessor_id: int | None
    successor_id: int | None
    username: str | None


def _ranger_views(session: Session, rangers: Sequence[Ranger]) -> list[RangerView]:
    names = jurisdictions.names(session, sorted({r.jurisdiction_code for r in rangers}))
    return [
        RangerView(
            r.id,
            r.name,
            r.phone,
            Post(r.post),
            r.jurisdiction_code,
            names.get(r.jurisdiction_code, r.jurisdiction_code),
            r.active,
            r.started_on,
            r.ended_on,
            r.predecessor_id,
            r.successor_id,
            r.username,
        )
        for r in rangers
    ]


def _create_ranger(
    session: Session, ctx: PatrolsContext, new: NewRanger, *, path: str, level: str, predecessor_id: int | None
) -> Ranger:
    try:
        person = check_person(new.name, new.phone, new.post)
        check_post_level(person.post, level)
    except InvalidPatrolInput as exc:
        raise _invalid(exc) from None
    taken = session.scalar(select(Ranger.id).where(Ranger.phone == person.phone, Ranger.active.is_(True)).limit(1))
    if taken is not None and taken != predecessor_id:
        raise Conflict(f"电话 {person.phone} 已登记给一名在岗人员", code="phone_taken", field="phone")
    if new.account is not None:
        identity.validate_new_account(new.account.username, new.account.password, min_length=ctx.passwords.min_length)
    ranger = Ranger(
        name=person.name,
        phone=person.phone,
        post=person.post.value,
        jurisdiction_code=new.jurisdiction_code,
        jurisdiction_path=path,
        active=True,
        started_on=_today(ctx.clock),
        predecessor_id=predecessor_id,
        username=new.account.username if new.account else None,
        created_at=ctx.clock.now(),
    )
    session.add(ranger)
    session.flush()
    if new.account is not None:
        user = identity.create_user(
            session,
            ctx.passwords,
            ctx.clock,
            username=new.account.username,
            password=new.account.password,
            role=Role.RANGER,
            jurisdiction_code=new.jurisdiction_code,
            jurisdiction_path=path,
            display_name=person.name,
        )
        ranger.user_id = user.id
    publish(
        session,
        RangerRegistered(
            ranger_id=ranger.id,
            name=ranger.name,
            post=ranger.post,
            jurisdiction_code=ranger.jurisdiction_code,
            path=path,
            started_on=ranger.started_on,
            predecessor_id=predecessor_id,
            occurred_at=ctx.clock.now(),
        ),
    )
    return ranger


def register_ranger(session: Session, principal: Principal, ctx: PatrolsContext, new: NewRanger) -> RangerView:
    """Register a ranger or supervisor in a village or township, optionally with an account."""
    jurisdiction = ctx.lookup_jurisdiction(session, new.jurisdiction_code)
    if jurisdiction is None:
        raise not_found("jurisdiction", field="jurisdiction_code")
    authorize(principal, Action.MANAGE_RANGERS, jurisdiction.path, what="jurisdiction", field="jurisdiction_code")
    ranger = _create_ranger(session, ctx, new, path=jurisdiction.path, level=jurisdiction.level, predecessor_id=None)
    return _ranger_views(session, [ranger])[0]


def replace_ranger(
    session: Session,
    principal: Principal,
    ctx: PatrolsContext,
    ranger_id: int,
    *,
    name: str,
    phone: str,
    account: Account | None = None,
) -> RangerView:
    """A successor takes the post over: the predecessor leaves it and their account stops working."""
    predecessor = session.execute(select(Ranger).where(Ranger.id == ranger_id).with_for_update()).scalar_one_or_none()
    if predecessor is None:
        raise not_found("ranger")
    authorize(principal, Action.MANAGE_RANGERS, predecessor.jurisdiction_path, what="ranger")
    if not predecessor.active:
        raise Conflict(f"该人员已于 {predecessor.ended_on} 离岗", code="ranger_not_active")
    jurisdiction = ctx.lookup_jurisdiction(session, predecessor.jurisdiction_code)
    level = jurisdiction.level if jurisdiction else "village"
    successor = _create_ranger(
        session,
        ctx,
        NewRanger(name, phone, predecessor.post, predecessor.jurisdiction_code, account),
        path=predecessor.jurisdiction_path,
        level=level,
        predecessor_id=predecessor.id,
    )
    today = _today(ctx.clock)
    predecessor.active = False
    predecessor.ended_on = today
    predecessor.successor_id = successor.id
    if predecessor.user_id is not None:
        identity.set_active(session, predecessor.user_id, active=False)
    publish(
        session,
        RangerReplaced(
            predecessor_id=predecessor.id,
            successor_id=successor.id,
            jurisdiction_code=predecessor.jurisdiction_code,
            path=predecessor.jurisdiction_path,
            ended_on=today,
            occurred_at=ctx.clock.now(),
        ),
    )
    return _ranger_views(session, [successor])[0]


def _me(session: Session, principal: Principal) -> Ranger | None:
    """The ranger or supervisor a ranger account belongs to (None for other roles)."""
    if principal.role is not Role.RANGER:
        return None
    return session.scalar(select(Ranger).where(Ranger.user_id == principal.user_id, Ranger.active.is_(True)))


def _may_see_ranger(session: Session, principal: Principal, ranger: Ranger) -> bool:
    """A ranger sees only themself; a supervisor the people of their area; others what their scope holds."""
    if principal.role is not Role.RANGER:
        return True
    me = _me(session, principal)
    if me is None:
        return False
    return me.id == ranger.id or (
        me.post == Post.SUPERVISOR and is_within(ranger.jurisdiction_path, me.jurisdiction_path)
    )


def get_ranger(session: Session, principal: Principal, ranger_id: int) -> RangerView:
    ranger = session.get(Ranger, ranger_id)
    if ranger is None:
        raise not_found("ranger")
    authorize(principal, Action.READ_PATROLS, ranger.jurisdiction_path, what="ranger")
    if not _may_see_ranger(session, principal, ranger):
        raise not_found("ranger")
    return _ranger_views(session, [ranger])[0]


@dataclass(frozen=True, slots=True)
class _ListingScope:
    """Where a listing may look: a subtree, narrowed for a ranger account to their own records (``own``)
    or, for a supervisor, to their area (``area``); ``nothing`` for a ranger account without a post."""

    path: str
    area: str | None = None
    own: int | None = None
    nothing: bool = False


def _listing_scope(
    session: Session, principal: Principal, ctx: PatrolsContext, jurisdiction_code: str | None
) -> _ListingScope:
    """The subtree a listing of rangers or patrols covers, authorized, for the caller (one rule for both)."""
    scope = subtree_of(principal)
    if jurisdiction_code is not None:
        jurisdiction = ctx.lookup_jurisdiction(session, jurisdiction_code)
        if jurisdiction is None:
            raise not_found("jurisdiction")
        scope = jurisdiction.path
    authorize(principal, Action.READ_PATROLS, scope, what="jurisdiction")
    if principal.role is not Role.RANGER:
        return _ListingScope(scope)
    me = _me(session, principal)
    if me is None:
        return _ListingScope(scope, nothing=True)
    if me.post != Post.SUPERVISOR:
        return _ListingScope(scope, own=me.id)
    return _ListingScope(scope, area=me.jurisdiction_path)


def list_rangers(
    session: Session,
    principal: Principal,
    ctx: PatrolsContext,
    *,
    jurisdiction_code: str | None,
    active: bool | None,
    cursor: str | None,
    limit: int,
) -> Page[RangerView]:
    """Rangers and supervisors of a jurisdiction's subtree (the caller's by default), by id."""
    scope = _listing_scope(session, principal, ctx, jurisdiction_code)
    if scope.nothing:
        return Page([], None)
    query = select(Ranger).where(in_subtree(Ranger.jurisdiction_path, scope.path))
    if scope.own is not None:
        query = query.where(Ranger.id == scope.own)
    if scope.area is not None:
        query = query.where(in_subtree(Ranger.jurisdiction_path, scope.area))
    if active is not None:
        query = query.where(Ranger.active.is_(active))
    after = decode_cursor(cursor, CursorId32)
    if after is not None:
        query = query.where(Ranger.id > after)
    rows = list(session.execute(query.order_by(Ranger.id).limit(limit + 1)).scalars())
    page = page_of(rows, limit, lambda ranger: ranger.id)
    return Page(_ranger_views(session, page.items), page.next)


@dataclass(frozen=True, slots=True)
class RangerRow:
    """A line of a ranger file: ``name,phone,jurisdiction_code,post``."""

    line: int
    name: str
    phone: str
    jurisdiction_code: str
    post: str


def import_rangers(session: Session, ctx: PatrolsContext, rows: Sequence[RangerRow]) -> int:
    """Register every row's person, or none: the first bad row raises with its line number.

    Run by an operator from the command line (the system's own act). A row whose person (same phone)
    already holds the same post in the same jurisdiction is skipped, so a file can be imported again.
    """
    seen: dict[str, int] = {}
    created = 0
    for row in rows:
        jurisdiction = ctx.lookup_jurisdiction(session, row.jurisdiction_code.strip())
        if jurisdiction is None:
            raise InvalidPatrolInput(
                f"第{row.line}行：辖区代码 {row.jurisdiction_code} 不存在", code="jurisdiction_not_found", line=row.line
            )
        try:
            person = check_person(row.name, row.phone, row.post)
            check_post_level(person.post, jurisdiction.level)
        except InvalidPatrolInput as exc:
            raise InvalidPatrolInput(f"第{row.line}行：{exc}", code=exc.code, line=row.line) from None
        if person.phone in seen:
            raise InvalidPatrolInput(
                f"第{row.line}行：电话 {person.phone} 与第{seen[person.phone]}行重复",
                code="phone_repeated",
                line=row.line,
            )
        seen[person.phone] = row.line
        existing = session.scalar(select(Ranger).where(Ranger.phone == person.phone, Ranger.active.is_(True)))
        if existing is not None:
            if existing.jurisdiction_code == jurisdiction.code and existing.post == person.post.value:
                continue
            raise InvalidPatrolInput(
                f"第{row.line}行：电话 {person.phone} 已登记给 {existing.jurisdiction_code} 的在岗人员",
                code="phone_taken",
                line=row.line,
            )
        _create_ranger(
            session,
            ctx,
            NewRanger(person.name, person.phone, person.post.value, jurisdiction.code),
            path=jurisdiction.path,
            level=jurisdiction.level,
            predecessor_id=None,
        )
        created += 1
    return created


# ---------------------------------------------------------------------------------------------- areas


def import_areas(session: Session, ctx: PatrolsContext, document: Any) -> int:
    """Store each village's patrol area from a GeoJSON FeatureCollection (``properties.code``); all or none."""
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidPatrolInput("巡护区域文件须为 GeoJSON FeatureCollection", code="areas_file_invalid")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidPatrolInput("巡护区域文件没有任何要素", code="areas_file_empty")
    stored = 0
    seen: set[str] = set()
    for index, feature in enumerate(features, start=1):
        where = f"第{index}个要素："
        properties = feature.get("properties") if isinstance(feature, dict) else None
        code = properties.get("code") if isinstance(properties, dict) else None
        if not isinstance(code, str) or not code.strip():
            raise InvalidPatrolInput(
                f"{where}缺少 properties.code（村的区划代码）", code="area_code_missing", line=index
            )
        code = code.strip()
        if code in seen:
            raise InvalidPatrolInput(f"{where}村 {code} 的区域重复", code="area_repeated", line=index)
        seen.add(code)
        jurisdiction = ctx.lookup_jurisdiction(session, code)
        if jurisdiction is None:
            raise InvalidPatrolInput(f"{where}区划代码 {code} 不存在", code="jurisdiction_not_found", line=index)
        if jurisdiction.level != "village":
            raise InvalidPatrolInput(f"{where}巡护区域按村导入，{code} 不是村", code="area_not_village", line=index)
        try:
            parse_area(feature.get("geometry"), where)
        except InvalidPatrolInput as exc:
            raise InvalidPatrolInput(str(exc), code=exc.code, line=index) from None
        row = session.get(PatrolArea, code)
        geometry = json.dumps(feature["geometry"], separators=(",", ":"))
        if row is None:
            session.add(
                PatrolArea(
                    jurisdiction_code=code,
                    jurisdiction_path=jurisdiction.path,
                    geometry=geometry,
                    updated_at=ctx.clock.now(),
                )
            )
        else:
            row.geometry = geometry
            row.updated_at = ctx.clock.now()
        stored += 1
    return stored


def area_of(session: Session, jurisdiction_code: str) -> Area | None:
    """The patrol area of a village, if it has one."""
    geometry = session.scalar(select(PatrolArea.geometry).where(PatrolArea.jurisdiction_code == jurisdiction_code))
    return parse_area(json.loads(geometry)) if geometry is not None else None


# ---------------------------------------------------------------------------------------------- patrols


@dataclass(frozen=True, slots=True)
class ReasonView:
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class PatrolView:
    id: int
    person_kind: str
    person_id: int
    person_name: str
    post: Post
    jurisdiction_code: str
    jurisdiction_name: str
    source: str
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    day: dt.date
    point_count: int
    distance_m: float | None
    duration_s: float | None
    max_speed_kmh: float | None
    valid: bool | None
    reasons: list[ReasonView]


def _patrol_views(session: Session, patrols: Sequence[Patrol]) -> list[PatrolView]:
    names = jurisdictions.names(session, sorted({p.jurisdiction_code for p in patrols}))
    return [
        PatrolView(
            p.id,
            p.person_kind,
            p.person_id,
            p.person_name,
            Post(p.post),
            p.jurisdiction_code,
            names.get(p.jurisdiction_code, p.jurisdiction_code),
            p.source,
            p.status,
            p.started_at,
            p.ended_at,
            p.day,
            p.point_count,
            p.distance_m,
            p.duration_s,
            p.max_speed_kmh,
            p.valid,
            [ReasonView(r["code"], r["detail"]) for r in json.loads(p.reasons or "[]")],
        )
        for p in patrols
    ]


@dataclass(frozen=True, slots=True)
class Patroller:
    """Who records a patrol: a ranger of this domain or a chief (known by the chief's account)."""

    kind: str  # ranger | chief
    id: int
    name: str
    post: Post
    jurisdiction_code: str
    path: str


def _patroller(session: Session, principal: Principal, ctx: PatrolsContext) -> Patroller:
    authorize(principal, Action.PATROL, principal.path, what="jurisdiction")
    if principal.role is Role.RANGER:
        me = _me(session, principal)
        if me is None:
            raise PermissionDenied("该账号没有在岗的护林员或监管员", code="not_a_patroller")
        return Patroller("ranger", me.id, me.name, Post(me.post), me.jurisdiction_code, me.jurisdiction_path)
    if principal.role is Role.CHIEF and principal.chief_id is not None and principal.jurisdiction_code:
        jurisdiction = ctx.lookup_jurisdiction(session, principal.jurisdiction_code)
        posts = {"village": Post.VILLAGE_CHIEF, "township": Post.TOWNSHIP_CHIEF}
        if jurisdiction is not None and jurisdiction.level in posts:
            return Patroller(
                "chief",
                principal.chief_id,
                principal.shown_as,
                posts[jurisdiction.level],
                jurisdiction.code,
                jurisdiction.path,
            )
    raise PermissionDenied("只有护林员、监管员和村级、乡镇级林长记录巡林", code="not_a_patroller")


def start_patrol(session: Session, principal: Principal, ctx: PatrolsContext) -> PatrolView:
    """Start a live patrol now; the phone then sends its points in batches and ends it."""
    who = _patroller(session, principal, ctx)
    now = ctx.clock.now()
    open_one = session.scalar(
        select(Patrol.id)
        .where(Patrol.person_kind == who.kind, Patrol.person_id == who.id, Patrol.status == "open")
        .limit(1)
    )
    if open_one is not None:
        raise Conflict(
            f"已有进行中的巡护（第 {open_one} 号），请先结束", code="patrol_already_open", patrol_id=open_one
        )
    patrol = _new_patrol(who, "live", now, now)
    session.add(patrol)
    session.flush()
    return _patrol_views(session, [patrol])[0]


def open_patrol_of(session: Session, principal: Principal, ctx: PatrolsContext) -> PatrolView | None:
    """The caller's patrol still under way, if any (None for who does not patrol)."""
    try:
        who = _patroller(session, principal, ctx)
    except (PermissionDenied, NotFound):
        return None
    patrol = session.scalar(
        select(Patrol).where(Patrol.person_kind == who.kind, Patrol.person_id == who.id, Patrol.status == "open")
    )
    return _patrol_views(session, [patrol])[0] if patrol is not None else None


def _new_patrol(who: Patroller, source: str, started_at: dt.datetime, now: dt.datetime) -> Patrol:
    return Patrol(
        person_kind=who.kind,
        person_id=who.id,
        person_name=who.name,
        post=who.post.value,
        jurisdiction_code=who.jurisdiction_code,
        jurisdiction_path=who.path,
        source=source,
        status="open",
        started_at=started_at,
        day=patrol_day(started_at),
        point_count=0,
        reasons="[]",
        created_at=now,
    )


def _own_patrol_for_change(session: Session, principal: Principal, ctx: PatrolsContext, patrol_id: int) -> Patrol:
    who = _patroller(session, principal, ctx)
    patrol = session.execute(select(Patrol).where(Patrol.id == patrol_id).with_for_update()).scalar_one_or_none()
    # Somebody else's patrol is as missing as one that does not exist.
    if patrol is None or patrol.person_kind != who.kind or patrol.person_id != who.id:
        raise not_found("patrol")
    return patrol


@dataclass(frozen=True, slots=True)
class PointIn:
    lon: float
    lat: float
    time: dt.datetime
    accuracy: float | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    patrol_id: int
    batch_key: str
    stored: int
    duplicate: bool
    point_count: int


def add_points(
    session: Session,
    principal: Principal,
    ctx: PatrolsContext,
    patrol_id: int,
    batch_key: str,
    points: Sequence[PointIn],
) -> BatchResult:
    """Append a batch of a live patrol's points; a batch whose key arrived before is stored once."""
    batch_key = batch_key.strip()
    if not batch_key or len(batch_key) > BATCH_KEY_MAX_LENGTH:
        raise InvalidInput(
            f"batch_key 须为1至{BATCH_KEY_MAX_LENGTH}个字符", code="batch_key_invalid", field="batch_key"
        )
    if not points:
        raise InvalidInput("一批至少一个点", code="batch_empty", field="points")
    if len(points) > MAX_BATCH_POINTS:
        raise InvalidInput(f"一批最多{MAX_BATCH_POINTS}个点", code="batch_too_large", field="points")
    patrol = _own_patrol_for_change(session, principal, ctx, patrol_id)
    earlier = session.get(PointBatch, (patrol.id, batch_key))
    if earlier is not None:
        return BatchResult(patrol.id, batch_key, 0, True, patrol.point_count)
    if patrol.status != "open":
        raise Conflict("巡护已结束，轨迹不能再修改", code="patrol_ended")
    now = ctx.clock.now()
    earliest = patrol.started_at - dt.timedelta(seconds=EARLY_POINT_SECONDS)
    latest = now + dt.timedelta(seconds=ctx.rules.max_clock_skew_s)
    checked: list[TrackPoint] = []
    for index, point in enumerate(points):
        try:
            track_point = check_point(point.lon, point.lat, point.time, point.accuracy, index)
        except InvalidPatrolInput as exc:
            raise _invalid(exc) from None
        if not earliest <= track_point.at <= latest:
            raise InvalidInput(
                f"第{index + 1}个点的时间不在本次巡护期间（开始于 {patrol.started_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}）",
                code="point_time_out_of_patrol",
                field="points",
            )
        checked.append(track_point)
    if patrol.point_count + len(checked) > MAX_POINTS:
        raise Conflict(f"一次巡护最多{MAX_POINTS}个点", code="track_too_many_points")
    _store_points(session, patrol, checked)
    session.add(PointBatch(patrol_id=patrol.id, batch_key=batch_key, point_count=len(checked), received_at=now))
    session.flush()
    return BatchResult(patrol.id, batch_key, len(checked), False, patrol.point_count)


def _store_points(session: Session, patrol: Patrol, points: Sequence[TrackPoint]) -> None:
    start = patrol.point_count
    session.execute(
        insert(points_table),
        [
            {"patrol_id": patrol.id, "seq": start + i, "lon": p.lon, "lat": p.lat, "at": p.at, "accuracy": p.accuracy}
            for i, p in enumerate(points)
        ],
    )
    patrol.point_count = start + len(points)


def track_of(session: Session, patrol_id: int) -> list[TrackPoint]:
    rows = session.execute(
        select(TrackPointRow.lon, TrackPointRow.lat, TrackPointRow.at, TrackPointRow.accuracy)
        .where(TrackPointRow.patrol_id == patrol_id)
        .order_by(TrackPointRow.at, TrackPointRow.seq)
    ).all()
    return [TrackPoint(row.lon, row.lat, row.at, row.accuracy) for row in rows]


def _judge(session: Session, ctx: PatrolsContext, patrol: Patrol, points: Sequence[TrackPoint]) -> None:
    """Measure and judge the patrol, fix its track for good and publish the verdict."""
    print_ = fingerprint(points)
    copy_of = session.scalar(
        select(Patrol.id).where(Patrol.fingerprint == print_, Patrol.id != patrol.id).order_by(Patrol.id).limit(1)
    )
    area = area_of(session, patrol.jurisdiction_code)
    verdict = judge(points, ctx.rules, area=area, copy_of=copy_of)
    now = ctx.clock.now()
    if points:
        patrol.started_at = min(patrol.started_at, points[0].at) if patrol.source == "live" else points[0].at
        patrol.day = patrol_day(patrol.started_at)
    patrol.ended_at = points[-1].at if points and patrol.source != "live" else now
    patrol.status = "judged"
    patrol.distance_m = verdict.measure.distance_m
    patrol.duration_s = verdict.measure.duration_s
    patrol.max_speed_kmh = verdict.measure.max_speed_kmh
    patrol.fingerprint = print_
    patrol.valid = verdict.valid
    patrol.reasons = json.dumps(
        [{"code": r.code, "detail": r.detail} for r in verdict.reasons], ensure_ascii=False, separators=(",", ":")
    )
    patrol.judged_at = now
    publish(
        session,
        PatrolJudged(
            patrol_id=patrol.id,
            person_kind=patrol.person_kind,
            person_id=patrol.person_id,
            post=patrol.post,
            jurisdiction_code=patrol.jurisdiction_code,
            path=patrol.jurisdiction_path,
            day=patrol.day,
            valid=verdict.valid,
            distance_m=round(verdict.measure.distance_m, 1),
            duration_s=verdict.measure.duration_s,
            reason_codes=tuple(r.code for r in verdict.reasons),
            occurred_at=now,
        ),
    )


def end_patrol(session: Session, principal: Principal, ctx: PatrolsContext, patrol_id: int) -> PatrolView:
    """End a live patrol: its track is fixed and judged. Ending it again answers the same verdict."""
    patrol = _own_patrol_for_change(session, principal, ctx, patrol_id)
    if patrol.status == "open":
        _judge(session, ctx, patrol, track_of(session, patrol.id))
        session.flush()
    return _patrol_views(session, [patrol])[0]


def upload_track(
    session: Session, principal: Principal, ctx: PatrolsContext, points: Sequence[TrackPoint], source: str
) -> PatrolView:
    """Record a whole patrol from a GPX or GeoJSON track (already parsed), judged at once."""
    who = _patroller(session, principal, ctx)
    now = ctx.clock.now()
    if points[-1].at > now + dt.timedelta(seconds=ctx.rules.max_clock_skew_s):
        raise InvalidInput("轨迹的时间晚于当前时间", code="track_in_future", field="file")
    patrol = _new_patrol(who, source, points[0].at, now)
    session.add(patrol)
    session.flush()
    _store_points(session, patrol, points)
    _judge(session, ctx, patrol, points)
    session.flush()
    return _patrol_views(session, [patrol])[0]


def _ranger_may_read(session: Session, principal: Principal, person_kind: str, person_id: int, path: str) -> bool:
    """A ranger account reads its own records, a supervisor its area's; other roles are not narrowed here
    (their scope was authorized already)."""
    if principal.role is not Role.RANGER:
        return True
    me = _me(session, principal)
    if me is None:
        return False
    mine = person_kind == "ranger" and person_id == me.id
    return mine or (me.post == Post.SUPERVISOR and is_within(path, me.jurisdiction_path))


def _readable_patrol(session: Session, principal: Principal, patrol_id: int) -> Patrol:
    patrol = session.get(Patrol, patrol_id)
    if patrol is None:
        raise not_found("patrol")
    authorize(principal, Action.READ_PATROLS, patrol.jurisdiction_path, what="patrol")
    if not _ranger_may_read(session, principal, patrol.person_kind, patrol.person_id, patrol.jurisdiction_path):
        raise not_found("patrol")
    return patrol


def get_patrol(session: Session, principal: Principal, patrol_id: int) -> PatrolView:
    return _patrol_views(session, [_readable_patrol(session, principal, patrol_id)])[0]


def patrol_track(session: Session, principal: Principal, patrol_id: int) -> list[TrackPoint]:
    patrol = _readable_patrol(session, principal, patrol_id)
    return track_of(session, patrol.id)


def list_patrols(
    session: Session,
    principal: Principal,
    ctx: PatrolsContext,
    *,
    jurisdiction_code: str | None,
    ranger_id: int | None,
    day_from: dt.date | None,
    day_to: dt.date | None,
    cursor: str | None,
    limit: int,
) -> Page[PatrolView]:
    """Patrols in the caller's scope (a ranger: their own; a supervisor: their area's), newest first."""
    scope = _listing_scope(session, principal, ctx, jurisdiction_code)
    if scope.nothing:
        return Page([], None)
    query = select(Patrol).where(in_subtree(Patrol.jurisdiction_path, scope.path))
    if scope.own is not None:
        query = query.where(Patrol.person_kind == "ranger", Patrol.person_id == scope.own)
    if scope.area is not None:
        query = query.where(in_subtree(Patrol.jurisdiction_path, scope.area))
    if ranger_id is not None:
        query = query.where(Patrol.person_kind == "ranger", Patrol.person_id == ranger_id)
    if day_from is not None:
        query = query.where(Patrol.day >= day_from)
    if day_to is not None:
        query = query.where(Patrol.day <= day_to)
    before = decode_cursor(cursor, CursorId64)
    if before is not None:
        query = query.where(Patrol.id < before)
    rows = list(session.execute(query.order_by(Patrol.id.desc()).limit(limit + 1)).scalars())
    page = page_of(rows, limit, lambda patrol: patrol.id)
    return Page(_patrol_views(session, page.items), page.next)


# ---------------------------------------------------------------------------------------------- compliance


@dataclass(frozen=True, slots=True)
class PersonCompliance:
    person_kind: str
    person_id: int
    name: str
    post: Post
    jurisdiction_code: str
    jurisdiction_name: str
    valid_days: int
    required_days: int
    patrols: int
    # In post from and until (a ranger or supervisor); None for a chief, known by their patrols.
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    jurisdiction_path: str = ""

    @property
    def met(self) -> bool:
        return self.valid_days >= self.required_days


@dataclass(frozen=True, slots=True)
class Compliance:
    jurisdiction_code: str
    jurisdiction_name: str
    year: int
    month: int
    fire_season: bool
    people: list[PersonCompliance]

    @property
    def met(self) -> int:
        return sum(1 for person in self.people if person.met)


def _month_compliance(
    session: Session, ctx: PatrolsContext, path: str, year: int, month: int
) -> list[PersonCompliance]:
    """Everyone's valid days and requirement for a month in the subtree at ``path``."""
    first, following = month_bounds(year, month)
    rangers = session.execute(
        select(Ranger).where(
            in_subtree(Ranger.jurisdiction_path, path),
            Ranger.started_on < following,
            (Ranger.ended_on.is_(None)) | (Ranger.ended_on >= first),
        )
    ).scalars()
    rows = session.execute(
        select(
            Patrol.person_kind,
            Patrol.person_id,
            Patrol.person_name,
            Patrol.post,
            Patrol.jurisdiction_code,
            Patrol.jurisdiction_path,
            Patrol.day,
            Patrol.valid,
        ).where(
            in_subtree(Patrol.jurisdiction_path, path),
            Patrol.day >= first,
            Patrol.day < following,
            Patrol.status == "judged",
        )
    ).all()
    people: dict[tuple[str, int], dict[str, Any]] = {}
    for ranger in rangers:
        people[("ranger", ranger.id)] = {
            "name": ranger.name,
            "post": Post(ranger.post),
            "code": ranger.jurisdiction_code,
            "path": ranger.jurisdiction_path,
            "days": set(),
            "patrols": 0,
            "started_on": ranger.started_on,
            "ended_on": ranger.ended_on,
        }
    for row in rows:
        person = people.setdefault(
            (row.person_kind, row.person_id),
            {
                "name": row.person_name,
                "post": Post(row.post),
                "code": row.jurisdiction_code,
                "path": row.jurisdiction_path,
                "days": set(),
                "patrols": 0,
                "started_on": None,
                "ended_on": None,
            },
        )
        person["patrols"] += 1
        if row.valid:
            person["days"].add(row.day)
    chiefs = session.execute(
        select(ChiefPost).where(
            in_subtree(ChiefPost.jurisdiction_path, path),
            ChiefPost.post.is_not(None),
            ChiefPost.started_on < following,
            (ChiefPost.ended_on.is_(None)) | (ChiefPost.ended_on >= first),
        )
    ).scalars()
    for chief in chiefs:
        person = people.setdefault(
            ("chief", chief.chief_id),
            {
                "name": chief.name or "",
                "code": chief.jurisdiction_code,
                "path": chief.jurisdiction_path,
                "days": set(),
                "patrols": 0,
            },
        )
        person["post"] = Post(str(chief.post))
        person["started_on"] = chief.started_on
        person["ended_on"] = chief.ended_on
    names = jurisdictions.names(session, sorted({p["code"] for p in people.values()}))
    return [
        PersonCompliance(
            kind,
            person_id,
            p["name"],
            p["post"],
            p["code"],
            names.get(p["code"], p["code"]),
            len(p["days"]),
            required_days(ctx.rules, p["post"], year, month),
            p["patrols"],
            p["started_on"],
            p["ended_on"],
            p["path"],
        )
        for (kind, person_id), p in sorted(people.items(), key=lambda item: (item[1]["code"], item[0]))
    ]


def compliance(
    session: Session, principal: Principal, ctx: PatrolsContext, *, jurisdiction_code: str, year: int, month: int
) -> Compliance:
    """Each person's valid patrol days in a month against their post's requirement, in a subtree.

    People are the rangers and supervisors in post during the month, the village and township chiefs
    whose term overlaps it (followed from the chiefs' events) and every chief who recorded a patrol in it.
    """
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise InvalidInput("月份须为 YYYY-MM，年份在 2000 至 2100 之间", code="month_invalid", field="month")
    jurisdiction = ctx.lookup_jurisdiction(session, jurisdiction_code)
    if jurisdiction is None:
        raise not_found("jurisdiction")
    authorize(principal, Action.READ_PATROLS, jurisdiction.path, what="jurisdiction")
    if principal.role is Role.RANGER:
        me = _me(session, principal)
        if me is None or me.post != Post.SUPERVISOR:
            raise PermissionDenied("护林员只能查看自己的巡护", code="role_not_permitted")
        if not is_within(jurisdiction.path, me.jurisdiction_path):
            raise not_found("jurisdiction")
    result = _month_compliance(session, ctx, jurisdiction.path, year, month)
    names = jurisdictions.names(session, [jurisdiction.code])
    return Compliance(
        jurisdiction.code,
        names.get(jurisdiction.code, jurisdiction.code),
        year,
        month,
        month in ctx.rules.fire_months,
        result,
    )


@dataclass(frozen=True, slots=True)
class AreaCompliance:
    """A month's compliance of everyone in one part (a district of the city, a township of a district)."""

    code: str
    name: str
    people: int
    met: int
    valid_days: int
    required_days: int

    @property
    def met_percent(self) -> int | None:
        """The share of people meeting their requirement, in whole percent (None without people)."""
        return round(100 * self.met / self.people) if self.people else None


def compliance_by_area(
    session: Session, principal: Principal, ctx: PatrolsContext, *, jurisdiction_code: str, year: int, month: int
) -> tuple[Compliance, list[AreaCompliance]]:
    """A month's compliance in a subtree, summed per direct child (every child, also one without people);
    people of the jurisdiction itself (above its children) are in the whole but in no part."""
    whole = compliance(session, principal, ctx, jurisdiction_code=jurisdiction_code, year=year, month=month)
    parent = ctx.lookup_jurisdiction(session, whole.jurisdiction_code)
    depth = len(path_codes(parent.path)) if parent is not None else 0
    parts = jurisdictions.children(session, whole.jurisdiction_code)
    sums: dict[str, list[int]] = {code: [0, 0, 0, 0] for code in parts}
    for person in whole.people:
        codes = path_codes(person.jurisdiction_path)
        if len(codes) <= depth or codes[depth] not in sums:
            continue
        totals = sums[codes[depth]]
        totals[0] += 1
        totals[1] += person.met
        totals[2] += person.valid_days
        totals[3] += person.required_days
    areas = [AreaCompliance(code, parts[code], *sums[code]) for code in sorted(parts)]
    return whole, areas


# ---------------------------------------------------------------------------------------------- field reports

REPORT_TEXT_MAX_LENGTH = 2000
REPORT_SOURCE = "patrol"
COMPLIANCE_SOURCE = "compliance"
# Event ids of PatrolMonthClosed are derived from the person-month within this namespace.
MONTH_CLOSED_NAMESPACE = uuid.UUID("6f1d3c1e-2b7a-5c44-9a0e-4d3b8e5f7a21")


@dataclass(frozen=True, slots=True)
class NewFieldReport:
    category: str
    text: str
    lon: float
    lat: float
    patrol_id: int | None = None
    photos: Sequence[bytes] = ()


@dataclass(frozen=True, slots=True)
class FieldReportView:
    id: int
    reporter_name: str
    patrol_id: int | None
    category: str
    category_name: str
    text: str
    lon: float
    lat: float
    jurisdiction_code: str
    jurisdiction_name: str
    routed_by_area: bool
    photo_hashes: list[str]
    status: str  # sent | issue | refused
    task_id: int | None
    refusal: str | None
    reported_at: dt.datetime


def _report_views(session: Session, ctx: PatrolsContext, reports: Sequence[FieldReport]) -> list[FieldReportView]:
    names = jurisdictions.names(session, sorted({r.jurisdiction_code for r in reports}))
    return [
        FieldReportView(
            r.id,
            r.reporter_name,
            r.patrol_id,
            r.category,
            ctx.categories.name_of(r.category),
            r.text,
            r.lon,
            r.lat,
            r.jurisdiction_code,
            names.get(r.jurisdiction_code, r.jurisdiction_code),
            r.routed_by_area,
            r.photo_hashes.split(),
            r.status,
            r.task_id,
            r.refusal,
            r.reported_at,
        )
        for r in reports
    ]


def route_point(session: Session, district_path: str, lon: float, lat: float) -> tuple[str, str] | None:
    """The village (code, path) whose patrol area holds the point, among the areas of a district."""
    rows = session.execute(
        select(PatrolArea.jurisdiction_code, PatrolArea.jurisdiction_path, PatrolArea.geometry)
        .where(in_subtree(PatrolArea.jurisdiction_path, district_path))
        .order_by(PatrolArea.jurisdiction_code)
    ).all()
    for row in rows:
        if parse_area(json.loads(row.geometry)).contains(lon, lat):
            return row.jurisdiction_code, row.jurisdiction_path
    return None


def report_problem(session: Session, principal: Principal, ctx: PatrolsContext, new: NewFieldReport) -> FieldReportView:
    """A ranger or chief reports a problem found in the field; it becomes an issue in the village whose
    patrol area holds the point (else the reporter's own jurisdiction), through the report intake."""
    who = _patroller(session, principal, ctx)
    if new.category not in ctx.categories:
        allowed = "、".join(ctx.categories.codes)
        raise InvalidInput(f"类别须为 {allowed} 之一", code="category_unknown", field="category")
    text = new.text.strip()
    if not text:
        raise InvalidInput("请描述发现的问题", code="text_required", field="text")
    if len(text) > REPORT_TEXT_MAX_LENGTH:
        raise InvalidInput(f"描述不能超过{REPORT_TEXT_MAX_LENGTH}字", code="text_too_long", field="text")
    try:
        check_point(new.lon, new.lat, ctx.clock.now(), None)
    except InvalidPatrolInput as exc:
        raise InvalidInput(str(exc).replace("第1个点的", ""), code=exc.code, field="lon") from None
    if new.patrol_id is not None:
        patrol = session.get(Patrol, new.patrol_id)
        if patrol is None or patrol.person_kind != who.kind or patrol.person_id != who.id:
            raise not_found("patrol", field="patrol_id")
    if len(new.photos) > ctx.media.max_photos_per_report:
        raise InvalidInput(f"照片不能超过 {ctx.media.max_photos_per_report} 张", code="too_many_photos", field="photos")
    now = ctx.clock.now()
    stored = [store_photo(session, ctx.photos, data, limits_of(ctx.media), now) for data in new.photos]
    district = path_of_codes(path_codes(who.path)[:2])
    routed = route_point(session, district, new.lon, new.lat)
    code, path = routed if routed else (who.jurisdiction_code, who.path)
    report = FieldReport(
        reporter_kind=who.kind,
        reporter_id=who.id,
        reporter_name=who.name,
        reporter_path=who.path,
        jurisdiction_code=code,
        jurisdiction_path=path,
        routed_by_area=routed is not None,
        patrol_id=new.patrol_id,
        category=new.category,
        text=text,
        lon=new.lon,
        lat=new.lat,
        photo_hashes=" ".join(photo.sha256 for photo in stored),
        status="sent",
        reported_at=now,
    )
    session.add(report)
    session.flush()
    for photo in stored:
        # Readable by who may read the reporter's jurisdiction or the issue's.
        attach(session, photo.sha256, owner_kind="field_report", owner_ref=str(report.id), owner_path=who.path, now=now)
        if path != who.path:
            attach(
                session,
                photo.sha256,
                owner_kind="field_report_issue",
                owner_ref=str(report.id),
                owner_path=path,
                now=now,
            )
    category_name = ctx.categories.name_of(new.category)
    publish(
        session,
        ProblemReported(
            source=REPORT_SOURCE,
            reference=str(report.id),
            jurisdiction_code=code,
            category=new.category,
            title=f"巡林发现：{category_name}（{who.name}）"[:200],
            text=text,
            reported_at=now,
            reported_by=f"{who.post.label}{who.name}",
            longitude=new.lon,
            latitude=new.lat,
            photo_hashes=[photo.sha256 for photo in stored],
            occurred_at=now,
        ),
    )
    return _report_views(session, ctx, [report])[0]


def _readable_report(session: Session, principal: Principal, report_id: int) -> FieldReport:
    report = session.get(FieldReport, report_id)
    if report is None:
        raise not_found("field_report")
    authorize(principal, Action.READ_PATROLS, report.reporter_path, what="field_report")
    if not _ranger_may_read(session, principal, report.reporter_kind, report.reporter_id, report.reporter_path):
        raise not_found("field_report")
    return report


@owner_rule("field_report")
def may_read_field_report(session: Session, principal: Principal, owner_ref: str) -> bool:
    """A field report's photos are seen by whoever may read the report (a ranger: their own; a
    supervisor: their area's; chiefs and offices: their subtree's)."""
    try:
        _readable_report(session, principal, int(owner_ref))
    except (NotFound, PermissionDenied):
        return False
    return True


def get_field_report(session: Session, principal: Principal, ctx: PatrolsContext, report_id: int) -> FieldReportView:
    return _report_views(session, ctx, [_readable_report(session, principal, report_id)])[0]


def list_field_reports(
    session: Session, principal: Principal, ctx: PatrolsContext, *, cursor: str | None, limit: int
) -> Page[FieldReportView]:
    """Field reports the caller may see (a ranger: their own), newest first."""
    scope = subtree_of(principal)
    authorize(principal, Action.READ_PATROLS, scope, what="jurisdiction")
    query = select(FieldReport).where(in_subtree(FieldReport.reporter_path, scope))
    if principal.role is Role.RANGER:
        me = _me(session, principal)
        if me is None:
            return Page([], None)
        if me.post != Post.SUPERVISOR:
            query = query.where(FieldReport.reporter_kind == "ranger", FieldReport.reporter_id == me.id)
    before = decode_cursor(cursor, CursorId64)
    if before is not None:
        query = query.where(FieldReport.id < before)
    rows = list(session.execute(query.order_by(FieldReport.id.desc()).limit(limit + 1)).scalars())
    page = page_of(rows, limit, lambda report: report.id)
    return Page(_report_views(session, ctx, page.items), page.next)


def on_report_became_issue(session: Session, event: ReportBecameIssue) -> None:
    """The intake made our field report an issue: remember the task (order-independent, idempotent)."""
    if event.source != REPORT_SOURCE or not event.reference.isdigit():
        return
    report = session.get(FieldReport, int(event.reference))
    if report is not None:
        report.status = "issue"
        report.task_id = event.task_id
        report.refusal = None


def on_report_refused(session: Session, event: ReportRefused) -> None:
    if event.source != REPORT_SOURCE or not event.reference.isdigit():
        return
    report = session.get(FieldReport, int(event.reference))
    if report is not None and report.status != "issue":
        report.status = "refused"
        report.refusal = event.detail


# ---------------------------------------------------------------------------------------------- chiefs

CHIEF_POSTS = {"village": Post.VILLAGE_CHIEF, "township": Post.TOWNSHIP_CHIEF}


def on_chief_appointed(session: Session, ctx: PatrolsContext, event: ChiefAppointed) -> None:
    """A chief's term began: a village or township chief owes patrol days from its first day."""
    jurisdiction = ctx.lookup_jurisdiction(session, event.jurisdiction_code)
    post = CHIEF_POSTS.get(jurisdiction.level) if jurisdiction is not None else None
    row = session.get(ChiefPost, event.chief_id, with_for_update=True)
    if row is None:
        row = ChiefPost(chief_id=event.chief_id)
        session.add(row)
    row.jurisdiction_code, row.jurisdiction_path = event.jurisdiction_code, event.path
    row.name, row.started_on = event.name[:50], event.term_start
    row.post = post.value if post is not None else None


def on_chief_term_ended(session: Session, event: ChiefTermEnded) -> None:
    """A chief's term ended (replaced or removed); the appointment may arrive after this."""
    row = session.get(ChiefPost, event.chief_id, with_for_update=True)
    if row is None:
        row = ChiefPost(
            chief_id=event.chief_id, jurisdiction_code=event.jurisdiction_code, jurisdiction_path=event.path
        )
        session.add(row)
    row.ended_on = event.term_end


# ---------------------------------------------------------------------------------------------- month end


def previous_month(today: dt.date) -> tuple[int, int]:
    first = today.replace(day=1)
    last = first - dt.timedelta(days=1)
    return last.year, last.month


def check_month_end(session: Session, ctx: PatrolsContext, year: int, month: int) -> int:
    """Once per month: everyone in post the whole month and below their requirement gets an issue in
    their own jurisdiction, raised by the patrol supervision (巡林履职督查) through the report intake.

    Everyone checked (in post the whole month) is also published as a closed month
    (:class:`PatrolMonthClosed`), met or short, for the assessments' 巡林履职. Run by the scheduler for
    the month just ended; a month already checked is left alone. Returns how many shortfalls were
    reported.
    """
    key = f"{year:04d}-{month:02d}"
    if session.get(MonthCheck, key) is not None:
        return 0
    first, following = month_bounds(year, month)
    result = _month_compliance(session, ctx, "/", year, month)
    now = ctx.clock.now()
    shortfalls = 0
    for person in result:
        # Only who held the post the whole month owes the whole month's days.
        joined_late = person.started_on is not None and person.started_on > first
        left_early = person.ended_on is not None and person.ended_on < following - dt.timedelta(days=1)
        if joined_late or left_early:
            continue
        # The assessments' 巡林履职 counts every closed person-month, met or short.
        publish(
            session,
            PatrolMonthClosed(
                event_id=uuid.uuid5(MONTH_CLOSED_NAMESPACE, f"{key}:{person.person_kind}:{person.person_id}"),
                person_kind=person.person_kind,
                person_id=person.person_id,
                person_name=person.name,
                post=person.post.value,
                jurisdiction_code=person.jurisdiction_code,
                path=person.jurisdiction_path,
                year=year,
                month=month,
                valid_days=person.valid_days,
                required_days=person.required_days,
                occurred_at=now,
            ),
        )
        if person.met:
            continue
        shortfalls += 1
        publish(
            session,
            ProblemReported(
                source=COMPLIANCE_SOURCE,
                reference=f"{key}:{person.person_kind}:{person.person_id}",
                jurisdiction_code=person.jurisdiction_code,
                category="forest_chief_system",
                title=f"{key} 巡林未达要求：{person.post.label}{person.name}"[:200],
                text=(
                    f"{person.post.label}{person.name} {year}年{month}月有效巡林 {person.valid_days} 天，"
                    f"要求 {person.required_days} 天，请说明情况并整改"
                ),
                reported_at=now,
                reported_by="巡林履职督查",
                occurred_at=now,
            ),
        )
    session.add(MonthCheck(month=key, shortfalls=shortfalls, checked_at=now))
    return shortfalls
