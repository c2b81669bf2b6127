"""REST endpoints of the patrols domain: rangers, patrols and their tracks, compliance."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, RequestBody, Schema
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter, RawBody

from linzhang.api.schemas import NOT_BLANK, Id32, Id64, Month, PageLimit, documented, page_size
from linzhang.container import Container
from linzhang.domains.patrols import service
from linzhang.domains.patrols.model import InvalidPatrolInput, TrackPoint, parse_geojson, parse_gpx
from linzhang.errors import InvalidInput
from linzhang.identity import Principal
from linzhang.media.upload import UPLOAD_CEILING, body_limit, limits_of, photo_uploads, read_form
from linzhang.settings import MediaSettings

# The largest track file accepted (a day of points every second is far below it).
MAX_TRACK_BYTES = 20 * 1024 * 1024


class RangerOut(msgspec.Struct):
    id: int
    name: str
    phone: str
    post: str
    post_label: str
    jurisdiction_code: str
    jurisdiction_name: str
    active: bool
    started_on: dt.date
    ended_on: dt.date | None
    predecessor_id: int | None
    successor_id: int | None
    username: str | None


class RangerPage(msgspec.Struct):
    items: list[RangerOut]
    next: str | None


class NewRanger(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    phone: str
    post: str  # ranger (护林员) | supervisor (监管员)
    jurisdiction_code: str
    username: str | None = None
    password: str | None = None


class Successor(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    phone: str
    username: str | None = None
    password: str | None = None


class ReasonOut(msgspec.Struct):
    code: str
    detail: str


class PatrolOut(msgspec.Struct):
    id: int
    person_kind: str
    person_id: int
    person_name: str
    post: str
    post_label: str
    jurisdiction_code: str
    jurisdiction_name: str
    source: str
    status: str  # open (points arriving) | judged
    started_at: dt.datetime
    ended_at: dt.datetime | None
    day: dt.date
    point_count: int
    distance_m: float | None
    duration_s: float | None
    max_speed_kmh: float | None
    valid: bool | None
    reasons: list[ReasonOut]


class PatrolPage(msgspec.Struct):
    items: list[PatrolOut]
    next: str | None


Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Accuracy = Annotated[float, msgspec.Meta(ge=0, le=10_000, extra_json_schema={"extra": {"minimum": 0}})]


class PointIn(msgspec.Struct, forbid_unknown_fields=True):
    lon: Longitude
    lat: Latitude
    time: dt.datetime
    accuracy: Accuracy | None = None


class PointBatchIn(msgspec.Struct, forbid_unknown_fields=True):
    # The phone's key for this batch: sending the same batch again stores it once.
    batch_key: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=service.BATCH_KEY_MAX_LENGTH),
        documented("这一批的键（重发同一批只存一次）：不能全是空白", pattern=NOT_BLANK),
    ]
    points: Annotated[
        list[PointIn],
        msgspec.Meta(max_length=service.MAX_BATCH_POINTS),
        documented("一批轨迹点（至少一个）", min_items=1),
    ]


class BatchOut(msgspec.Struct):
    patrol_id: int
    batch_key: str
    stored: int
    duplicate: bool
    point_count: int


class PointOut(msgspec.Struct):
    lon: float
    lat: float
    time: dt.datetime
    accuracy: float | None


class PersonComplianceOut(msgspec.Struct):
    person_kind: str
    person_id: int
    name: str
    post: str
    post_label: str
    jurisdiction_code: str
    jurisdiction_name: str
    valid_days: int
    required_days: int
    patrols: int
    met: bool


class ComplianceOut(msgspec.Struct):
    jurisdiction_code: str
    jurisdiction_name: str
    month: str
    fire_season: bool
    people: int
    met: int
    items: list[PersonComplianceOut]


def _ranger_out(view: service.RangerView) -> RangerOut:
    return RangerOut(
        view.id,
        view.name,
        view.phone,
        view.post.value,
        view.post.label,
        view.jurisdiction_code,
        view.jurisdiction_name,
        view.active,
        view.started_on,
        view.ended_on,
        view.predecessor_id,
        view.successor_id,
        view.username,
    )


def patrol_out(view: service.PatrolView) -> PatrolOut:
    return PatrolOut(
        view.id,
        view.person_kind,
        view.person_id,
        view.person_name,
        view.post.value,
        view.post.label,
        view.jurisdiction_code,
        view.jurisdiction_name,
        view.source,
        view.status,
        view.started_at,
        view.ended_at,
        view.day,
        view.point_count,
        view.distance_m,
        view.duration_s,
        view.max_speed_kmh,
        view.valid,
        [ReasonOut(r.code, r.detail) for r in view.reasons],
    )


def _account(username: str | None, password: str | None) -> service.Account | None:
    if username is None and password is None:
        return None
    if username is None or password is None:
        raise InvalidInput("账号须同时给出用户名和密码", code="account_incomplete", field="username")
    return service.Account(username, password)


def _context(container: Container) -> service.PatrolsContext:
    return container.context(service.PatrolsContext)


_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_month(value: str) -> tuple[int, int]:
    match = _MONTH.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput("月份须为 YYYY-MM，例如 2026-10", code="month_invalid", field="month")
    return int(match.group(1)), int(match.group(2))


def parse_track(body: bytes, track_format: str | None, content_type: str) -> tuple[list[TrackPoint], str]:
    """A track file's points and its source (gpx or geojson), by ``format`` or else by its content."""
    if not body:
        raise InvalidInput("没有收到轨迹文件", code="track_empty", field="file")
    if len(body) > MAX_TRACK_BYTES:
        raise InvalidInput(
            f"轨迹文件不能超过 {MAX_TRACK_BYTES // 1024 // 1024} MiB", code="track_too_large", field="file"
        )
    kind = track_format
    if kind is None:
        head = body.lstrip()[:1]
        kind = "geojson" if head == b"{" or "json" in content_type else "gpx"
    try:
        if kind == "gpx":
            try:
                text = body.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InvalidInput("GPX 文件不是 UTF-8 编码", code="gpx_invalid", field="file") from None
            return parse_gpx(text), "gpx"
        if kind == "geojson":
            return parse_geojson(body), "geojson"
    except InvalidPatrolInput as exc:
        raise InvalidInput(str(exc), code=exc.code, field="file") from None
    raise InvalidInput("format 须为 gpx 或 geojson", code="track_format_invalid", field="format")


