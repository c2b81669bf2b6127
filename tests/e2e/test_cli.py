"""The command line: migrations, settings errors, dead deliveries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select

from linzhang.bootstrap import Container
from linzhang.bus import publish
from linzhang.bus.tables import deliveries_table
from linzhang.cli import cli
from linzhang.identity import Role
from linzhang.settings import Settings
from tests.support.bus import SampleRecorded

ROOT = Path(__file__).resolve().parents[2]


def run_linzhang(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LINZHANG_")}
    return subprocess.run(
        [sys.executable, "-m", "linzhang", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def test_db_upgrade_creates_the_embedded_database(tmp_path: Path) -> None:
    result = run_linzhang("db", "upgrade", env={"LINZHANG_PATHS_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    database = tmp_path / "linzhang.db"
    assert database.exists()
    assert {"bus_events", "bus_deliveries"} <= set(inspect(create_engine(f"sqlite:///{database}")).get_table_names())


def test_invalid_setting_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    result = run_linzhang(
        "db", "upgrade", env={"LINZHANG_PATHS_VAR_DIR": str(tmp_path), "LINZHANG_HTTP_PORT": "eighty"}
    )
    assert result.returncode == 2
    assert "http.port" in result.stderr
    assert "LINZHANG_HTTP_PORT" in result.stderr
    assert not (tmp_path / "linzhang.db").exists()


def test_worker_without_redis_explains_the_embedded_mode(tmp_path: Path) -> None:
    result = run_linzhang("worker", env={"LINZHANG_PATHS_VAR_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "LINZHANG_REDIS_URL" in result.stderr


def test_worker_refuses_a_subscriber_it_does_not_know(tmp_path: Path) -> None:
    result = run_linzhang(
        "worker",
        "--subscriber",
        "chiefs.inbox",
        "--subscriber",
        "no.such",
        env={"LINZHANG_PATHS_VAR_DIR": str(tmp_path), "LINZHANG_REDIS_URL": "redis://127.0.0.1:1/0"},
    )
    assert result.returncode == 2
    assert "没有这个订阅者：no.such" in result.stderr
    assert "tasks.rollup" in result.stderr  # the ones it knows are named


def _env(settings: Settings) -> dict[str, str]:
    return {
        "LINZHANG_DATABASE_URL": settings.database_url,
        "LINZHANG_PATHS_VAR_DIR": str(settings.var_path),
        "LINZHANG_REDIS_URL": settings.redis.url,
        "LINZHANG_LOGGING_JSON": "false",
    }


def test_bus_dead_lists_and_redrive_revives(container: Container, settings: Settings) -> None:
    registry = container.registry
    registry.subscribe("cli.sample", SampleRecorded, lambda _session, _event: None)
    with container.session_factory() as session, session.begin():
        publish(session, SampleRecorded(key="x"))
        session.execute(deliveries_table.update().values(status="dead", attempts=5, last_error="ValueError: boom"))
        delivery_id = session.execute(select(deliveries_table.c.id)).scalar_one()
    runner = CliRunner()

    listed = runner.invoke(cli, ["bus", "dead"], env=_env(settings))
    assert listed.exit_code == 0, listed.output
    assert f"{delivery_id}\tSampleRecorded" in listed.output
    assert "cli.sample" in listed.output
    assert "ValueError: boom" in listed.output

    assert runner.invoke(cli, ["bus", "redrive"], env=_env(settings)).exit_code == 2
    revived = runner.invoke(cli, ["bus", "redrive", str(delivery_id)], env=_env(settings))
    assert revived.exit_code == 0, revived.output
    assert "已重新投递 1 条" in revived.output
    with container.engine.connect() as connection:
        assert connection.execute(select(deliveries_table.c.status, deliveries_table.c.attempts)).one() == (
            "pending",
            0,
        )

    assert runner.invoke(cli, ["bus", "dead"], env=_env(settings)).output.strip() == "没有死信投递"


def test_user_create_then_sign_in(container: Container, settings: Settings) -> None:
    from tests.support.world import api_client, seed_tree

    seed_tree(container)
    runner = CliRunner()
    env = _env(settings)
    made = runner.invoke(
        cli,
        [
            "user",
            "create",
            "--username",
            "wz-office",
            "--password",
            "office-password",
            "--role",
            "office",
            "--jurisdiction",
            "500101",
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert "已创建林长办账号 wz-office" in made.output
    scripted = runner.invoke(
        cli,
        [
            "user",
            "create",
            "--username",
            "wz-feed",
            "--password",
            "feed-password",
            "--role",
            "integration",
            "--jurisdiction",
            "500101",
            "--json",
        ],
        env=env,
    )
    assert scripted.exit_code == 0, scripted.output
    assert {key: json.loads(scripted.output)[key] for key in ("username", "role")} == {
        "username": "wz-feed",
        "role": "integration",
    }
    with api_client(container) as api:
        api.token("wz-office", "office-password")
        assert api.get("/me", "wz-office").json()["jurisdiction_code"] == "500101"

    duplicate = runner.invoke(
        cli,
        [
            "user",
            "create",
            "--username",
            "wz-office",
            "--password",
            "office-password",
            "--role",
            "office",
            "--jurisdiction",
            "500101",
        ],
        env=env,
    )
    assert duplicate.exit_code == 1
    assert "已被占用" in duplicate.output
    nowhere = runner.invoke(
        cli,
        [
            "user",
            "create",
            "--username",
            "lost",
            "--password",
            "lost-password",
            "--role",
            "chief",
            "--jurisdiction",
            "404",
        ],
        env=env,
    )
    assert nowhere.exit_code == 2
    assert "辖区 404 不存在" in nowhere.output


@pytest.mark.parametrize("upgrade_in_serve", [False, True], ids=["db-upgrade-then-serve", "serve-upgrade"])
def test_serve_runs_the_embedded_system(tmp_path: Path, upgrade_in_serve: bool) -> None:
    """``make run`` migrates inside the serving process (``serve --upgrade``): an empty database is
    migrated before the app answers ready, the same as ``db upgrade`` and then ``serve``."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"LINZHANG_PATHS_VAR_DIR": str(tmp_path)}
    if not upgrade_in_serve:
        assert run_linzhang("db", "upgrade", env=env).returncode == 0
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LINZHANG_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "linzhang", "serve", "--port", str(port), *(["--upgrade"] if upgrade_in_serve else [])],
        env={**clean, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    assert response.status == 200
                    body = response.read()
                    assert b'"broker":"ok"' in body
                    assert b'"database":"ok"' in body, body
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=15)
    log = server.stderr.read().decode() if server.stderr else ""
    # The server re-raises the signal after its graceful shutdown.
    assert server.returncode in (0, -15), log
    assert "Application shutdown complete." in log
    assert "Worker has been shut down." in log
    # Migrated to the head either way: the server's database has every table.
    (database,) = [path for path in tmp_path.rglob("*") if path.suffix in {".db", ".sqlite", ".sqlite3"}]
    tables = inspect(create_engine(f"sqlite:///{database}")).get_table_names()
    assert {"alembic_version", "tasks_tasks", "patrols_patrols"} <= set(tables)


