"""No oracle: an object outside the caller's jurisdiction answers exactly like one that does not exist.

The walk takes every route of the OpenAPI document that names an object (a path parameter, or a query
or body field carrying a jurisdiction code), asks it once with a foreign object (in 涪陵区, outside the
callers' 万州区) and once with a missing one of the same length, as every kind of account bound to
万州区, and fails on any difference in status, body (but ``instance``, the request's own path) or
headers (but the request id and the date). New routes are walked without editing this test; a new
kind of path parameter gets the same value on both sides until it is added to ``foreign_and_missing``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from linzhang.container import Container
from linzhang.identity import Action, Role
from linzhang.identity.sessions import PAGE_ROLES
from linzhang.media import attach, store_photo
from linzhang.media.upload import limits_of
from tests.support import photos
from tests.support.world import PASSWORD, Api, add_user, api_client, seed_tree

FOREIGN_CODE, MISSING_CODE = "500102", "509999"  # 涪陵区, and a code nobody has
FOREIGN_TITLE, FOREIGN_CHIEF = "涪陵的秘密任务", "涪陵林长甲"
CALLERS = {
    "wz-office": (Role.OFFICE, "500101", ()),
    "wz-chief": (Role.CHIEF, "500101", ()),
    "village-chief": (Role.CHIEF, "500101001001", ()),
    "wz-integration": (Role.INTEGRATION, "500101", (Action.READ_EVENTS, Action.ASSIGN_WORK)),
}
# Headers that differ between any two requests, whatever they ask.
VOLATILE_HEADERS = {"x-request-id", "date"}
# Query parameters that name an object, and the kind of object they name.
QUERY_REFERENCES = {"jurisdiction_code": "code", "under": "code", "district_code": "code", "parent_id": "task_id"}
# Bodies that make each write reach its lookup (anything refused earlier would compare trivially).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/tasks/{task_id}/split"): {"parts": [{"jurisdiction_code": "500101001", "target_quantity": 1}]},
    ("POST", "/api/v1/tasks/{task_id}/progress"): {"completed_quantity": 1},
    ("POST", "/api/v1/tasks/{task_id}/verify"): {"accepted": True},
    ("POST", "/api/v1/tasks/{task_id}/comments"): {"text": "请加快进度"},
    ("POST", "/api/v1/tasks/{task_id}/supervise"): {"note": "督办", "new_due_date": "2099-12-31"},
    ("POST", "/api/v1/chiefs/{chief_id}/replace"): {"name": "李四", "post": "林长"},
    ("POST", "/api/v1/chiefs/{chief_id}/end-term"): {"reason": "调任"},
}
# Writes that name a jurisdiction in their body: the field, and the rest of the body.
BODY_REFERENCES: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("POST", "/api/v1/tasks"): (
        "jurisdiction_code",
        {"title": "营造林", "kind": "target", "target_quantity": 10, "unit": "亩", "due_in_workdays": 10},
    ),
    ("POST", "/api/v1/chiefs"): ("jurisdiction_code", {"name": "王五", "post": "林长", "role": "chief"}),
    ("POST", "/api/v1/assessments/{period}/vetoes"): ("jurisdiction_code", {"reason": "发生重大森林火灾"}),
    ("POST", "/api/v1/assessments/{period}/bonuses"): ("jurisdiction_code", {"item": "x", "reason": "创新"}),
}


def same_length_missing(value: int) -> int:
    """A number with as many digits as ``value`` (so the answers have the same length), far past any id."""
    return int("9" * len(str(value)))


@pytest.fixture
def world(container: Container) -> Container:
    seed_tree(container)
    add_user(container, "admin", Role.ADMIN, None)
    add_user(container, "fuling-office", Role.OFFICE, FOREIGN_CODE)
    for username, (role, code, grants) in CALLERS.items():
        add_user(container, username, role, code, grants)
    return container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


@pytest.fixture
def foreign_photo(world: Container) -> str:
    """A photo of a record in 涪陵区."""
    with world.transaction() as session:
        photo = store_photo(
            session, world.photos, photos.jpeg(color="blue"), limits_of(world.settings.media), world.clock.now()
        )
        attach(session, photo.sha256, owner_kind="test", owner_ref="1", owner_path="/50/500102/", now=world.clock.now())
    return photo.sha256


@pytest.fixture
def foreign(api: Api, foreign_photo: str) -> dict[str, str]:
    """One object of each kind in 涪陵区, and a missing object of the same length for each."""
    task = api.post(
        "/tasks",
        "fuling-office",
        json={
            "title": FOREIGN_TITLE,
            "kind": "target",
            "jurisdiction_code": FOREIGN_CODE,
            "target_quantity": 100,
            "unit": "亩",
            "due_in_workdays": 10,
        },
    )
    assert task.status_code == 201, task.text
    chief = api.post(
        "/chiefs",
        "fuling-office",
        json={"name": FOREIGN_CHIEF, "post": "区长", "role": "chief", "jurisdiction_code": FOREIGN_CODE},
    )
    assert chief.status_code == 201, chief.text
    year = str(dt.date.today().year)
    assert api.post("/assessments", "admin", json={"period": year}).status_code == 201
    task_id, chief_id = task.json()["id"], chief.json()["id"]
    assert api.get(f"/tasks/{same_length_missing(task_id)}", "admin").status_code == 404
    assert api.get(f"/chiefs/{same_length_missing(chief_id)}", "admin").status_code == 404
    return {
        "task_id": str(task_id),
        "task_id.missing": str(same_length_missing(task_id)),
        "chief_id": str(chief_id),
        "chief_id.missing": str(same_length_missing(chief_id)),
        "code": FOREIGN_CODE,
        "code.missing": MISSING_CODE,
        "period": year,
        "sha256": foreign_photo,
        "sha256.missing": "0" * 64,
    }


def foreign_and_missing(parameter: str, objects: dict[str, str]) -> tuple[str, str]:
    """The foreign and the missing value of a path parameter; one value for both when it names no object."""
    kind = {"task_id": "task_id", "chief_id": "chief_id", "code": "code", "sha256": "sha256"}.get(parameter)
    if kind is None:
        value = objects.get(parameter, "1")
        return value, value
    return objects[kind], objects[f"{kind}.missing"]


def comparable(response: Any) -> tuple[int, Any, dict[str, str]]:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key != "instance"}
    headers = {key: value for key, value in response.headers.items() if key.lower() not in VOLATILE_HEADERS}
    return response.status_code, body, headers


def requests_of(schema: dict[str, Any], objects: dict[str, str]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """Each (label, method, foreign request, missing request) pair the OpenAPI document allows."""
    for template, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            method = method.upper()
            names = re.findall(r"{(\w+)}", template)
            chosen = {name: foreign_and_missing(name, objects) for name in names}
            foreign_path = missing_path = template
            for name, (there, nowhere) in chosen.items():
                foreign_path = foreign_path.replace(f"{{{name}}}", there)
                missing_path = missing_path.replace(f"{{{name}}}", nowhere)
            body = BODIES.get((method, template))
            kwargs: dict[str, Any] = {} if method == "GET" else {"json": body if body is not None else {}}
            if any(there != nowhere for there, nowhere in chosen.values()):
                yield (f"{method} {template}", method, (foreign_path, kwargs), (missing_path, kwargs))
            for parameter in operation.get("parameters", []):
                kind = QUERY_REFERENCES.get(parameter["name"])
                if parameter.get("in") != "query" or kind is None:
                    continue
                there, nowhere = objects[kind], objects[f"{kind}.missing"]
                yield (
                    f"{method} {template}?{parameter['name']}",
                    method,
                    (foreign_path, {**kwargs, "params": {parameter["name"]: there}}),
                    (foreign_path, {**kwargs, "params": {parameter["name"]: nowhere}}),
                )
            if (method, template) in BODY_REFERENCES:
                field, rest = BODY_REFERENCES[(method, template)]
                yield (
                    f"{method} {template} {field}",
                    method,
                    (foreign_path, {"json": {**rest, field: objects["code"]}}),
                    (foreign_path, {"json": {**rest, field: objects["code.missing"]}}),
                )


def ask(api: Api, method: str, who: str, request: tuple[str, dict[str, Any]]) -> Any:
    path, kwargs = request
    token = api.token(who)
    return api.client.request(method, path, headers={"authorization": f"Bearer {token}"}, **kwargs)


@pytest.mark.parametrize("who", list(CALLERS))
def test_foreign_and_missing_objects_answer_alike(api: Api, foreign: dict[str, str], who: str) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    pairs = list(requests_of(schema, foreign))
    walked = {label.split(" ")[1].split("?")[0] for label, *_ in pairs}
    # The walk reaches every kind of object: tasks, jurisdictions, chiefs, assessments, inboxes, lists.
    assert {
        "/api/v1/tasks/{task_id}",
        "/api/v1/jurisdictions/{code}",
        "/api/v1/chiefs/{chief_id}",
        "/api/v1/assessments/{period}/jurisdictions/{code}",
        "/api/v1/inbox",
        "/api/v1/tasks",
        "/api/v1/chiefs",
        "/api/v1/photos/{sha256}",
        "/api/v1/photos/{sha256}/thumbnail",
    } <= walked
    differences = []
    for label, method, there, nowhere in pairs:
        on_foreign, on_missing = ask(api, method, who, there), ask(api, method, who, nowhere)
        assert FOREIGN_TITLE not in on_foreign.text, (label, on_foreign.text)
        assert FOREIGN_CHIEF not in on_foreign.text, (label, on_foreign.text)
        if comparable(on_foreign) != comparable(on_missing):
            differences.append((label, comparable(on_foreign), comparable(on_missing)))
    assert differences == []


@pytest.mark.parametrize("who", ["wz-office", "wz-chief"])
def test_a_split_to_a_foreign_or_an_unknown_child_answers_alike(api: Api, who: str) -> None:
    own = api.post(
        "/tasks",
        "wz-office",
        json={
            "title": "万州造林",
            "kind": "target",
            "jurisdiction_code": "500101",
            "target_quantity": 10,
            "unit": "亩",
            "due_in_workdays": 10,
        },
    ).json()
    answers = [
        api.post(f"/tasks/{own['id']}/split", who, json={"parts": [{"jurisdiction_code": code, "target_quantity": 10}]})
        for code in (FOREIGN_CODE, MISSING_CODE)
    ]
    on_foreign, on_missing = (comparable(answer) for answer in answers)
    assert on_foreign == on_missing
    assert on_foreign[0] == 422
    assert on_foreign[1]["code"] == "split_not_a_child"


def test_the_answer_is_one_chinese_not_found_per_kind(api: Api, foreign: dict[str, str]) -> None:
    expected = {
        f"/tasks/{foreign['task_id']}": ("task_not_found", "任务不存在"),
        f"/jurisdictions/{FOREIGN_CODE}": ("jurisdiction_not_found", "辖区不存在"),
        f"/chiefs/{foreign['chief_id']}": ("chief_not_found", "林长不存在"),
        f"/assessments/{foreign['period']}/jurisdictions/{FOREIGN_CODE}": ("assessment_not_found", "考核结果不存在"),
    }
    for path, (code, detail) in expected.items():
        body = api.get(path, "wz-office").json()
        assert (body["status"], body["code"], body["detail"]) == (404, code, detail), path
        assert FOREIGN_CODE not in body["detail"]
    created = api.post(
        "/tasks",
        "wz-office",
        json={"title": "x", "kind": "order", "jurisdiction_code": MISSING_CODE, "due_in_workdays": 3},
    )
    assert (created.status_code, created.json()["code"], created.json()["field"]) == (
        404,
        "jurisdiction_not_found",
        "jurisdiction_code",
    )


# --- The pages: every page route of the app, every kind of account, a foreign object vs a missing one. ---

# Query parameters of the pages that name an object, and the kind of object they name.
PAGE_QUERY_REFERENCES = {"code": "code", "district": "code"}
# Forms that make each page write reach its lookup.
PAGE_FORMS: dict[str, dict[str, str]] = {
    "/tasks/{task_id}/progress": {"completed_quantity": "1"},
    "/tasks/{task_id}/complete": {"note": "完成"},
    "/tasks/{task_id}/verify": {"accepted": "true"},
    "/tasks/{task_id}/comments": {"text": "请加快进度"},
    "/tasks/{task_id}/supervise": {"note": "督办", "new_due_date": "2099-12-31"},
    "/tasks/{task_id}/summons": {"planned_on": "2099-12-31", "place": "会议室"},
}
NOT_PAGES = ("/api/", "/schema", "/static", "/metrics", "/healthz", "/readyz")


def page_callers() -> dict[str, tuple[Role, str | None]]:
    """One account of each role bound to 万州区 (a chief also at a township and a village), and an administrator.

    Built from the Role enum: a new role is walked as soon as it exists.
    """
    callers: dict[str, tuple[Role, str | None]] = {}
    for role in Role:
        if role is Role.ADMIN:
            continue
        callers[f"page-{role.value}"] = (role, "500101")
    callers["page-township-chief"] = (Role.CHIEF, "500101001")
    callers["page-village-chief"] = (Role.CHIEF, "500101001001")
    return callers


def page_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every signed-in page of the app's route table, API and assets left out."""
    found = []
    for route in app.routes:
        path = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)
        if path.startswith(NOT_PAGES) or not hasattr(route, "route_handlers"):
            continue
        for handler in route.route_handlers:
            # A page with no signed-in viewer is public by design (the sign-in page, the public
            # signboards: anyone may read any board); the walk is about what a session may see.
            if "viewer" not in handler.parsed_fn_signature.parameters:
                continue
            for method in handler.http_methods:
                if method in {"GET", "POST"}:
                    found.append((method, path))
    return sorted(set(found))


