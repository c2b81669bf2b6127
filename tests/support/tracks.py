"""Real track files made for the tests: GPX written with gpxpy, GeoJSON by hand.

A track heads east from a point in 示范村 at a steady speed, one fix every ``every`` seconds, with a
small zig-zag north and south so that it is not a straight line.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import gpxpy.gpx

from linzhang.domains.patrols.model import TrackPoint

# Near 万州 (Wanzhou): the village of the test tree lies here.
START = (108.38, 30.80)
METRES_PER_DEGREE_LAT = 111_320.0


def track(
    start: dt.datetime,
    *,
    minutes: float,
    speed_kmh: float,
    every: float = 15.0,
    origin: tuple[float, float] = START,
    accuracy: float = 5.0,
) -> list[TrackPoint]:
    """A walk (or a drive) of ``minutes`` at ``speed_kmh`` from ``origin``."""
    count = int(minutes * 60 / every) + 1
    step = speed_kmh / 3.6 * every  # metres per fix
    per_lon = METRES_PER_DEGREE_LAT * math.cos(math.radians(origin[1]))
    points = []
    for i in range(count):
        east = i * step
        north = 20.0 * math.sin(i / 8)  # a path winds a little
        points.append(
            TrackPoint(
                origin[0] + east / per_lon,
                origin[1] + north / METRES_PER_DEGREE_LAT,
                start + dt.timedelta(seconds=i * every),
                accuracy,
            )
        )
    return points


def shifted(points: list[TrackPoint], by: dt.timedelta) -> list[TrackPoint]:
    """The same track replayed at another time (a faked patrol)."""
    return [TrackPoint(p.lon, p.lat, p.at + by, p.accuracy) for p in points]


def to_gpx(points: list[TrackPoint]) -> str:
    gpx = gpxpy.gpx.GPX()
    trk = gpxpy.gpx.GPXTrack(name="巡林")
    segment = gpxpy.gpx.GPXTrackSegment()
    for p in points:
        segment.points.append(
            gpxpy.gpx.GPXTrackPoint(p.lat, p.lon, elevation=300.0, time=p.at, horizontal_dilution=p.accuracy)
        )
    trk.segments.append(segment)
    gpx.tracks.append(trk)
    return gpx.to_xml()


def to_geojson(points: list[TrackPoint]) -> bytes:
    feature = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[p.lon, p.lat] for p in points]},
        "properties": {
            "times": [p.at.isoformat() for p in points],
            "accuracies": [p.accuracy for p in points],
        },
    }
    return json.dumps(feature).encode()


def square(lon: float, lat: float, half_side_deg: float) -> dict[str, object]:
    """A square GeoJSON polygon around a point."""
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - half_side_deg, lat - half_side_deg],
                [lon + half_side_deg, lat - half_side_deg],
                [lon + half_side_deg, lat + half_side_deg],
                [lon - half_side_deg, lat + half_side_deg],
                [lon - half_side_deg, lat - half_side_deg],
            ]
        ],
    }
