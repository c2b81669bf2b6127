"""The OpenAPI document describes every operation: its problems, whether it needs a token, a real summary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from linzhang.container import Container
from tests.support.world import api_client

ANONYMOUS = {("get", "/healthz"), ("get", "/readyz"), ("post", "/api/v1/auth/token")}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(container: Container) -> Iterator[dict[str, Any]]:
    with api_client(container) as api:
        yield api.client.get("/schema/openapi.json").json()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def test_every_operation_documents_its_problem_documents(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert {"title", "status", "detail", "code"} <= set(problem["required"])
    for method, path, operation in operations(document):
        expected = {"400", "401", "404", "413", "422", "429", "503"}
        if (method, path) not in ANONYMOUS:
            expected |= {"403", "409"}
        assert expected <= set(operation["responses"]), (method, path)
        for status in expected:
            content = operation["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}


def test_only_health_and_signing_in_need_no_token(document: dict[str, Any]) -> None:
    assert "security" not in document
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for method, path, operation in operations(document):
        if (method, path) in ANONYMOUS:
            assert not operation.get("security"), (method, path)
        else:
            assert operation["security"] == [{"bearer": []}], (method, path)


def test_every_operation_has_a_descriptive_summary(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        summary = operation["summary"]
        # Not the handler's name run together ("GetTask"), not one word ("Progress", "交办").
        assert " " in summary or len(summary) >= 8, (method, path, summary)
        assert summary != summary.replace(" ", "").title(), (method, path, summary)
        assert " ".join(operation["description"].split()).startswith(summary), (method, path)
