"""Where a person lands and where a sign-in may send them back to."""

from __future__ import annotations

import pytest

from linzhang.identity import Principal, Role
from linzhang.web.session import Viewer, safe_next


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/inbox", "/inbox"),
        ("/tasks/5?x=1", "/tasks/5?x=1"),
        ("", None),
        (None, None),
        ("//elsewhere.example/x", None),
        ("https://elsewhere.example", None),
        ("/\\elsewhere.example", None),
        ("inbox", None),
    ],
)
def test_only_local_paths_come_back_after_sign_in(value: str | None, expected: str | None) -> None:
    assert safe_next(value) == expected


def viewer(role: Role, level: str) -> Viewer:
    return Viewer(Principal(1, "u", role, None if role is Role.ADMIN else "50", "/50/"), "t", "", level)


@pytest.mark.parametrize(
    ("role", "level", "home"),
    [
        (Role.CHIEF, "village", "/inbox"),
        (Role.CHIEF, "township", "/inbox"),
        (Role.CHIEF, "district", "/inbox"),
        (Role.CHIEF, "city", "/board"),
        (Role.OFFICE, "city", "/board"),
        (Role.OFFICE, "district", "/board"),
        (Role.OFFICE, "township", "/inbox"),
        (Role.ADMIN, "city", "/board"),
    ],
)
def test_the_landing_page_depends_on_the_role(role: Role, level: str, home: str) -> None:
    assert viewer(role, level).home == home
    assert viewer(role, level).sees_board is (level in {"city", "district"})