class FieldReportOut(msgspec.Struct):
    id: int
    reporter_name: str
    patrol_id: int | None
    category: str
    category_name: str
    text: str
    lon: float
    lat: float
    jurisdiction_code: str  # where the issue went: the village whose patrol area holds the point
    jurisdiction_name: str
    routed_by_area: bool
    photo_hashes: list[str]
    status: str  # sent | issue | refused
    task_id: int | None
    refusal: str | None
    reported_at: dt.datetime


class FieldReportPage(msgspec.Struct):
    items: list[FieldReportOut]
    next: str | None


def report_out(view: service.FieldReportView) -> FieldReportOut:
    return FieldReportOut(
        view.id,
        view.reporter_name,
        view.patrol_id,
        view.category,
        view.category_name,
        view.text,
        view.lon,
        view.lat,
        view.jurisdiction_code,
        view.jurisdiction_name,
        view.routed_by_area,
        view.photo_hashes,
        view.status,
        view.task_id,
        view.refusal,
        view.reported_at,
    )


def field_report_form(container: Container) -> RequestBody:
    """The multipart form of a field report as the OpenAPI document gives it (what :func:`read_field_report`
    reads): the categories are the configured ones, the photos binary parts within the media settings."""
    media = container.settings.media
    categories = list(_context(container).categories.codes)
    text = Schema(
        type=OpenAPIType.STRING,
        min_length=1,
        max_length=service.REPORT_TEXT_MAX_LENGTH,
        pattern=NOT_BLANK,
        description=f"发现的问题（不超过 {service.REPORT_TEXT_MAX_LENGTH} 字，不能全是空白）",
    )
    form = Schema(
        type=OpenAPIType.OBJECT,
        required=["category", "text", "lon", "lat"],
        properties={
            "category": Schema(type=OpenAPIType.STRING, enum=categories, description="问题类别（类别表的代码）"),
            "text": text,
            "lon": Schema(type=OpenAPIType.NUMBER, minimum=-180, maximum=180, description="经度（WGS84）"),
            "lat": Schema(type=OpenAPIType.NUMBER, minimum=-90, maximum=90, description="纬度（WGS84）"),
            "patrol_id": Schema(
                type=OpenAPIType.INTEGER, minimum=1, maximum=2**63 - 1, description="发现时所在的巡护（可省略）"
            ),
            "photos": Schema(
                type=OpenAPIType.ARRAY,
                items=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                max_items=media.max_photos_per_report,
                description=(
                    f"照片（JPEG、PNG 或 WebP，每张不超过 {media.max_photo_bytes // 1024} KB，"
                    f"最多 {media.max_photos_per_report} 张）"
                ),
            ),
        },
    )
    return RequestBody(
        content={"multipart/form-data": OpenAPIMediaType(schema=form)},
        required=True,
        description="巡林发现的问题（multipart 表单）",
    )


