"""OPTIONS on any path answers ``Allow`` with every method the path serves, and only those."""

from __future__ import annotations

import re

from litestar.routes import HTTPRoute

from linzhang.container import Container
from tests.support.world import api_client


def test_options_lists_every_method_of_a_path(container: Container) -> None:
    with api_client(container) as api:
        checked = 0
        for route in api.client.app.routes:
            if not isinstance(route, HTTPRoute):
                continue
            path = re.sub(r"\{[^}:]+:int\}", "1", route.path)
            path = re.sub(r"\{[^}]+\}", "50", path)
            response = api.client.request("OPTIONS", path)
            assert response.status_code == 204, f"OPTIONS {route.path}: {response.status_code}"
            allowed = {method.strip() for method in response.headers["allow"].split(",")}
            assert allowed == set(route.methods), f"{route.path}: Allow {allowed}, served {set(route.methods)}"
            checked += 1
        assert checked >= 50
        # Paths served by two handlers list both (the framework's own answer kept the first one's).
        for path, methods in {
            "/api/v1/tasks": "GET, OPTIONS, POST",
            "/api/v1/field-reports": "GET, OPTIONS, POST",
        }.items():
            assert api.client.request("OPTIONS", path).headers["allow"] == methods
            assert api.client.request("DELETE", path).status_code == 405
