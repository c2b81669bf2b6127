"""The web shell over HTTP: health, readiness, OpenAPI, problem details, size limit, request ids, logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import msgspec
import pytest
from litestar import get, post
from litestar.params import FromQuery, JSONBody
from litestar.testing import TestClient

from linzhang.app import create_app
from linzhang.bootstrap import Container
from linzhang.errors import Conflict
from linzhang.log import configure_logging
from linzhang.settings import LoggingSettings, Settings
from tests.conftest import make_settings


class ProbeBody(msgspec.Struct):
    name: str
    trees: int
    password: str = ""


@post("/probe", sync_to_thread=False, exclude_from_auth=True)
def probe(data: JSONBody[ProbeBody]) -> dict[str, int]:
    if data.name == "taken":
        raise Conflict("探针名称已被占用", code="probe_taken", name=data.name)
    return {"trees": data.trees}


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(container=container, run_embedded_bus=False, extra_routes=[probe])
    with TestClient(app) as client:
        yield client


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    configure_logging(LoggingSettings(level="INFO", json=True))
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def log_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def assert_problem(response, status: int, code: str | None = None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A problem document with a Chinese detail (a person reads it) and an English machine code."""
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert any("\u4e00" <= char <= "\u9fff" for char in str(body["detail"])), body["detail"]
    assert body["code"]
    assert str(body["code"]).isascii()
    if code is not None:
        assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


def test_healthz(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_and_broker(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert (checks["database"], checks["broker"]) == ("ok", "ok")


def test_readyz_answers_503_when_the_database_is_unreachable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from linzhang.bootstrap import bootstrap

    broken = make_settings("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path)
    container = bootstrap(broken)
    try:
        with TestClient(create_app(container=container, run_embedded_bus=False)) as client:
            body = assert_problem(client.get("/readyz"), 503)
        assert body["checks"]["database"].startswith("failed")  # type: ignore[index]
        assert body["code"] == "not_ready"
        assert "database" in str(body["detail"])
    finally:
        container.close()


def test_openapi_schema_is_served(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "linzhang"
    assert "/healthz" in schema["paths"]


def test_unknown_route_is_a_problem(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_problem(client.get("/api/v1/nowhere"), 404, "route_not_found")
    assert body["instance"] == "/api/v1/nowhere"
    assert body["detail"] == "找不到该地址"


def test_a_wrong_method_is_a_chinese_405(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_problem(client.delete("/api/v1/probe"), 405, "method_not_allowed")
    assert body["detail"] == "该地址不支持此请求方法"


def test_a_missing_token_is_a_chinese_401_with_a_challenge(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get("/api/v1/me")
    body = assert_problem(response, 401, "token_required")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "登录" in str(body["detail"])
    bad = client.get("/api/v1/me", headers={"authorization": "Bearer nonsense"})
    assert assert_problem(bad, 401, "token_invalid")
    assert bad.headers["www-authenticate"] == "Bearer"


def test_malformed_json_is_a_400_that_says_so(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post("/api/v1/probe", content=b"{not json", headers={"content-type": "application/json"})
    body = assert_problem(response, 400, "malformed_json")
    assert body["detail"] == "请求内容不是有效的 JSON"


def test_wrong_field_type_is_a_400_naming_the_field(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_problem(client.post("/api/v1/probe", json={"name": "a", "trees": "many"}), 400, "invalid_request")
    assert body["field"] == "trees"
    assert body["detail"] == "请求内容有误：trees：应为整数，实为文本"


def test_missing_field_is_a_400_naming_the_field(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_problem(client.post("/api/v1/probe", json={"name": "a"}), 400, "invalid_request")
    assert "trees" in str(body["detail"])
    assert "缺少必填字段" in str(body["detail"])


def test_domain_error_keeps_its_status_and_extras(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_problem(client.post("/api/v1/probe", json={"name": "taken", "trees": 1}), 409, "probe_taken")
    assert body["detail"] == "探针名称已被占用"
    assert body["name"] == "taken"


def test_oversized_body_is_refused(settings: Settings, container: Container) -> None:
    limit = settings.http.max_request_bytes
    app = create_app(container=container, run_embedded_bus=False, extra_routes=[probe])
    with TestClient(app) as client:
        payload = json.dumps({"name": "x" * (limit + 10), "trees": 1}).encode()
        oversized = client.post("/api/v1/probe", content=payload, headers={"content-type": "application/json"})
        body = assert_problem(oversized, 413, "request_too_large")
        assert str(limit) in str(body["detail"])
        assert client.post("/api/v1/probe", json={"name": "x", "trees": 1}).status_code == 201


def test_every_response_carries_a_request_id(client: TestClient) -> None:  # type: ignore[type-arg]
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/api/v1/nowhere").headers["x-request-id"]
    assert first
    assert second
    assert first != second
    assert client.get("/healthz", headers={"x-request-id": "abc-123"}).headers["x-request-id"] == "abc-123"
    forged = client.get("/healthz", headers={"x-request-id": "bad id\nwith newline"}).headers["x-request-id"]
    assert forged != "bad id\nwith newline"


def test_access_log_has_request_id_and_never_the_body(client: TestClient, log_stream: io.StringIO) -> None:  # type: ignore[type-arg]
    response = client.post(
        "/api/v1/probe",
        json={"name": "a", "trees": 3, "password": "hunter2-secret"},
        headers={"x-request-id": "req-42", "authorization": "Bearer token-xyz"},
    )
    assert response.status_code == 201
    text = log_stream.getvalue()
    assert "hunter2-secret" not in text
    assert "token-xyz" not in text
    requests = [line for line in log_lines(log_stream) if line.get("event") == "request"]
    assert requests[-1]["request_id"] == "req-42"
    assert requests[-1]["path"] == "/api/v1/probe"
    assert requests[-1]["status"] == 201


def test_internal_errors_do_not_leak_details(container: Container, log_stream: io.StringIO) -> None:
    @post("/explode", sync_to_thread=False, exclude_from_auth=True)
    def explode() -> None:
        raise RuntimeError("database password is hunter2")

    app = create_app(container=container, run_embedded_bus=False, extra_routes=[explode])
    with TestClient(app) as client:
        body = assert_problem(client.post("/api/v1/explode"), 500)
    assert "hunter2" not in json.dumps(body)
    assert any(line.get("event") == "request.failed" for line in log_lines(log_stream))


@get("/probe-query", sync_to_thread=False, exclude_from_auth=True)
def probe_query(trees: FromQuery[int]) -> dict[str, int]:
    return {"trees": trees}


def test_a_bad_query_parameter_is_a_chinese_400_naming_it(container: Container) -> None:
    app = create_app(container=container, run_embedded_bus=False, extra_routes=[probe_query])
    with TestClient(app) as client:
        body = assert_problem(client.get("/api/v1/probe-query", params={"trees": "many"}), 400, "invalid_request")
        assert body["field"] == "trees"
        assert "trees" in str(body["detail"])
        missing = assert_problem(client.get("/api/v1/probe-query"), 400, "invalid_request")
        assert "trees" in str(missing["detail"])
