"""The scope rule over HTTP, as a matrix: role x own / child / sibling / parent / unrelated x read / write.

Every principal but the administrator is bound to 万州区 (500101). Reads outside the subtree answer 404
exactly as for an object that does not exist; refused writes change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from linzhang.container import Container
from linzhang.domains.chiefs.tables import chiefs_table
from linzhang.identity import Action, Role
from tests.support.world import Api, add_user, api_client, seed_tree

PLACES = {"own": "500101", "child": "500101001", "sibling": "500102", "parent": "50", "unrelated": "500102001"}
ACCOUNTS = {
    "admin": (Role.ADMIN, None, ()),
    "office": (Role.OFFICE, "500101", ()),
    "chief": (Role.CHIEF, "500101", ()),
    "integration": (Role.INTEGRATION, "500101", ()),
    "integration.appoint": (Role.INTEGRATION, "500101", (Action.APPOINT_CHIEF,)),
}
READ = {
    "admin": (200, 200, 200, 200, 200),
    "office": (200, 200, 404, 404, 404),
    "chief": (200, 200, 404, 404, 404),
    "integration": (200, 200, 404, 404, 404),
    "integration.appoint": (200, 200, 404, 404, 404),
}
WRITE = {
    "admin": (201, 201, 201, 201, 201),
    "office": (201, 201, 404, 404, 404),
    "chief": (403, 201, 404, 404, 404),
    "integration": (403, 403, 404, 404, 404),
    "integration.appoint": (201, 201, 404, 404, 404),
}
# Acting on an existing chief at each place (ending its term) follows the same rule as appointing there.
ACT_ON_CHIEF = {role: tuple(200 if code == 201 else code for code in row) for role, row in WRITE.items()}


@pytest.fixture
def world(container: Container) -> Container:
    seed_tree(container)
    for username, (role, code, grants) in ACCOUNTS.items():
        add_user(container, username, role, code, grants)
    return container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


def chief_count(container: Container) -> int:
    with container.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(chiefs_table)).scalar_one()


def appoint(api: Api, as_user: str, code: str, name: str = "张三") -> object:
    return api.post("/chiefs", as_user, json={"name": name, "post": "林长", "role": "chief", "jurisdiction_code": code})


@pytest.mark.parametrize("who", list(ACCOUNTS))
def test_read_matrix(api: Api, who: str) -> None:
    jurisdictions = tuple(api.get(f"/jurisdictions/{code}", who).status_code for code in PLACES.values())
    chief_lists = tuple(
        api.get("/chiefs", who, params={"jurisdiction_code": code}).status_code for code in PLACES.values()
    )
    coverage = tuple(api.get(f"/jurisdictions/{code}/coverage", who).status_code for code in PLACES.values())
    assert jurisdictions == READ[who]
    assert chief_lists == READ[who]
    assert coverage == READ[who]


@pytest.mark.parametrize("who", list(ACCOUNTS))
def test_write_matrix(api: Api, world: Container, who: str) -> None:
    answers = []
    for code in PLACES.values():
        before = chief_count(world)
        status = appoint(api, who, code).status_code  # type: ignore[attr-defined]
        answers.append(status)
        assert chief_count(world) == before + (1 if status == 201 else 0)
    assert tuple(answers) == WRITE[who]


@pytest.mark.parametrize("who", list(ACCOUNTS))
def test_acting_on_existing_chiefs(api: Api, who: str) -> None:
    ids = [appoint(api, "admin", code, name=f"在任{code}").json()["id"] for code in PLACES.values()]  # type: ignore[attr-defined]
    reads = tuple(200 if api.get(f"/chiefs/{i}", who).status_code == 200 else 404 for i in ids)
    ends = tuple(api.post(f"/chiefs/{i}/end-term", who, json={"reason": "调任"}).status_code for i in ids)
    assert reads == READ[who]
    assert ends == ACT_ON_CHIEF[who]


def test_unknown_objects_answer_like_hidden_ones(api: Api) -> None:
    hidden = api.get("/jurisdictions/500102", "chief")
    missing = api.get("/jurisdictions/999999", "chief")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["title"] == missing.json()["title"]
    assert api.get("/chiefs/987654", "chief").status_code == 404


def test_listings_never_leak_outside_the_subtree(api: Api) -> None:
    for code in PLACES.values():
        appoint(api, "admin", code, name=f"林长{code}")
    mine = api.get("/chiefs", "chief").json()["items"]
    assert {item["jurisdiction_code"] for item in mine} == {"500101", "500101001"}
    subtree = api.get("/jurisdictions", "chief").json()["items"]
    assert {item["code"] for item in subtree} == {"500101", "500101001", "500101001001", "500101002"}
    assert api.get("/jurisdictions", "chief", params={"under": "500102"}).status_code == 404
