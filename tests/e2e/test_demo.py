"""The demo loads once, its events delivered before it returns: coverage fills in, accounts sign in.

Its season is dated from today: most work is on time, some is due soon, some is late and held at the
township, the district and the city; this year's ranking spreads over every grade; people and villages
have Chinese names.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

from litestar.testing import TestClient

from linzhang.app import create_app
from linzhang.clock import SHANGHAI
from linzhang.container import Container
from linzhang.demo import DEMO_PASSWORD, load_demo
from linzhang.demo.names import SURNAMES


def test_demo_loads_once_and_the_running_server_delivers_its_events(container: Container) -> None:
    report = load_demo(container, villages=40)
    assert report.loaded
    today = container.clock.now().astimezone(SHANGHAI).date()
    assert report.period == str(today.year)
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
        # 万州区 itself and 高笋塘街道 always have chiefs in the demo; their events were delivered.
        assert body["covered"] >= 2
        assert body["total"] >= body["covered"]

        # The season's reports roll up to the city's 营造林 target through the bus.
        admin = client.post("/api/v1/auth/token", json={"username": "admin", "password": DEMO_PASSWORD}).json()
        admin_headers = {"authorization": f"Bearer {admin['access_token']}"}
        plan = client.get(
            "/api/v1/tasks", headers=admin_headers, params={"plan_key": f"chongqing-{today.year}", "limit": 100}
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

        # A live year: this year's plan, work on time, due soon, late and held at every level above a village.
        assert afforestation["due_date"] >= today.isoformat()
        leaves = []
        cursor = None
        while True:
            page = client.get(
                "/api/v1/tasks", headers=admin_headers, params={"limit": 200, **({"cursor": cursor} if cursor else {})}
            ).json()
            leaves += [item for item in page["items"] if item["children_count"] == 0 and item["kind"] != "order"]
            if not (cursor := page["next"]):
                break
        open_leaves = [leaf for leaf in leaves if leaf["status"] != "done"]
        on_time = [leaf for leaf in leaves if leaf["status"] == "done" or not leaf["overdue"]]
        soon = today + dt.timedelta(days=5)
        assert len(on_time) > len(leaves) / 2
        assert any(today.isoformat() <= leaf["due_date"] <= soon.isoformat() for leaf in open_leaves)
        held = Counter(leaf["holder_level"] for leaf in open_leaves if leaf["holder_code"] != leaf["jurisdiction_code"])
        assert held["township"] > 0
        assert held["district"] > 0
        assert held["city"] > 0
        village_work = [leaf for leaf in leaves if len(leaf["jurisdiction_code"]) == 12]
        assert len({leaf["jurisdiction_code"][:6] for leaf in village_work}) >= 3  # villages in several districts

        # This year's assessment is computed on the demo, and the districts spread over every grade.
        scores = client.get(
            f"/api/v1/assessments/{today.year}/scores",
            headers=admin_headers,
            params={"level": "district", "limit": 100},
        ).json()["items"]
        assert {"优秀", "良好", "合格", "不合格"} <= {score["grade"] for score in scores}

        # Chinese names: chiefs are people, a 街道 has 社区 and a 镇 or 乡 has 村.
        chiefs = client.get("/api/v1/chiefs", headers=admin_headers, params={"limit": 200}).json()["items"]
        assert all(chief["name"][0] in SURNAMES for chief in chiefs)
        villages = client.get(
            "/api/v1/jurisdictions", headers=admin_headers, params={"level": "village", "limit": 100}
        ).json()["items"]
        parents = {
            v["parent_code"]: client.get(f"/api/v1/jurisdictions/{v['parent_code']}", headers=admin_headers).json()
            for v in villages
        }
        for village in villages:
            township = parents[village["parent_code"]]["name"]
            assert village["name"].endswith("社区" if township.endswith("街道") else "村"), (township, village)
