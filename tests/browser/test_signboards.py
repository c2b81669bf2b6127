"""The public signboard in a real browser: a passer-by on a phone reports a problem with a photo, keeps the
receipt, and sees its status change once the village has it; the village chief sees the issue and photo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import LiveServer

# ``requests`` is the walk's fixture that fails a test whose pages asked any other server for anything.
from tests.browser.test_walk import PHONE, requests, shot, sign_in  # noqa: F401
from tests.support import photos
from tests.support.bus import drain

VILLAGE = "500101001001"


@pytest.mark.usefixtures("requests")
def test_a_passer_by_reports_and_follows_the_receipt(
    context: BrowserContext,
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    server = live_server
    context.clear_cookies()
    page = context.new_page()
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.goto(f"{server.base_url}/signboards/{VILLAGE}")
    expect(page.get_by_role("heading", name="示范村林长公示牌")).to_be_visible()
    expect(page.locator(".signboard-qr svg")).to_be_visible()
    expect(page.get_by_role("link", name="12345")).to_be_visible()
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "signboard-phone")

    # A file that is not a photo is refused in Chinese, and what was typed stays.
    fake = tmp_path / "tree.jpg"
    fake.write_bytes(b"this is not a photo")
    page.get_by_label("问题类别").select_option(label="乱砍滥伐")
    page.get_by_label("问题描述").fill("村口后山有人砍伐松树，已砍倒三棵")
    page.get_by_label(re.compile("照片")).set_input_files(str(fake))
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("alert")).to_have_text("只能上传 JPEG、PNG 或 WebP 格式的照片")
    expect(page.get_by_label("问题描述")).to_have_value("村口后山有人砍伐松树，已砍倒三棵")

    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(photos.jpeg(800, 600))
    page.get_by_label(re.compile("照片")).set_input_files(str(photo))
    page.get_by_label("经度").fill("108.38")
    page.get_by_label("纬度").fill("30.81")
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(re.compile(r"/signboards/receipt\?number=GS-"))
    expect(page.get_by_role("status")).to_contain_text("请记下回执编号")
    number = page.locator(".receipt-number").inner_text()
    assert re.fullmatch(r"GS(-[0-9A-Z]{4}){4}", number)
    expect(page.locator("[data-status]")).to_have_text("已受理，正在转交辖区")
    shot(page, "signboard-receipt")

    drain(server.container)
    # Later, from the receipt form: the village has it now.
    page.goto(f"{server.base_url}/signboards/receipt")
    page.get_by_label("回执编号").fill(number.lower())
    page.get_by_role("button", name="查询").click()
    expect(page.locator("[data-status]")).to_have_text("辖区正在处理")
    expect(page.locator("main")).not_to_contain_text("砍伐松树")

    # The village chief finds the issue in the inbox and its photo on the task page.
    chief = sign_in(context, server, "village", PHONE)
    expect(chief).to_have_url(f"{server.base_url}/inbox")
    chief.get_by_role("link", name="公众举报：乱砍滥伐").first.click()
    expect(chief.get_by_text("村口后山有人砍伐松树")).to_be_visible()
    thumbnail = chief.locator(".photos img").first
    expect(thumbnail).to_be_visible()
    assert chief.evaluate("img => img.naturalWidth", thumbnail.element_handle()) > 0
    shot(chief, "signboard-issue")
