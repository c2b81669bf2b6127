"""Pure rules of the patrols domain: tracks, their measure, the verdict, the monthly requirement.

No database, web or broker here: a track is a list of :class:`TrackPoint`, the rules a
:class:`PatrolRules` read from ``patrols.toml``, and every function answers from its arguments alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import gpxpy
import gpxpy.gpx
from pyproj import Geod
from shapely import contains_xy, prepare
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
_GEOD = Geod(ellps="WGS84")

NAME_MAX_LENGTH = 50
PHONE_PATTERN = re.compile(r"^1\d{10}$|^0\d{2,3}-?\d{7,8}$")
# The most points one track (an upload, or all the batches of a live patrol) may hold: a point every
# second for 24 hours.
MAX_POINTS = 86_400
MAX_ACCURACY_M = 10_000.0


class Post(StrEnum):
    """Who patrols: the 一长两员 posts with their monthly requirements in ``patrols.toml``."""

    RANGER = "ranger"  # 护林员
    SUPERVISOR = "supervisor"  # 监管员
    VILLAGE_CHIEF = "village_chief"  # 村级林长
    TOWNSHIP_CHIEF = "township_chief"  # 乡镇级林长

    @property
    def label(self) -> str:
        return POST_NAMES[self]


POST_NAMES: dict[Post, str] = {
    Post.RANGER: "护林员",
    Post.SUPERVISOR: "监管员",
    Post.VILLAGE_CHIEF: "村级林长",
    Post.TOWNSHIP_CHIEF: "乡镇级林长",
}
# The posts a person registered in this domain holds (chiefs come from the chiefs domain).
PERSON_POSTS = (Post.RANGER, Post.SUPERVISOR)
# Where each registered post sits.
POST_LEVELS: dict[Post, tuple[str, ...]] = {
    Post.RANGER: ("village", "township"),
    Post.SUPERVISOR: ("village", "township"),
}


class InvalidPatrolInput(ValueError):
    """A rule of this domain broken by the input; ``code`` for clients, ``field`` where it was."""

    def __init__(self, detail: str, *, code: str, field: str | None = None, line: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.field = field
        self.line = line


# ---------------------------------------------------------------------------------------------- people


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    phone: str
    post: Post


def check_person(name: str, phone: str, post: str) -> Person:
    name = name.strip()
    if not name:
        raise InvalidPatrolInput("姓名不能为空", code="name_required", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidPatrolInput(f"姓名不能超过{NAME_MAX_LENGTH}个字", code="name_too_long", field="name")
    phone = phone.strip().replace(" ", "")
    if not PHONE_PATTERN.match(phone):
        raise InvalidPatrolInput(
            "电话号码格式不正确（11位手机号或带区号的固定电话）", code="phone_invalid", field="phone"
        )
    try:
        chosen = Post(post.strip())
    except ValueError:
        allowed = "、".join(f"{p.value}（{p.label}）" for p in PERSON_POSTS)
        raise InvalidPatrolInput(f"岗位须为 {allowed}", code="post_invalid", field="post") from None
    if chosen not in PERSON_POSTS:
        allowed = "、".join(f"{p.value}（{p.label}）" for p in PERSON_POSTS)
        raise InvalidPatrolInput(f"岗位须为 {allowed}", code="post_invalid", field="post")
    return Person(name, phone, chosen)


def check_post_level(post: Post, level: str) -> None:
    if level not in POST_LEVELS[post]:
        raise InvalidPatrolInput(f"{post.label}只能设在村或乡镇", code="post_level_invalid", field="jurisdiction_code")


# ---------------------------------------------------------------------------------------------- tracks


@dataclass(frozen=True, slots=True)
class TrackPoint:
    lon: float
    lat: float
    at: dt.datetime  # aware
    accuracy: float | None = None


def check_point(lon: float, lat: float, at: dt.datetime, accuracy: float | None, index: int = 0) -> TrackPoint:
    where = f"第{index + 1}个点"
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InvalidPatrolInput(f"{where}的经度须在 -180 至 180 之间", code="longitude_invalid", field="points")
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InvalidPatrolInput(f"{where}的纬度须在 -90 至 90 之间", code="latitude_invalid", field="points")
    if at.tzinfo is None:
        raise InvalidPatrolInput(f"{where}的时间须带时区", code="time_without_zone", field="points")
    if accuracy is not None and not (math.isfinite(accuracy) and 0.0 <= accuracy <= MAX_ACCURACY_M):
        raise InvalidPatrolInput(
            f"{where}的精度须在 0 至 {MAX_ACCURACY_M:.0f} 米之间", code="accuracy_invalid", field="points"
        )
    return TrackPoint(lon, lat, at.astimezone(dt.UTC), accuracy)


def _bounded(points: list[TrackPoint]) -> list[TrackPoint]:
    if not points:
        raise InvalidPatrolInput("轨迹没有任何带时间的点", code="track_empty", field="file")
    if len(points) > MAX_POINTS:
        raise InvalidPatrolInput(f"一条轨迹最多{MAX_POINTS}个点", code="track_too_many_points", field="file")
    return sorted(points, key=lambda point: point.at)


def parse_gpx(text: str) -> list[TrackPoint]:
    """The timed points of a GPX file's tracks (all segments, in time order)."""
    try:
        gpx = gpxpy.parse(text)
    except (gpxpy.gpx.GPXException, ValueError) as exc:
        raise InvalidPatrolInput(f"GPX 文件无法解析（{str(exc)[:200]}）", code="gpx_invalid", field="file") from None
    points: list[TrackPoint] = []
    for track in gpx.tracks:
        for segment in track.segments:
            for point in segment.points:
                if point.time is None:
                    continue
                at = point.time if point.time.tzinfo else point.time.replace(tzinfo=dt.UTC)
                accuracy = point.horizontal_dilution
                points.append(check_point(point.longitude, point.latitude, at, accuracy, len(points)))
    return _bounded(points)