Request = tuple[str, dict[str, str]]


def page_requests(
    method: str, template: str, objects: dict[str, str]
) -> Iterator[tuple[str, Request, Request, str, str]]:
    """(label, foreign request, missing request, foreign id, missing id) for one page route."""
    names = re.findall(r"{(\w+)}", template)
    if names:
        there = nowhere = template
        for name in names:
            value, missing = foreign_and_missing(name, objects)
            there, nowhere = there.replace(f"{{{name}}}", value), nowhere.replace(f"{{{name}}}", missing)
        yield f"{method} {template}", (there, {}), (nowhere, {}), objects["task_id"], objects["task_id.missing"]
    elif method == "GET":
        for parameter, kind in PAGE_QUERY_REFERENCES.items():
            value, missing = objects[kind], objects[f"{kind}.missing"]
            yield (
                f"GET {template}?{parameter}",
                (template, {parameter: value}),
                (template, {parameter: missing}),
                value,
                missing,
            )


def comparable_page(response: Any, foreign_id: str, missing_id: str) -> tuple[int, str, str]:
    text = response.text.replace(foreign_id, "<id>").replace(missing_id, "<id>")
    # The session's own tokens and the request id differ from request to request, whatever they ask.
    text = re.sub(r'(csrf[^"]*"\s*(?:value=|:\s*)")[^"]+', r"\1<token>", text, flags=re.IGNORECASE)
    text = re.sub(r"[0-9a-f]{32}", "<request-id>", text)
    return response.status_code, response.headers.get("content-type", ""), text


