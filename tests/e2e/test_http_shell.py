"""The web shell over HTTP: health, readiness, OpenAPI, problem details, size limit, request ids, logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import msgspec
import pytest
from litestar import post
from litestar.params import JSONBody
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
        raise Conflict("a probe named taken exists already", name=data.name)
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


def assert_problem(response, status: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
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
    body = assert_problem(client.get("/api/v1/nowhere"), 404)
    assert body["instance"] == "/api/v1/nowhere"


def test_malformed_json_is_a_400_that_says_so(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post("/api/v1/probe", content=b"{not json", headers={"content-type": "application/json"})
    body = assert_problem(response, 400)
    assert "JSON" in str(body["detail"]) or "malformed" in str(body["detail"]).lower()


def test_wrong_field_type_is_a_400_naming_the_field(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_problem(client.post("/api/v1/probe", json={"name": "a", "trees": "many"}), 400)
    assert "trees" in str(body["detail"])


def test_missing_field_is_a_400_naming_the_field(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_problem(client.post("/api/v1/probe", json={"name": "a"}), 400)
    assert "trees" in str(body["detail"])


def test_domain_error_keeps_its_status_and_extras(client: TestClient) -> None:  # type: ignore[type-arg]
    body = assert_problem(client.post("/api/v1/probe", json={"name": "taken", "trees": 1}), 409)
    assert body["detail"] == "a probe named taken exists already"
    assert body["name"] == "taken"


def test_oversized_body_is_refused(settings: Settings, container: Container) -> None:
    limit = settings.http.max_request_bytes
    app = create_app(container=container, run_embedded_bus=False, extra_routes=[probe])
    with TestClient(app) as client:
        payload = json.dumps({"name": "x" * (limit + 10), "trees": 1}).encode()
        assert_problem(client.post("/api/v1/probe", content=payload, headers={"content-type": "application/json"}), 413)
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