def test_user_passwd_disable_enable_and_list(container: Container, settings: Settings) -> None:
    from tests.support.world import PASSWORD, add_user, api_client, seed_tree

    seed_tree(container)
    add_user(container, "wz-office", Role.OFFICE, "500101")
    runner = CliRunner()
    env = _env(settings)
    with api_client(container) as api:
        token = api.token("wz-office")
        assert api.get("/me", "wz-office").status_code == 200

        weak = runner.invoke(cli, ["user", "passwd", "WZ-Office", "--password", "qwertyuiop"], env=env)
        assert weak.exit_code == 1
        assert "常见" in weak.output
        changed = runner.invoke(cli, ["user", "passwd", "WZ-Office", "--password", "spruce larch cypress"], env=env)
        assert changed.exit_code == 0, changed.output
        assert "密码已更改" in changed.output
        assert api.get("/me", headers={"authorization": f"Bearer {token}"}).status_code == 401
        api.forget()
        api.token("wz-office", "spruce larch cypress")

        disabled = runner.invoke(cli, ["user", "disable", "wz-office"], env=env)
        assert disabled.exit_code == 0, disabled.output
        assert disabled.output.strip() == "账号 wz-office 已停用，其令牌立即失效"
        assert api.get("/me", "wz-office").status_code == 401
        assert (
            api.post("/auth/token", json={"username": "wz-office", "password": "spruce larch cypress"}).status_code
            == 401
        )

        listed = runner.invoke(cli, ["user", "list"], env=env)
        assert listed.exit_code == 0, listed.output
        assert listed.output.split("\n")[0].split("\t")[1:] == [
            "wz-office",
            "林长办",
            "500101",
            "停用",
            "万州区林长办",
        ]
        # For scripts: one JSON object per line, with the English codes.
        scripted = runner.invoke(cli, ["user", "list", "--json"], env=env)
        assert scripted.exit_code == 0, scripted.output
        record = json.loads(scripted.output.splitlines()[0])
        assert {key: record[key] for key in ("username", "role", "jurisdiction_code", "active")} == {
            "username": "wz-office",
            "role": "office",
            "jurisdiction_code": "500101",
            "active": False,
        }

        enabled = runner.invoke(cli, ["user", "enable", "wz-office"], env=env)
        assert enabled.exit_code == 0, enabled.output
        assert enabled.output.strip() == "账号 wz-office 已启用"
        api.forget()
        api.token("wz-office", "spruce larch cypress")

    unknown = runner.invoke(cli, ["user", "disable", "nobody"], env=env)
    assert unknown.exit_code == 1
    assert "账号 nobody 不存在" in unknown.output
    assert PASSWORD not in listed.output


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_on_a_terminal_prints_where_to_go_and_who_to_be(tmp_path: Path) -> None:
    """On a terminal: the address, how to move port, the demo's three sign-ins, then readable log lines."""
    import pty
    import select as selecting
    import time

    env = {"LINZHANG_PATHS_VAR_DIR": str(tmp_path)}
    assert run_linzhang("db", "upgrade", env=env).returncode == 0
    # The banner lists the demo's sign-ins that exist (the demo itself is loaded by `make run`).
    for username in ("city-office", "wanzhou-chief"):
        made = run_linzhang(
            "user", "create", "--username", username, "--password", "linzhang-demo", "--role", "admin", env=env
        )
        assert made.returncode == 0, made.stderr
    port = _free_port()
    main, secondary = pty.openpty()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LINZHANG_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "linzhang", "serve", "--port", str(port)],
        env={**clean, **env},
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"Application startup complete" not in seen and time.monotonic() < deadline:
            ready, _, _ = selecting.select([main], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(main, 65536)
                except OSError:
                    break
    finally:
        server.terminate()
        server.wait(timeout=15)
        os.close(main)
    text = seen.decode("utf-8", "replace")
    assert f"http://127.0.0.1:{port}/" in text
    assert "make run PORT=8001" in text
    assert "city-office" in text
    assert "wanzhou-chief" in text
    assert "linzhang-demo" in text
    startup = next(line for line in text.splitlines() if "Application startup complete" in line)
    assert not startup.lstrip().startswith("{")  # a readable line, not JSON


def test_serve_logs_json_when_not_on_a_terminal(tmp_path: Path) -> None:
    import json
    import time

    env = {"LINZHANG_PATHS_VAR_DIR": str(tmp_path)}
    assert run_linzhang("db", "upgrade", env=env).returncode == 0
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LINZHANG_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "linzhang", "serve", "--port", str(port)],
        env={**clean, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(0.5)
        deadline = time.monotonic() + 30
        import urllib.request

        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=15)
    assert "演示账号" not in out.decode()
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert lines
    assert all(isinstance(json.loads(line), dict) for line in lines)
