"""Public signboards: the board anyone may read, its QR code, and a public report followed by its receipt.

A report filed on the board's form becomes an issue in that village's inbox (through the report intake),
and its receipt shows the issue's status as the village and the township act on it, and nothing else.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select

from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.domains.signboards.tables import reports_table
from linzhang.identity import Role
from linzhang.media.tables import photo_owners_table, photos_table
from linzhang.settings import Settings
from tests.e2e.test_pages import sign_in
from tests.e2e.test_tasks_api import NOW
from tests.support import photos
from tests.support.bus import drain
from tests.support.world import Api, api_client, seeded_world

VILLAGE = "500101001001"
ACCOUNTS = {
    "admin": (Role.ADMIN, None),
    "wanzhou-office": (Role.OFFICE, "500101"),
    "gaosuntang": (Role.CHIEF, "500101001"),
    "village": (Role.CHIEF, "500101001001"),
    "fuling": (Role.OFFICE, "500102"),
}


def tuned(settings: Settings, **sections: dict[str, Any]) -> Settings:
    changed = {name: msgspec.structs.replace(getattr(settings, name), **values) for name, values in sections.items()}
    return msgspec.structs.replace(settings, **changed)


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    small = tuned(
        settings, signboards={"reports_per_hour": 3}, media={"max_photo_bytes": 200_000, "max_photos_per_report": 2}
    )
    with seeded_world(small, registry, FixedClock(NOW), ACCOUNTS) as container:
        yield container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        api.post(
            "/chiefs",
            "wanzhou-office",
            json={"name": "刘德水", "post": "村党支部书记", "role": "chief", "jurisdiction_code": VILLAGE},
        )
        drain(world)
        yield api


def form_token(api: Api, code: str = VILLAGE) -> str:
    page = api.client.get(f"/signboards/{code}")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def file_report(
    api: Api, *, text: str = "后山有人砍伐松树，已砍倒三棵", files: list[tuple[str, Any]] | None = None, **fields: str
) -> Any:
    data = {"csrf_token": form_token(api), "category": "illegal_logging", "text": text, **fields}
    return api.client.post(f"/signboards/{VILLAGE}/reports", data=data, files=files or [], follow_redirects=False)


def count(world: Container, table: Any) -> int:
    with world.reading() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def status_of(api: Api, location: str) -> str:
    page = api.client.get(location)
    assert page.status_code == 200, page.text
    found = re.search(r'data-status="(\w+)"', page.text)
    assert found is not None
    return found.group(1)


def test_the_board_is_public_with_its_chiefs_duties_phone_and_qr_code(api: Api) -> None:
    page = api.client.get(f"/signboards/{VILLAGE}")
    assert page.status_code == 200
    assert "示范村林长公示牌" in page.text
    assert "刘德水" in page.text
    assert "村党支部书记" in page.text
    assert "负责本村（社区）林地日常巡护" in page.text
    assert 'href="tel:12345"' in page.text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    printable = api.client.get(f"/signboards/{VILLAGE}/print")
    assert printable.status_code == 200
    assert "刘德水" in printable.text
    assert f"http://testserver.local/signboards/{VILLAGE}" in printable.text


def test_an_unknown_jurisdiction_has_no_board(api: Api) -> None:
    for path in ("/signboards/509999", "/signboards/509999/print", "/signboards/509999/qr.svg", "/signboards/x" * 20):
        page = api.client.get(path, headers={"accept": "text/html"})
        assert page.status_code == 404, path
        assert "未找到" in page.text
    refused = api.client.post("/signboards/509999/reports", data={"csrf_token": form_token(api)})
    assert refused.status_code == 404


def test_the_qr_code_prints_at_signboard_size_as_svg_and_pdf(api: Api) -> None:
    svg = api.client.get(f"/signboards/{VILLAGE}/qr.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert 'width="200.0mm" height="200.0mm"' in svg.text
    pdf = api.client.get(f"/signboards/{VILLAGE}/qr.pdf", params={"size_cm": 30})
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    side = 30 * 72 / 2.54
    assert f"/MediaBox [0 0 {side:.1f}".encode() in pdf.content or b"/MediaBox [0 0 850.39" in pdf.content
    assert api.client.get(f"/signboards/{VILLAGE}/qr.pdf", params={"size_cm": 500}).status_code == 422


def test_a_public_report_becomes_an_issue_and_its_receipt_follows_the_issue(api: Api, world: Container) -> None:
    photo = photos.jpeg(320, 240)
    filed = file_report(
        api, files=[("photo", ("IMG_0001.JPG", photo, "image/jpeg"))], longitude="108.38", latitude="30.81"
    )
    assert filed.status_code == 303, filed.text
    location = filed.headers["location"]
    number = re.search(r"number=(GS-[0-9A-Z-]+)", location)
    assert number is not None
    assert status_of(api, location) == "received"
    drain(world)
    receipt = api.client.get(location)
    assert "辖区正在处理" in receipt.text
    assert number.group(1) in receipt.text
    # The receipt shows the status of this report and nothing else: not the text, not the chiefs' work.
    assert "砍伐松树" not in receipt.text
    assert "刘德水" not in receipt.text

    inbox = api.get("/inbox", "village").json()["items"]
    issue = next(item for item in inbox if item["category"] == "illegal_logging")
    task = api.get(f"/tasks/{issue['task_id']}", "village").json()
    assert (task["kind"], task["jurisdiction_code"], task["created_by"]) == ("issue", VILLAGE, "公众举报")
    assert "砍伐松树" in task["description"]
    timeline = api.get(f"/tasks/{task['id']}/timeline", "village").json()["items"]
    reported = next(entry for entry in timeline if entry["action"] == "reported")
    sha = reported["detail"]["photos"][0]
    assert api.get(f"/photos/{sha}", "village").content == photo
    assert api.get(f"/photos/{sha}", "fuling").status_code == 404

    assert api.post(f"/tasks/{task['id']}/complete", "village", json={"note": "已制止，伐桩已登记"}).status_code == 200
    drain(world)
    assert status_of(api, location) == "submitted"
    assert api.post(f"/tasks/{task['id']}/verify", "gaosuntang", json={"accepted": True}).status_code == 200
    drain(world)
    assert status_of(api, location) == "done"
    # Typed as a person would: lower case, spaces instead of dashes.
    typed = number.group(1).lower().replace("-", " ")
    assert status_of(api, f"/signboards/receipt?number={typed}") == "done"


def test_unknown_and_malformed_receipts_answer_alike(api: Api) -> None:
    for number in ("GS-0000-0000-0000-0000", "nonsense", "GS-" + "Z" * 300):
        page = api.client.get("/signboards/receipt", params={"number": number})
        assert page.status_code == 404
        assert "回执编号不存在" in page.text
    assert api.client.get("/signboards/receipt").status_code == 200


def test_a_client_address_files_a_few_reports_an_hour(api: Api, world: Container) -> None:
    for n in range(3):
        assert file_report(api, text=f"第{n}次反映：林区有烟").status_code == 303
    throttled = file_report(api, text="第四次反映：林区有烟")
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["retry-after"]) <= 3600
    assert "提交过于频繁" in throttled.text
    assert count(world, reports_table) == 3


@pytest.mark.parametrize(
    ("files", "fields", "status", "message"),
    [
        (
            [("photo", ("tree.jpg", b"not a photo at all", "image/jpeg"))],
            {},
            422,
            "只能上传 JPEG、PNG 或 WebP 格式的照片",
        ),
        ([("photo", ("tree.jpg", photos.truncated_jpeg(), "image/jpeg"))], {}, 422, "照片已损坏"),
        (
            [("photo", ("big.png", photos.jpeg(2000, 2000, color="white") + b"\0" * 200_000, "image/png"))],
            {},
            422,
            "照片不能超过",
        ),
        ([("photo", (f"{n}.webp", photos.webp(), "image/webp")) for n in range(3)], {}, 422, "照片不能超过 2 张"),
        ([], {"text": "火"}, 422, "至少 5 个字"),
        ([], {"category": "weather"}, 422, "请选择问题类别"),
        ([], {"longitude": "108.3"}, 422, "同时填写经度和纬度"),
        ([], {"longitude": "500", "latitude": "30"}, 422, "经度须在"),
    ],
)
def test_bad_reports_are_refused_on_the_form_and_write_nothing(
    api: Api, world: Container, files: list[Any], fields: dict[str, str], status: int, message: str
) -> None:
    refused = file_report(api, files=files, **fields)
    assert refused.status_code == status, refused.text
    assert message in refused.text
    # The form comes back with what was typed.
    assert "category" in refused.text
    assert count(world, reports_table) == count(world, photos_table) == count(world, photo_owners_table) == 0
    drain(world)
    assert api.get("/inbox", "village").json()["items"] == []


def test_a_body_declared_too_large_is_refused_before_it_is_read(api: Api, world: Container) -> None:
    token = form_token(api)
    body = io.BytesIO(b"x" * 10)
    refused = api.client.post(
        f"/signboards/{VILLAGE}/reports",
        content=body.getvalue(),
        headers={"content-type": "multipart/form-data; boundary=b", "content-length": str(50_000_000)},
    )
    assert refused.status_code == 413
    assert "上传内容过大" in refused.text
    assert token
    assert count(world, reports_table) == 0


def test_a_form_without_its_token_writes_nothing(api: Api, world: Container) -> None:
    form_token(api)
    forged = api.client.post(
        f"/signboards/{VILLAGE}/reports",
        data={"csrf_token": "forged", "category": "illegal_logging", "text": "后山有人砍伐松树"},
    )
    assert forged.status_code == 403
    api.client.cookies.clear()
    no_cookie = api.client.post(
        f"/signboards/{VILLAGE}/reports",
        data={"csrf_token": "anything", "category": "illegal_logging", "text": "后山有人砍伐松树"},
    )
    assert no_cookie.status_code == 403
    assert count(world, reports_table) == 0


def test_the_office_sets_its_boards_phone_duties_and_area(api: Api) -> None:
    edited = api.request(
        "PUT",
        f"/signboards/{VILLAGE}",
        "wanzhou-office",
        json={"supervision_phone": "023-58888888", "area": "3,200 亩"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["supervision_phone"] == "023-58888888"
    page = api.client.get(f"/signboards/{VILLAGE}")
    assert "023-58888888" in page.text
    assert "3,200 亩" in page.text
    assert api.request("PUT", f"/signboards/{VILLAGE}", "village", json={"area": "1 亩"}).status_code == 403
    foreign = api.request("PUT", f"/signboards/{VILLAGE}", "fuling", json={"area": "1 亩"})
    missing = api.request("PUT", "/signboards/509999", "fuling", json={"area": "1 亩"})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["code"] == missing.json()["code"] == "jurisdiction_not_found"
    too_long = api.request("PUT", f"/signboards/{VILLAGE}", "wanzhou-office", json={"duties": "职" * 3000})
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "duties_too_long"
    cleared = api.request("PUT", f"/signboards/{VILLAGE}", "wanzhou-office", json={"supervision_phone": ""})
    assert cleared.json()["supervision_phone"] == "12345"


def test_the_menu_leads_a_signed_in_chief_to_their_own_board(api: Api) -> None:
    assert api.client.get("/signboards/", follow_redirects=False).headers["location"].startswith("/login")
    assert sign_in(api.client, "village").status_code == 303  # type: ignore[attr-defined]
    inbox = api.client.get("/inbox")
    assert 'href="/signboards"' in inbox.text
    assert "公示牌" in inbox.text
    own = api.client.get("/signboards/", follow_redirects=False)
    assert own.status_code == 303
    assert own.headers["location"] == f"/signboards/{VILLAGE}"
