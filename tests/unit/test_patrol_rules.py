"""The patrol rules as plain functions: real GPX and GeoJSON files, verdicts, the monthly requirement."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linzhang.domains.patrols.model import (
    InvalidPatrolInput,
    PatrolRules,
    Post,
    check_person,
    fingerprint,
    judge,
    load_rules,
    measure,
    parse_area,
    parse_geojson,
    parse_gpx,
    patrol_day,
    required_days,
    rules_from,
)
from linzhang.settings import DEFAULTS_DIR
from tests.support.tracks import START, shifted, square, to_geojson, to_gpx, track

T0 = dt.datetime(2026, 10, 12, 0, 30, tzinfo=dt.UTC)  # 08:30 in 重庆
RULES = load_rules(DEFAULTS_DIR / "patrols.toml")


def codes(verdict: object) -> set[str]:
    return {reason.code for reason in verdict.reasons}  # type: ignore[attr-defined]


def test_a_walk_of_75_minutes_passes() -> None:
    points = parse_gpx(to_gpx(track(T0, minutes=75, speed_kmh=4)))
    verdict = judge(points, RULES)
    assert verdict.valid, verdict.reasons
    assert verdict.reasons == ()
    assert 4_900 < verdict.measure.distance_m < 5_200  # 75 min at 4 km/h, plus the path's winding
    assert verdict.measure.duration_s == 75 * 60


def test_a_short_walk_is_too_short_and_too_brief() -> None:
    points = parse_gpx(to_gpx(track(T0, minutes=30, speed_kmh=4)))
    verdict = judge(points, RULES)
    assert not verdict.valid
    assert codes(verdict) == {"too_short", "too_brief"}
    details = " ".join(reason.detail for reason in verdict.reasons)
    assert "不足 3000 米" in details
    assert "不足 60 分钟" in details


def test_a_car_on_a_road_is_not_a_patrol() -> None:
    points = parse_gpx(to_gpx(track(T0, minutes=70, speed_kmh=60)))
    verdict = judge(points, RULES)
    assert codes(verdict) == {"too_fast"}
    assert verdict.measure.max_speed_kmh > 55


def test_a_motorbike_within_the_limit_passes() -> None:
    verdict = judge(track(T0, minutes=70, speed_kmh=25), RULES)
    assert verdict.valid


def test_the_geodesic_distance_of_one_degree_of_latitude() -> None:
    from linzhang.domains.patrols.model import TrackPoint

    a = TrackPoint(108.0, 30.0, T0)
    b = TrackPoint(108.0, 31.0, T0 + dt.timedelta(hours=1))
    # On the WGS84 ellipsoid one degree of latitude near 30°N is 110.85 km.
    assert measure([a, b]).distance_m == pytest.approx(110_850, abs=100)


def test_a_time_shifted_copy_has_the_fingerprint_of_the_original() -> None:
    original = parse_gpx(to_gpx(track(T0, minutes=75, speed_kmh=4)))
    copy = parse_gpx(to_gpx(shifted(original, dt.timedelta(days=3, minutes=7))))
    assert fingerprint(copy) == fingerprint(original)
    assert fingerprint(track(T0, minutes=75, speed_kmh=4.2)) != fingerprint(original)
    verdict = judge(copy, RULES, copy_of=41)
    assert codes(verdict) == {"copied_track"}
    assert "第 41 号" in verdict.reasons[0].detail


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=-10_000_000, max_value=10_000_000))
def test_shifting_a_track_in_time_changes_neither_its_measure_nor_its_fingerprint(seconds: int) -> None:
    original = track(T0, minutes=20, speed_kmh=4, every=30)
    moved = shifted(original, dt.timedelta(seconds=seconds))
    assert measure(moved) == measure(original)
    assert fingerprint(moved) == fingerprint(original)


def test_geojson_tracks_read_like_gpx() -> None:
    points = track(T0, minutes=75, speed_kmh=4)
    assert parse_geojson(to_geojson(points)) == parse_gpx(to_gpx(points))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not json", "geojson_invalid"),
        (b'{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2]]}}', "geojson_times_missing"),
        (
            b'{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[200, 2]]},'
            b' "properties": {"times": ["2026-10-01T00:00:00Z"]}}',
            "longitude_invalid",
        ),
        (b'{"type": "FeatureCollection", "features": []}', "track_empty"),
    ],
)
def test_bad_geojson_is_refused_with_a_code(data: bytes, code: str) -> None:
    with pytest.raises(InvalidPatrolInput) as caught:
        parse_geojson(data)
    assert caught.value.code == code


def test_bad_gpx_is_refused() -> None:
    with pytest.raises(InvalidPatrolInput) as caught:
        parse_gpx("<gpx><trk>")
    assert caught.value.code == "gpx_invalid"


def test_inside_the_patrol_area_or_not() -> None:
    area = parse_area(square(START[0] + 0.02, START[1], 0.05))
    walk = track(T0, minutes=75, speed_kmh=4)
    assert judge(walk, RULES, area=area).valid
    elsewhere = parse_area(square(START[0] + 1, START[1] + 1, 0.05))
    verdict = judge(walk, RULES, area=elsewhere)
    assert codes(verdict) == {"outside_area"}
    assert "100% 的轨迹点在本村巡护区域之外" in verdict.reasons[0].detail


def test_an_area_must_be_a_valid_polygon() -> None:
    with pytest.raises(InvalidPatrolInput):
        parse_area({"type": "Point", "coordinates": [1, 2]})
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(InvalidPatrolInput):
        parse_area(bow_tie)


def test_the_fire_season_needs_more_days_and_its_boundary_is_the_month_in_china() -> None:
    assert required_days(RULES, Post.RANGER, 2026, 9) == 10
    assert required_days(RULES, Post.RANGER, 2026, 10) == 20
    assert required_days(RULES, Post.RANGER, 2026, 5) == 20
    assert required_days(RULES, Post.RANGER, 2026, 6) == 10
    assert required_days(RULES, Post.VILLAGE_CHIEF, 2026, 10) == 4
    assert required_days(RULES, Post.TOWNSHIP_CHIEF, 2026, 7) == 1
    # 17:00 UTC on 30 September is 01:00 on 1 October in 重庆: the patrol counts for October.
    assert patrol_day(dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)) == dt.date(2026, 10, 1)
    assert patrol_day(dt.datetime(2026, 9, 30, 15, 59, tzinfo=dt.UTC)) == dt.date(2026, 9, 30)


def test_the_rules_file_may_override_the_defaults(tmp_path: Path) -> None:
    rules = rules_from(
        {
            "validity": {"min_distance_m": 2000, "min_duration_minutes": 45},
            "requirement": {"fire_months": [3, 4], "ranger": {"fire_season": 22, "other": 8}},
        }
    )
    assert rules.min_distance_m == 2000
    assert rules.min_duration_s == 45 * 60
    assert required_days(rules, Post.RANGER, 2026, 3) == 22
    assert required_days(rules, Post.RANGER, 2026, 10) == 8
    assert required_days(rules, Post.SUPERVISOR, 2026, 10) == 10  # the packaged default for a post not named
    with pytest.raises(ValueError, match="fire_months"):
        rules_from({"requirement": {"fire_months": [13]}})
    with pytest.raises(ValueError, match="max_speed_kmh"):
        rules_from({"validity": {"max_speed_kmh": -1}})
    assert rules_from({}) == PatrolRules()


@pytest.mark.parametrize(
    ("name", "phone", "post", "code"),
    [
        ("", "13800000000", "ranger", "name_required"),
        ("张三", "12345", "ranger", "phone_invalid"),
        ("张三", "13800000000", "chief", "post_invalid"),
        ("张三", "13800000000", "village_chief", "post_invalid"),
    ],
)
def test_people_are_checked(name: str, phone: str, post: str, code: str) -> None:
    with pytest.raises(InvalidPatrolInput) as caught:
        check_person(name, phone, post)
    assert caught.value.code == code
