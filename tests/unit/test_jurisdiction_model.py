"""The division tree's rules: levels one below the parent, known parents, one parent per code."""

from __future__ import annotations

import pytest

from linzhang.domains.jurisdictions.model import (
    InvalidDivision,
    Level,
    PlacedDivision,
    parse_division,
    place_divisions,
)


def rows(*items: tuple[str, str, str, str | None]) -> list:  # type: ignore[type-arg]
    return [(line, parse_division(*item, line=line)) for line, item in enumerate(items, start=2)]


CITY = PlacedDivision("50", "重庆市", Level.CITY, None, "/50/")


def test_levels_are_ordered() -> None:
    assert Level.CITY.below is Level.DISTRICT
    assert Level.TOWNSHIP.below is Level.VILLAGE
    assert Level.VILLAGE.below is None
    assert Level.DISTRICT.above is Level.CITY


def test_a_file_in_any_order_gets_paths() -> None:
    placed = place_divisions(
        rows(
            ("500101001", "高笋塘街道", "township", "500101"),
            ("500101", "万州区", "district", "50"),
            ("50", "重庆市", "city", None),
        ),
        {},
    )
    assert {p.code: p.path for p in placed} == {
        "50": "/50/",
        "500101": "/50/500101/",
        "500101001": "/50/500101/500101001/",
    }


def test_functional_zone_with_its_own_code_sits_at_district_level() -> None:
    (zone,) = place_divisions(rows(("LJXQ", "两江新区", "district", "50")), {"50": CITY})
    assert zone.path == "/50/LJXQ/"
    assert zone.level is Level.DISTRICT


@pytest.mark.parametrize(
    ("items", "line", "words"),
    [
        ([("500101", "万州区", "district", "99")], 2, "division_parent_unknown"),
        ([("500101001", "街道", "township", "50")], 2, "division_level_mismatch"),
        ([("500101", "万州区", "district", "50"), ("500101", "万州区", "district", "50")], 3, "division_duplicate"),
        ([("500101", "万州区", "district", "50"), ("x1", "村", "village", "500101")], 3, "division_level_mismatch"),
        ([("a", "甲", "township", "b"), ("b", "乙", "township", "a")], 2, "division_cycle"),
    ],
)
def test_broken_rules_name_their_line(items: list, line: int, words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidDivision) as caught:
        place_divisions(rows(*items), {"50": CITY})
    assert caught.value.code == words
    assert caught.value.line == line
    assert str(caught.value).startswith(f"第{line}行：")


def test_a_known_code_cannot_change_parent_through_an_import() -> None:
    existing = {
        "50": CITY,
        "500101": PlacedDivision("500101", "万州区", Level.DISTRICT, "50", "/50/500101/"),
        "500102": PlacedDivision("500102", "涪陵区", Level.DISTRICT, "50", "/50/500102/"),
        "500101001": PlacedDivision("500101001", "街道", Level.TOWNSHIP, "500101", "/50/500101/500101001/"),
    }
    with pytest.raises(InvalidDivision, match="已隶属于 500101") as caught:
        place_divisions(rows(("500101001", "街道", "township", "500102")), existing)
    assert caught.value.line == 2


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        (("50 01", "x", "city", None), "division_code_invalid"),
        (("50", "", "city", None), "division_name_empty"),
        (("50", "重庆市", "province", None), "division_level_invalid"),
        (("50", "重庆市", "city", "1"), "division_city_with_parent"),
        (("500101", "万州区", "district", None), "division_parent_required"),
        (("500101", "万州区", "district", "500101"), "division_own_parent"),
    ],
)
def test_row_fields_are_checked(fields: tuple[str, str, str, str | None], words: str) -> None:
    with pytest.raises(InvalidDivision) as caught:
        parse_division(*fields, line=7)
    assert caught.value.code == words