@pytest.mark.parametrize("who", list(page_callers()))
def test_pages_answer_alike_for_foreign_and_missing_objects(
    world: Container, api: Api, foreign: dict[str, str], who: str
) -> None:
    from litestar.testing import TestClient

    from linzhang.app import create_app
    from tests.support.pages import sign_in_form_token

    role, code = page_callers()[who]
    add_user(world, who, role, code)
    app = create_app(container=world, run_embedded_bus=False)
    routes = page_routes(app)
    assert ("GET", "/tasks/{task_id}") in routes
    assert ("GET", "/coverage") in routes
    with TestClient(app) as client:
        form = client.get("/login")
        signed = client.post(
            "/login",
            data={"username": who, "password": PASSWORD, "csrf_token": sign_in_form_token(form.text), "next": ""},
            follow_redirects=False,
        )
        if role not in PAGE_ROLES:
            # Roles that use the API alone (another system, a ranger's phone): the pages never let them
            # in, so there is nothing of theirs to walk.
            assert signed.status_code == 403
            assert "不能登录页面" in signed.text
            assert client.get("/coverage", follow_redirects=False).status_code in (302, 303)
            return
        assert signed.status_code in (302, 303), signed.text
        home = client.get("/coverage")
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', home.text)
        headers = {"x-csrf-token": token.group(1)} if token else {}
        differences, walked = [], 0
        for method, template in routes:
            for label, there, nowhere, foreign_id, missing_id in page_requests(method, template, foreign):
                answers = []
                for path, params in (there, nowhere):
                    kwargs: dict[str, Any] = {"follow_redirects": False, "params": params}
                    if method == "POST":
                        kwargs["data"] = PAGE_FORMS.get(template, {})
                        kwargs["headers"] = headers
                    answers.append(client.request(method, path, **kwargs))
                walked += 1
                on_foreign, on_missing = answers
                assert on_foreign.status_code < 500, (label, on_foreign.text[:300])
                assert on_missing.status_code < 500, (label, on_missing.text[:300])
                assert FOREIGN_TITLE not in on_foreign.text, label
                assert FOREIGN_CHIEF not in on_foreign.text, label
                if comparable_page(on_foreign, foreign_id, missing_id) != comparable_page(
                    on_missing, foreign_id, missing_id
                ):
                    differences.append((label, on_foreign.status_code, on_missing.status_code))
        assert walked >= len(PAGE_FORMS) + 1
        # An id beyond any column is simply not found, like any other missing task.
        beyond = client.get("/tasks/99999999999999999999999", follow_redirects=False)
        assert beyond.status_code == 404, beyond.text[:300]
        assert differences == []
