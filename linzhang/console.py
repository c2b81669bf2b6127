"""What ``linzhang serve`` prints for a person at a terminal: where to go, how to move, who to be."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Login:
    who: str  # 市林长办 / 区县林长 / 村林长
    username: str
    password: str


def banner(host: str, port: int, logins: Sequence[Login], *, demo_loading: bool = False) -> str:
    """Plain text: the address, how to pick another port, and the demo's sign-ins when it is loaded."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - only displayed
    lines = [
        "",
        "林长制 linzhang 已启动",
        f"  地址：     http://{shown}:{port}/",
        f"  接口：     http://{shown}:{port}/api/v1    接口文档：http://{shown}:{port}/schema",
        "  换端口：   make run PORT=8001，或 linzhang serve --port 8001，或设置 LINZHANG_HTTP_PORT=8001",
    ]
    if logins:
        lines.append("  演示账号：")
        width = max(len(login.username) for login in logins)
        lines += [f"    {login.who}  {login.username.ljust(width)}  密码 {login.password}" for login in logins]
    if demo_loading:
        lines.append("  演示数据正在后台载入（约一分钟），载入完成前页面顶部有提示。")
    lines += ["  按 Ctrl+C 停止。", ""]
    return "\n".join(lines)
