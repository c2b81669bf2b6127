"""The demo loads once, and a running server delivers its events: coverage fills in, accounts sign in."""

from __future__ import annotations

import time

from litestar.testing import TestClient

from linzhang.app import create_app
from linzhang.container import Container
from linzhang.demo import DEMO_PASSWORD, load_demo


def test_demo_loads_once_and_the_running_server_delivers_its_events(container: Container) -> None:
    report = load_demo(container, villages=40)
    assert report.loaded
    assert report.jurisdictions == 1 + 38 + 3 + 1031 + 40
    assert {"admin", "city-office", "wanzhou-chief", "village-chief"} <= set(report.accounts)
    assert load_demo(container, villages=40).loaded is False

    with TestClient(create_app(container=container, run_embedded_bus=True)) as client:
        token = client.post("/api/v1/auth/token", json={"username": "wanzhou-chief", "password": DEMO_PASSWORD}).json()
        headers = {"authorization": f"Bearer {token['access_token']}"}
        assert client.get("/api/v1/jurisdictions/50/coverage", headers=headers).status_code == 404
        deadline = time.monotonic() + 30
        while True:
            body = client.get("/api/v1/jurisdictions/500101/coverage", headers=headers).json()
            if body["covered"] >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        # 万州区 itself and 高笋塘街道 always have chiefs in the demo; the relay delivered their events.
        assert body["covered"] >= 2
        assert body["total"] >= body["covered"]

        # The season's reports roll up to the city's 营造林 target through the running bus.
        admin = client.post("/api/v1/auth/token", json={"username": "admin", "password": DEMO_PASSWORD}).json()
        admin_headers = {"authorization": f"Bearer {admin['access_token']}"}
        plan = client.get(
            "/api/v1/tasks", headers=admin_headers, params={"plan_key": "chongqing-2021", "limit": 100}
        ).json()
        afforestation = next(item for item in plan["items"] if item["title"] == "营造林" and item["parent_id"] is None)
        assert afforestation["target_quantity"] == 5_000_000
        assert afforestation["children_count"] == 41
        while True:
            city = client.get(f"/api/v1/tasks/{afforestation['id']}", headers=admin_headers).json()
            if city["completed_quantity"] > 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        parts = client.get(
            "/api/v1/tasks", headers=admin_headers, params={"parent_id": afforestation["id"], "limit": 100}
        ).json()
        assert city["completed_quantity"] == sum(part["completed_quantity"] for part in parts["items"])
        assert city["completed_quantity"] > 0