def _form_text(form: FormMultiDict, name: str, *, required: bool = True) -> str | None:
    value = form.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"缺少 {name}", code="field_required", field=name)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} 须为文字", code="invalid_request", field=name)
    if "\x00" in value:  # the request guard leaves multipart bodies to their readers
        raise InvalidInput(f"{name} 不能含有 NUL 字符", code="invalid_request", field=name)
    return value.strip()


def _form_float(form: FormMultiDict, name: str) -> float:
    text = _form_text(form, name)
    try:
        value = float(text or "")
    except ValueError:
        raise InvalidInput(f"{name} 须为数字", code="invalid_request", field=name) from None
    if not math.isfinite(value):
        raise InvalidInput(f"{name} 须为数字", code="invalid_request", field=name)
    return value


async def read_field_report(request: Request[Any, Any, Any], settings: MediaSettings) -> service.NewFieldReport:
    """A field report from a multipart form: category, text, lon, lat, patrol_id (optional), photos."""
    form = await read_form(request, body_limit(settings))
    patrol = _form_text(form, "patrol_id", required=False)
    if patrol is not None and not (patrol.isdigit() and 1 <= int(patrol) <= 2**63 - 1):
        raise InvalidInput("patrol_id 须为正整数", code="invalid_request", field="patrol_id")
    photos = await photo_uploads(form, "photos", limits_of(settings), settings.max_photos_per_report)
    return service.NewFieldReport(
        category=_form_text(form, "category") or "",
        text=_form_text(form, "text") or "",
        lon=_form_float(form, "lon"),
        lat=_form_float(form, "lat"),
        patrol_id=int(patrol) if patrol is not None else None,
        photos=photos,
    )


