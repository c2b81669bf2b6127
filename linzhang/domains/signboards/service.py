"""Use cases of the public signboards: a board as the public reads it, its office's edits, the public's
reports and their receipts, and the projections of chief and task events the boards read."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linzhang.bus import publish
from linzhang.clock import SHANGHAI, Clock
from linzhang.contracts.chiefs import ChiefAppointed, ChiefTermEnded
from linzhang.contracts.reports import ProblemReported, ReportBecameIssue, ReportRefused
from linzhang.contracts.tasks import TaskSnapshot
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.signboards.model import (
    AREA_MAX,
    DUTIES_MAX,
    PHONE_MAX,
    PUBLIC_STATUS_NAMES,
    ReportRuleError,
    check_board_text,
    check_report,
    duties_for,
    new_receipt,
    normalize_receipt,
    public_status,
    receipt_hash,
    retry_after,
)
from linzhang.domains.signboards.tables import Board, ChiefEntry, IssueState, PublicReport
from linzhang.errors import InvalidInput, TooManyRequests, not_found
from linzhang.identity import Action, Principal, authorize
from linzhang.media import PhotoStore, attach, store_photo
from linzhang.media.upload import limits_of
from linzhang.paths import path_codes
from linzhang.references import JurisdictionRef
from linzhang.settings import MediaSettings, SignboardsSettings
from linzhang.vocabularies import LEVELS, POSTS, Vocabulary

SOURCE = "public"
PHOTO_OWNER = "public_report"
THROTTLE_WINDOW_SECONDS = 3600
ROLE_ORDER = {"general": 0, "deputy": 1, "chief": 2}


@dataclass(frozen=True, slots=True)
class SignboardsContext:
    clock: Clock
    categories: Vocabulary
    photos: PhotoStore
    media: MediaSettings
    settings: SignboardsSettings
    # Keys the hash of a client's address (the throttle's key): the process's secret key.
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ChiefLine:
    name: str
    post: str
    role: str
    role_name: str  # 总林长, 副总林长, 林长


@dataclass(frozen=True, slots=True)
class BoardView:
    code: str
    name: str
    level: str
    level_name: str
    # The names from the city down to this jurisdiction ("重庆市 万州区 高笋塘街道").
    path_names: list[str]
    chiefs: list[ChiefLine]
    duties: str
    area: str | None
    supervision_phone: str
    # The board's own phone, duties and area as entered (None where it shows the default).
    own_phone: str | None
    own_duties: str | None


@dataclass(frozen=True, slots=True)
class BoardChanges:
    """An office's edit of its board: a field left None stays as it is; an empty string clears it."""

    supervision_phone: str | None = None
    duties: str | None = None
    area: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    number: str
    jurisdiction_name: str


@dataclass(frozen=True, slots=True)
class ReceiptView:
    """All a receipt number shows: the one report's place, category, dates and status; nothing else."""

    number: str
    jurisdiction_name: str
    category: str
    category_name: str
    reported_at: dt.datetime
    status: str
    status_name: str
    updated_at: dt.datetime
    # Why it could not be taken (only for the status ``refused``).
    refused_detail: str | None


def _jurisdiction(session: Session, code: str) -> JurisdictionRef:
    found = jurisdictions.lookup(session, code) if len(code) <= 32 else None
    if found is None:
        raise not_found("jurisdiction")
    return found


def board(session: Session, ctx: SignboardsContext, code: str) -> BoardView:
    """The public signboard of ``code``: open to everyone, 辖区不存在 (404) for a code nobody has."""
    place = _jurisdiction(session, code)
    own = session.get(Board, place.code)
    rows = session.execute(
        select(ChiefEntry).where(
            ChiefEntry.jurisdiction_code == place.code, ChiefEntry.ended.is_(False), ChiefEntry.name.is_not(None)
        )
    ).scalars()
    chiefs = sorted(
        rows, key=lambda row: (ROLE_ORDER.get(row.role or "", 9), row.term_start or dt.date.min, row.chief_id)
    )
    codes = path_codes(place.path)
    names = jurisdictions.names(session, codes)
    return BoardView(
        code=place.code,
        name=place.name,
        level=place.level,
        level_name=LEVELS.name_of(place.level),
        path_names=[names.get(code, code) for code in codes],
        chiefs=[
            ChiefLine(row.name or "", row.post or "", row.role or "chief", POSTS.name_of(row.role or "chief"))
            for row in chiefs
        ],
        duties=duties_for(place.level, own.duties if own else None),
        area=own.area if own else None,
        supervision_phone=(own.supervision_phone if own and own.supervision_phone else None)
        or ctx.settings.supervision_phone,
        own_phone=own.supervision_phone if own else None,
        own_duties=own.duties if own else None,
    )