def _time(value: Any, index: int) -> dt.datetime:
    if not isinstance(value, str):
        raise InvalidPatrolInput(f"第{index + 1}个点缺少时间", code="point_time_missing", field="file")
    try:
        at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidPatrolInput(f"第{index + 1}个点的时间无法识别", code="point_time_invalid", field="file") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at


def _number(value: Any, what: str, index: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidPatrolInput(f"第{index + 1}个点的{what}不是数字", code="point_invalid", field="file")
    return float(value)


def parse_geojson(data: bytes) -> list[TrackPoint]:
    """The points of a GeoJSON track.

    Either a LineString feature whose ``properties.times`` (or ``coordTimes``) gives each coordinate's
    time and ``properties.accuracies`` optionally its accuracy in metres, or a FeatureCollection of Point
    features with ``properties.time`` and optionally ``properties.accuracy``.
    """
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InvalidPatrolInput("GeoJSON 文件无法解析", code="geojson_invalid", field="file") from None
    if not isinstance(document, dict):
        raise InvalidPatrolInput("GeoJSON 文件须为一个对象", code="geojson_invalid", field="file")
    features = document.get("features") if document.get("type") == "FeatureCollection" else [document]
    if not isinstance(features, list):
        raise InvalidPatrolInput("GeoJSON 的 features 须为数组", code="geojson_invalid", field="file")
    points: list[TrackPoint] = []
    for feature in features:
        if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
            raise InvalidPatrolInput("GeoJSON 要素缺少几何", code="geojson_invalid", field="file")
        geometry, properties = feature["geometry"], feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise InvalidPatrolInput("GeoJSON 要素的 properties 须为对象", code="geojson_invalid", field="file")
        kind, coordinates = geometry.get("type"), geometry.get("coordinates")
        if kind == "LineString" and isinstance(coordinates, list):
            times = properties.get("times", properties.get("coordTimes"))
            accuracies = properties.get("accuracies")
            if not isinstance(times, list) or len(times) != len(coordinates):
                raise InvalidPatrolInput(
                    "LineString 轨迹须在 properties.times 中给出每个点的时间",
                    code="geojson_times_missing",
                    field="file",
                )
            if accuracies is not None and (not isinstance(accuracies, list) or len(accuracies) != len(coordinates)):
                raise InvalidPatrolInput("properties.accuracies 须与坐标一一对应", code="geojson_invalid", field="file")
            for i, position in enumerate(coordinates):
                points.append(_position(position, times[i], accuracies[i] if accuracies else None, len(points)))
        elif kind == "Point":
            points.append(_position(coordinates, properties.get("time"), properties.get("accuracy"), len(points)))
        else:
            raise InvalidPatrolInput("GeoJSON 轨迹须为 LineString 或 Point 要素", code="geojson_invalid", field="file")
        if len(points) > MAX_POINTS:
            raise InvalidPatrolInput(f"一条轨迹最多{MAX_POINTS}个点", code="track_too_many_points", field="file")
    return _bounded(points)


def _position(position: Any, time: Any, accuracy: Any, index: int) -> TrackPoint:
    if not isinstance(position, list) or len(position) < 2:
        raise InvalidPatrolInput(f"第{index + 1}个点的坐标无效", code="point_invalid", field="file")
    lon, lat = _number(position[0], "经度", index), _number(position[1], "纬度", index)
    acc = None if accuracy is None else _number(accuracy, "精度", index)
    return check_point(lon, lat, _time(time, index), acc, index)


# ---------------------------------------------------------------------------------------------- rules


DEFAULT_REQUIRED_DAYS: dict[Post, tuple[int, int]] = {
    Post.RANGER: (20, 10),
    Post.SUPERVISOR: (20, 10),
    Post.VILLAGE_CHIEF: (4, 4),
    Post.TOWNSHIP_CHIEF: (1, 1),
}


@dataclass(frozen=True, slots=True)
class PatrolRules:
    """The validity rules and monthly requirements of ``patrols.toml``."""

    min_distance_m: float = 3000.0
    min_duration_s: float = 3600.0
    max_speed_kmh: float = 40.0
    # Share of points allowed outside the patrol area (a phone's fix wanders near the boundary).
    max_outside_share: float = 0.05
    fire_months: frozenset[int] = frozenset({10, 11, 12, 1, 2, 3, 4, 5})
    # Valid patrol days required per month: (fire-risk month, other month).
    required_days: Mapping[Post, tuple[int, int]] = field(default_factory=lambda: dict(DEFAULT_REQUIRED_DAYS))
    # A live patrol's points may be at most this far in the future of the server's clock (clock skew).
    max_clock_skew_s: float = 300.0


def load_rules(path: Path) -> PatrolRules:
    """The rules of ``patrols.toml``; a malformed file stops start-up with what is wrong."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return rules_from(data, str(path))


def rules_from(data: Mapping[str, Any], where: str = "patrols.toml") -> PatrolRules:
    validity = data.get("validity", {})
    requirement = data.get("requirement", {})

    def positive(table: Mapping[str, Any], key: str, default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{where}: {key} must be a number >= 0")
        return float(value)

    months = requirement.get("fire_months", [10, 11, 12, 1, 2, 3, 4, 5])
    if not isinstance(months, list) or not all(isinstance(m, int) and 1 <= m <= 12 for m in months):
        raise ValueError(f"{where}: requirement.fire_months must list months 1-12")
    days: dict[Post, tuple[int, int]] = dict(DEFAULT_REQUIRED_DAYS)
    for post in Post:
        table = requirement.get(post.value)
        if table is None:
            continue
        fire, other = table.get("fire_season"), table.get("other")
        if not all(isinstance(n, int) and 0 <= n <= 31 for n in (fire, other)):
            raise ValueError(f"{where}: requirement.{post.value} needs fire_season and other, 0-31 days")
        days[post] = (fire, other)
    share = positive(validity, "max_outside_share", 0.05)
    if share > 1:
        raise ValueError(f"{where}: validity.max_outside_share must be between 0 and 1")
    return PatrolRules(
        min_distance_m=positive(validity, "min_distance_m", 3000),
        min_duration_s=positive(validity, "min_duration_minutes", 60) * 60,
        max_speed_kmh=positive(validity, "max_speed_kmh", 40),
        max_outside_share=share,
        fire_months=frozenset(months),
        required_days=days,
        max_clock_skew_s=positive(validity, "max_clock_skew_seconds", 300),
    )


def required_days(rules: PatrolRules, post: Post, year: int, month: int) -> int:
    """Valid patrol days ``post`` needs in that month (the fire-risk months need more)."""
    fire, other = rules.required_days.get(post, DEFAULT_REQUIRED_DAYS[post])
    return fire if month in rules.fire_months else other


def patrol_day(started_at: dt.datetime) -> dt.date:
    """The day a patrol counts for: the day it started, in China Standard Time."""
    return started_at.astimezone(SHANGHAI).date()


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """The first day of the month and the first day of the next."""
    first = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, following


# ---------------------------------------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True)
class Measure:
    distance_m: float
    duration_s: float
    max_speed_kmh: float
    fast_segments: int


def measure(points: Sequence[TrackPoint], max_speed_kmh: float = math.inf) -> Measure:
    """Geodesic length (WGS84 ellipsoid), duration first to last point, the fastest segment.

    A segment counts as too fast when its speed exceeds ``max_speed_kmh`` by more than the two points'
    stated accuracies could explain.
    """
    if len(points) < 2:
        return Measure(0.0, 0.0, 0.0, 0)
    lons = [p.lon for p in points]
    lats = [p.lat for p in points]
    _, _, lengths = _GEOD.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    distance = 0.0
    fastest = 0.0
    fast = 0
    for i, length in enumerate(lengths):
        length = float(length)
        distance += length
        seconds = (points[i + 1].at - points[i].at).total_seconds()
        slack = (points[i].accuracy or 0.0) + (points[i + 1].accuracy or 0.0)
        if seconds <= 0:
            if length > slack:
                fast += 1
            continue
        speed = length / seconds * 3.6
        fastest = max(fastest, speed)
        if speed > max_speed_kmh and (length - slack) / seconds * 3.6 > max_speed_kmh:
            fast += 1
    return Measure(distance, (points[-1].at - points[0].at).total_seconds(), fastest, fast)


def fingerprint(points: Sequence[TrackPoint]) -> str:
    """The track's shape, without its times: the same walk replayed at another time has the same one.

    Positions rounded to 1e-5 degrees (about a metre): two real walks never repeat every fix.
    """
    digest = hashlib.sha256()
    for point in points:
        digest.update(f"{point.lon:.5f},{point.lat:.5f};".encode())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Verdict:
    valid: bool
    reasons: tuple[Reason, ...]
    measure: Measure


class Area:
    """A village's patrol area (a GeoJSON polygon or multipolygon), prepared for point-in-area tests."""

    __slots__ = ("geometry",)

    def __init__(self, geometry: BaseGeometry) -> None:
        self.geometry = geometry
        prepare(geometry)

    def contains(self, lon: float, lat: float) -> bool:
        return bool(contains_xy(self.geometry, lon, lat))

    def outside_share(self, points: Sequence[TrackPoint]) -> float:
        if not points:
            return 0.0
        inside = contains_xy(self.geometry, [p.lon for p in points], [p.lat for p in points])
        return 1.0 - float(inside.sum()) / len(points)


def parse_area(geometry: Any, where: str = "") -> Area:
    """A patrol area from a GeoJSON geometry; only polygons and multipolygons are areas."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidPatrolInput(f"{where}巡护区域须为 Polygon 或 MultiPolygon", code="area_geometry_invalid")
    try:
        shaped = shape(geometry)
    except (ValueError, TypeError, IndexError, AttributeError):
        raise InvalidPatrolInput(f"{where}巡护区域的坐标无效", code="area_geometry_invalid") from None
    if shaped.is_empty or not shaped.is_valid:
        raise InvalidPatrolInput(f"{where}巡护区域不是有效的多边形（边界自相交或为空）", code="area_geometry_invalid")
    minx, miny, maxx, maxy = shaped.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidPatrolInput(f"{where}巡护区域的坐标超出经纬度范围", code="area_geometry_invalid")
    return Area(shaped)


def judge(
    points: Sequence[TrackPoint],
    rules: PatrolRules,
    *,
    area: Area | None = None,
    copy_of: int | None = None,
) -> Verdict:
    """The patrol's verdict: valid, or every reason it is not (Chinese detail and a code each).

    ``copy_of`` is an earlier patrol with the same track shape (see :func:`fingerprint`), if any.
    """
    m = measure(points, rules.max_speed_kmh)
    reasons: list[Reason] = []
    if len(points) < 2:
        reasons.append(Reason("too_few_points", "轨迹点少于2个，无法计算里程"))
    if m.distance_m < rules.min_distance_m:
        reasons.append(Reason("too_short", f"巡护里程 {m.distance_m:.0f} 米，不足 {rules.min_distance_m:.0f} 米"))
    if m.duration_s < rules.min_duration_s:
        reasons.append(
            Reason(
                "too_brief",
                f"巡护时长 {m.duration_s / 60:.0f} 分钟，不足 {rules.min_duration_s / 60:.0f} 分钟",
            )
        )
    if m.fast_segments:
        reasons.append(
            Reason(
                "too_fast",
                f"有 {m.fast_segments} 段移动速度超过 {rules.max_speed_kmh:.0f} 千米/小时"
                f"（最快 {m.max_speed_kmh:.0f} 千米/小时），不是步行或摩托车巡护",
            )
        )
    if area is not None and points:
        share = area.outside_share(points)
        if share > rules.max_outside_share:
            reasons.append(Reason("outside_area", f"{share:.0%} 的轨迹点在本村巡护区域之外"))
    if copy_of is not None:
        reasons.append(Reason("copied_track", f"轨迹与第 {copy_of} 号巡护的轨迹完全相同，只是时间不同"))
    return Verdict(not reasons, tuple(reasons), m)


def valid_days(days: Iterable[tuple[dt.date, bool]]) -> set[dt.date]:
    """The days with at least one valid patrol."""
    return {day for day, valid in days if valid}