class FieldReportController(Controller):
    path = "/field-reports"
    tags = ["patrols"]

    @post("/", request_max_body_size=UPLOAD_CEILING, opt={"request_body": field_report_form})
    async def report(
        self,
        request: Request,  # type: ignore[type-arg]
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> FieldReportOut:
        """Report a problem found in the field (multipart form: ``category``, ``text``, ``lon``, ``lat``,
        optional ``patrol_id`` and ``photos``). It becomes an issue in the village whose patrol area holds
        the point (else the reporter's own), in that village's inbox at once; ``task_id`` follows."""
        new = await read_field_report(request, container.settings.media)

        def record() -> service.FieldReportView:
            with container.transaction() as session:
                return service.report_problem(session, principal, _context(container), new)

        return report_out(await anyio.to_thread.run_sync(record))

    @get("/", sync_to_thread=True)
    def list_reports(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[PageLimit] = None,
    ) -> FieldReportPage:
        """Field reports the caller may see (a ranger: their own), newest first, with the issue they became."""
        size = page_size(container, limit)
        with container.reading() as session:
            page = service.list_field_reports(session, principal, _context(container), cursor=cursor, limit=size)
        return FieldReportPage([report_out(view) for view in page.items], page.next)

    @get("/{report_id:int}", sync_to_thread=True)
    def get_report(
        self, report_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> FieldReportOut:
        """One field report, with the village it was routed to and the issue (``task_id``) it became."""
        with container.reading() as session:
            return report_out(service.get_field_report(session, principal, _context(container), report_id))


class RangerController(Controller):
    path = "/rangers"
    tags = ["patrols"]

    @post("/", sync_to_thread=True)
    def register(
        self, data: JSONBody[NewRanger], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> RangerOut:
        """Register a ranger (护林员) or supervisor (监管员) in a village or township; with a username and
        password, also an account of the role ``ranger``."""
        new = service.NewRanger(
            data.name, data.phone, data.post, data.jurisdiction_code, _account(data.username, data.password)
        )
        with container.transaction() as session:
            return _ranger_out(service.register_ranger(session, principal, _context(container), new))

    @get("/", sync_to_thread=True)
    def list_rangers(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        jurisdiction_code: FromQuery[str | None] = None,
        active: FromQuery[bool | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[PageLimit] = None,
    ) -> RangerPage:
        """Rangers and supervisors of a jurisdiction's subtree (default: the caller's); a ranger sees only
        themself, a supervisor the people of their area."""
        size = page_size(container, limit)
        with container.reading() as session:
            page = service.list_rangers(
                session,
                principal,
                _context(container),
                jurisdiction_code=jurisdiction_code,
                active=active,
                cursor=cursor,
                limit=size,
            )
        return RangerPage([_ranger_out(view) for view in page.items], page.next)

    @get("/{ranger_id:int}", sync_to_thread=True)
    def get_ranger(
        self, ranger_id: FromPath[Id32], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> RangerOut:
        """One ranger or supervisor (in post or not) the caller may see."""
        with container.reading() as session:
            return _ranger_out(service.get_ranger(session, principal, ranger_id))

    @post("/{ranger_id:int}/replace", sync_to_thread=True)
    def replace(
        self,
        ranger_id: FromPath[Id32],
        data: JSONBody[Successor],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> RangerOut:
        """A successor takes over the post; the predecessor leaves it and their account stops working."""
        account = _account(data.username, data.password)
        with container.transaction() as session:
            view = service.replace_ranger(
                session, principal, _context(container), ranger_id, name=data.name, phone=data.phone, account=account
            )
        return _ranger_out(view)


class PatrolController(Controller):
    path = "/patrols"
    tags = ["patrols"]

    @post("/", sync_to_thread=True)
    def start(self, principal: NamedDependency[Principal], container: NamedDependency[Container]) -> PatrolOut:
        """Start a live patrol now (a ranger, supervisor, or village or township chief); then send its
        points in batches and end it."""
        with container.transaction() as session:
            return patrol_out(service.start_patrol(session, principal, _context(container)))

    @post("/upload", sync_to_thread=True)
    def upload(
        self,
        request: Request,  # type: ignore[type-arg]
        body: RawBody,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        track_format: Annotated[str | None, QueryParameter(name="format")] = None,
    ) -> PatrolOut:
        """Record a whole patrol from a GPX file or a GeoJSON track (the request body; ``format=gpx`` or
        ``geojson``, else told from the content). It is judged at once; the track can never be edited."""
        points, source = parse_track(body, track_format, request.headers.get("content-type", ""))
        with container.transaction() as session:
            return patrol_out(service.upload_track(session, principal, _context(container), points, source))

    @get("/", sync_to_thread=True)
    def list_patrols(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        jurisdiction_code: FromQuery[str | None] = None,
        ranger_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1)] = None,
        day_from: FromQuery[dt.date | None] = None,
        day_to: FromQuery[dt.date | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[PageLimit] = None,
    ) -> PatrolPage:
        """Patrols the caller may see, newest first: a ranger their own, a supervisor their area's, others
        their subtree's."""
        size = page_size(container, limit)
        with container.reading() as session:
            page = service.list_patrols(
                session,
                principal,
                _context(container),
                jurisdiction_code=jurisdiction_code,
                ranger_id=ranger_id,
                day_from=day_from,
                day_to=day_to,
                cursor=cursor,
                limit=size,
            )
        return PatrolPage([patrol_out(view) for view in page.items], page.next)

    @get("/{patrol_id:int}", sync_to_thread=True)
    def get_patrol(
        self, patrol_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> PatrolOut:
        """One patrol with its measure and verdict (the reasons in Chinese, each with a code)."""
        with container.reading() as session:
            return patrol_out(service.get_patrol(session, principal, patrol_id))

    @get("/{patrol_id:int}/points", sync_to_thread=True)
    def points(
        self, patrol_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> list[PointOut]:
        """The patrol's track, in time order."""
        with container.reading() as session:
            track = service.patrol_track(session, principal, patrol_id)
        return [PointOut(p.lon, p.lat, p.at, p.accuracy) for p in track]

    @post("/{patrol_id:int}/points", status_code=200, sync_to_thread=True)
    def add_points(
        self,
        patrol_id: FromPath[Id64],
        data: JSONBody[PointBatchIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> BatchOut:
        """Append a batch of a live patrol's points. A batch sent again with the same ``batch_key`` is stored
        once (``duplicate: true``)."""
        points = [service.PointIn(p.lon, p.lat, p.time, p.accuracy) for p in data.points]
        with container.transaction() as session:
            result = service.add_points(session, principal, _context(container), patrol_id, data.batch_key, points)
        return BatchOut(result.patrol_id, result.batch_key, result.stored, result.duplicate, result.point_count)

    @post("/{patrol_id:int}/end", status_code=200, sync_to_thread=True)
    def end(
        self, patrol_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> PatrolOut:
        """End a live patrol: its track is fixed for good and judged. Ending it again answers the verdict."""
        with container.transaction() as session:
            return patrol_out(service.end_patrol(session, principal, _context(container), patrol_id))


class ComplianceController(Controller):
    path = "/compliance"
    tags = ["patrols"]

    @get("/", sync_to_thread=True)
    def read(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        month: FromQuery[Month],
        jurisdiction_code: FromQuery[str | None] = None,
    ) -> ComplianceOut:
        """A month's patrol compliance (``month=YYYY-MM``) in a jurisdiction's subtree (default: the
        caller's): each person's valid patrol days against their post's requirement."""
        year, number = parse_month(month)
        code = jurisdiction_code or principal.jurisdiction_code
        if code is None:
            raise InvalidInput("请给出 jurisdiction_code", code="jurisdiction_required", field="jurisdiction_code")
        with container.reading() as session:
            result = service.compliance(
                session, principal, _context(container), jurisdiction_code=code, year=year, month=number
            )
        return ComplianceOut(
            result.jurisdiction_code,
            result.jurisdiction_name,
            f"{result.year:04d}-{result.month:02d}",
            result.fire_season,
            len(result.people),
            result.met,
            [
                PersonComplianceOut(
                    p.person_kind,
                    p.person_id,
                    p.name,
                    p.post.value,
                    p.post.label,
                    p.jurisdiction_code,
                    p.jurisdiction_name,
                    p.valid_days,
                    p.required_days,
                    p.patrols,
                    p.met,
                )
                for p in result.people
            ],
        )