def board_for(session: Session, principal: Principal, ctx: SignboardsContext, code: str) -> BoardView:
    """A board through the API: within the caller's jurisdiction (outside answers like a missing code)."""
    place = _jurisdiction(session, code)
    authorize(principal, Action.READ, place.path, what="jurisdiction")
    return board(session, ctx, place.code)


def _invalid(exc: ReportRuleError) -> InvalidInput:
    return InvalidInput(str(exc), code=exc.code, field=exc.field)


def update_board(
    session: Session, principal: Principal, ctx: SignboardsContext, code: str, changes: BoardChanges
) -> BoardView:
    """An office (or a chief above) sets what its signboard says: the supervision phone, duties, area."""
    place = _jurisdiction(session, code)
    authorize(principal, Action.APPOINT_CHIEF, place.path, what="jurisdiction")
    try:
        phone = check_board_text(changes.supervision_phone, "supervision_phone", PHONE_MAX, "监督电话")
        duties = check_board_text(changes.duties, "duties", DUTIES_MAX, "林长职责")
        area = check_board_text(changes.area, "area", AREA_MAX, "管护面积")
    except ReportRuleError as exc:
        raise _invalid(exc) from None
    now = ctx.clock.now()
    own = session.get(Board, place.code, with_for_update=True)
    if own is None:
        own = Board(jurisdiction_code=place.code, updated_by=principal.shown_as, updated_at=now)
        session.add(own)
    if changes.supervision_phone is not None:
        own.supervision_phone = phone
    if changes.duties is not None:
        own.duties = duties
    if changes.area is not None:
        own.area = area
    own.updated_by, own.updated_at = principal.shown_as, now
    session.flush()
    return board(session, ctx, place.code)


