"""A season on the seed tree for the pages' tests: accounts, chiefs, a target, an issue that climbed to
the city, another village's work, and a computed assessment. Clock: 2021-03-23 (Asia/Shanghai)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.domains.jurisdictions.model import parse_division
from linzhang.domains.jurisdictions.service import import_divisions
from linzhang.identity import Role
from tests.support.bus import drain
from tests.support.world import PASSWORD, Api, add_user, seed_tree

ACCOUNTS = {
    "admin": (Role.ADMIN, None),
    "city-office": (Role.OFFICE, "50"),
    "wanzhou": (Role.CHIEF, "500101"),
    "gaosuntang": (Role.CHIEF, "500101001"),
    "village": (Role.CHIEF, "500101001001"),
    "xinhua": (Role.CHIEF, "500101002001"),
    "integration": (Role.INTEGRATION, "50"),
}
OTHER_VILLAGE = ("500101002001", "新华村", "village", "500101002")
START = "2021-03-01T09:00:00+08:00"
TODAY = "2021-03-23T09:00:00+08:00"


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def seed_season(container: Container, api: Api, clock: FixedClock) -> dict[str, int]:
    """The world the pages are tried on; returns the ids of the tasks the tests act on."""
    clock.set(shanghai(START))
    seed_tree(container)
    with container.transaction() as session:
        import_divisions(session, container.clock, [(2, parse_division(*OTHER_VILLAGE, line=2))])
    for username, (role, code) in ACCOUNTS.items():
        add_user(container, username, role, code)
    for name, post in (("张明", "市委书记"), ("李华", "市长")):
        _ok(
            api.post(
                "/chiefs", "admin", json={"name": name, "post": post, "role": "general", "jurisdiction_code": "50"}
            )
        )
    _ok(
        api.post(
            "/chiefs",
            "admin",
            json={"name": "王强", "post": "区委书记", "role": "general", "jurisdiction_code": "500101"},
        )
    )
    _ok(
        api.post(
            "/chiefs",
            "admin",
            json={"name": "陈静", "post": "街道党工委书记", "role": "chief", "jurisdiction_code": "500101001"},
        )
    )
    target = _ok(
        api.post(
            "/tasks",
            "gaosuntang",
            json={
                "title": "新造林",
                "kind": "target",
                "category": "afforestation",
                "jurisdiction_code": "500101001001",
                "due_date": "2021-06-30",
                "target_quantity": 100,
                "unit": "亩",
            },
        )
    )
    issue = _ok(
        api.post(
            "/tasks",
            "gaosuntang",
            json={
                "title": "松材线虫病疫木清理",
                "kind": "issue",
                "category": "pest_control",
                "jurisdiction_code": "500101001001",
                "due_date": "2021-03-03",
            },
        )
    )
    # Due within the next working days: marked due soon.
    _ok(
        api.post(
            "/tasks",
            "gaosuntang",
            json={
                "title": "森林防火巡查",
                "kind": "order",
                "category": "fire_prevention",
                "jurisdiction_code": "500101001001",
                "due_date": "2021-03-24",
            },
        )
    )
    # A second overdue issue, owned in another district, that stays at the city board.
    land = _ok(
        api.post(
            "/tasks",
            "city-office",
            json={
                "title": "违法占用林地整改",
                "kind": "issue",
                "category": "illegal_land_use",
                "jurisdiction_code": "500102001",
                "due_date": "2021-03-03",
            },
        )
    )
    other = _ok(
        api.post(
            "/tasks",
            "wanzhou",
            json={
                "title": "新华村护林巡查",
                "kind": "order",
                "category": "resource_protection",
                "jurisdiction_code": "500101002001",
                "due_date": "2021-06-30",
            },
        )
    )
    for when in ("2021-03-04T09:00:00+08:00", "2021-03-12T09:00:00+08:00", "2021-03-22T09:00:00+08:00"):
        clock.set(shanghai(when))
        api.forget()
        assert _ok(api.post("/escalations/sweep", "admin", json={}))["escalated"] >= 1
    clock.set(shanghai(TODAY))
    api.forget()
    drain(container)
    _ok(api.post("/assessments", "city-office", json={"period": "2021"}))
    return {"target": target["id"], "issue": issue["id"], "other": other["id"], "land": land["id"]}


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in_form_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no anti-forgery token"
    return match.group(1)


__all__ = ["ACCOUNTS", "PASSWORD", "TODAY", "seed_season", "sign_in_form_token"]
