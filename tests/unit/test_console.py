"""The console banner of ``linzhang serve`` on a terminal."""

from __future__ import annotations

from linzhang.console import Login, banner


def test_the_banner_gives_the_address_the_port_choice_and_the_sign_ins() -> None:
    text = banner("0.0.0.0", 8001, [Login("市林长办", "city-office", "pw"), Login("村林长", "village-chief", "pw")])
    assert "http://127.0.0.1:8001/" in text
    assert "make run PORT=8001" in text
    assert "LINZHANG_HTTP_PORT" in text
    assert "市林长办  city-office    密码 pw" in text
    assert "村林长  village-chief  密码 pw" in text


def test_without_the_demo_there_are_no_sign_ins() -> None:
    text = banner("127.0.0.1", 8000, [])
    assert "http://127.0.0.1:8000/" in text
    assert "演示账号" not in text


def test_while_the_demo_loads_the_banner_says_so() -> None:
    logins = [Login("市林长办", "city-office", "pw")]
    assert "演示数据正在后台载入" in banner("127.0.0.1", 8000, logins, demo_loading=True)
    assert "演示数据正在后台载入" not in banner("127.0.0.1", 8000, logins)