def client_key(ctx: SignboardsContext, address: str) -> str:
    return hmac.new(ctx.secret.encode(), f"signboards|{address}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ReportForm:
    category: str
    text: str
    longitude: str | None = None
    latitude: str | None = None


def _throttle(session: Session, ctx: SignboardsContext, key: str, now: dt.datetime) -> None:
    since = now - dt.timedelta(seconds=THROTTLE_WINDOW_SECONDS)
    count, oldest = session.execute(
        select(func.count(), func.min(PublicReport.created_at)).where(
            PublicReport.client_key == key, PublicReport.created_at > since
        )
    ).one()
    if count >= ctx.settings.reports_per_hour:
        wait = retry_after(THROTTLE_WINDOW_SECONDS, (now - oldest).total_seconds())
        raise TooManyRequests(
            f"提交过于频繁，请 {max(1, wait // 60)} 分钟后再试", code="reports_throttled", retry_after=wait
        )


def submit_report(
    session: Session, ctx: SignboardsContext, code: str, form: ReportForm, photos: list[bytes], address: str
) -> Receipt:
    """A member of the public reports a problem at ``code``'s signboard: kept with its photos, sent to the
    tasks domain as ``ProblemReported`` (it becomes an issue of the jurisdiction), answered with a
    receipt number. Nothing is kept when anything is refused."""
    place = _jurisdiction(session, code)
    now = ctx.clock.now()
    key = client_key(ctx, address)
    _throttle(session, ctx, key, now)
    try:
        checked = check_report(
            category=form.category,
            text=form.text,
            longitude=form.longitude,
            latitude=form.latitude,
            categories=ctx.categories.codes,
        )
    except ReportRuleError as exc:
        raise _invalid(exc) from None
    if len(photos) > ctx.media.max_photos_per_report:
        limit = ctx.media.max_photos_per_report
        raise InvalidInput(f"照片不能超过 {limit} 张", code="too_many_photos", field="photo", limit=limit)
    limits = limits_of(ctx.media)
    stored = [store_photo(session, ctx.photos, data, limits, now) for data in photos]
    number = new_receipt()
    report = PublicReport(
        receipt_hash=receipt_hash(number),
        jurisdiction_code=place.code,
        jurisdiction_path=place.path,
        category=checked.category,
        text=checked.text,
        longitude=checked.longitude,
        latitude=checked.latitude,
        photo_count=len(stored),
        client_key=key,
        state="received",
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    session.flush()
    for photo in stored:
        attach(session, photo.sha256, owner_kind=PHOTO_OWNER, owner_ref=str(report.id), owner_path=place.path, now=now)
    category_name = ctx.categories.name_of(checked.category)
    publish(
        session,
        ProblemReported(
            source=SOURCE,
            reference=str(report.id),
            jurisdiction_code=place.code,
            category=checked.category,
            title=f"公众举报：{category_name}",
            text=checked.text,
            reported_at=now,
            reported_by="公众（公示牌扫码）",
            longitude=checked.longitude,
            latitude=checked.latitude,
            photo_hashes=[photo.sha256 for photo in stored],
            occurred_at=now,
        ),
    )
    return Receipt(number, place.name)


def receipt_status(session: Session, ctx: SignboardsContext, number: str) -> ReceiptView:
    """The status of the one report ``number`` names; 回执编号不存在 (404) for any other string."""
    canonical = normalize_receipt(number)
    if canonical is None:
        raise not_found("receipt")
    report = session.execute(
        select(PublicReport).where(PublicReport.receipt_hash == receipt_hash(canonical))
    ).scalar_one_or_none()
    if report is None:
        raise not_found("receipt")
    issue = session.get(IssueState, report.task_id) if report.task_id is not None else None
    status = public_status(
        report.state,
        issue.status if issue else None,
        issue.owner_code if issue else None,
        issue.holder_code if issue else None,
    )
    updated = max(report.updated_at, issue.changed_at) if issue else report.updated_at
    names = jurisdictions.names(session, [report.jurisdiction_code])
    return ReceiptView(
        number=canonical,
        jurisdiction_name=names.get(report.jurisdiction_code, ""),
        category=report.category,
        category_name=ctx.categories.name_of(report.category),
        reported_at=report.created_at,
        status=status.value,
        status_name=PUBLIC_STATUS_NAMES[status],
        updated_at=updated,
        refused_detail=report.refused_detail if report.state == "refused" else None,
    )


def today(ctx: SignboardsContext) -> dt.date:
    return ctx.clock.now().astimezone(SHANGHAI).date()


# Projections: each handler leaves the same rows whatever order and however often its events arrive.


def on_chief_appointed(session: Session, event: ChiefAppointed) -> None:
    row = session.get(ChiefEntry, event.chief_id, with_for_update=True)
    if row is None:
        row = ChiefEntry(chief_id=event.chief_id, jurisdiction_code=event.jurisdiction_code, ended=False)
        session.add(row)
    row.jurisdiction_code = event.jurisdiction_code
    row.name, row.post, row.role, row.term_start = event.name, event.post, event.role, event.term_start


def on_chief_term_ended(session: Session, event: ChiefTermEnded) -> None:
    row = session.get(ChiefEntry, event.chief_id, with_for_update=True)
    if row is None:
        session.add(ChiefEntry(chief_id=event.chief_id, jurisdiction_code=event.jurisdiction_code, ended=True))
    else:
        row.ended = True


def on_task_changed(session: Session, task: TaskSnapshot, at: dt.datetime) -> None:
    """Keep each issue's newest state (an older revision arriving late changes nothing)."""
    if task.kind != "issue":
        return
    row = session.get(IssueState, task.task_id, with_for_update=True)
    if row is None:
        session.add(
            IssueState(
                task_id=task.task_id,
                revision=task.revision,
                status=task.status,
                owner_code=task.jurisdiction_code,
                holder_code=task.holder_code,
                changed_at=at,
            )
        )
    elif task.revision > row.revision:
        row.revision, row.status, row.holder_code, row.changed_at = task.revision, task.status, task.holder_code, at


def _public_report(session: Session, source: str, reference: str) -> PublicReport | None:
    if source != SOURCE or not reference.isdigit():
        return None
    return session.get(PublicReport, int(reference), with_for_update=True)


def on_report_became_issue(session: Session, event: ReportBecameIssue) -> None:
    report = _public_report(session, event.source, event.reference)
    if report is not None:
        report.state, report.task_id, report.updated_at = "issue", event.task_id, event.occurred_at


def on_report_refused(session: Session, event: ReportRefused) -> None:
    report = _public_report(session, event.source, event.reference)
    if report is not None and report.state == "received":
        report.state, report.refused_detail, report.updated_at = "refused", event.detail, event.occurred_at
