"""The distributed deployment of the operations guide on one machine, through the cascade.

Two `linzhang serve`, two `linzhang worker` and two `linzhang scheduler` processes over a throwaway
PostgreSQL database and Redis: a target split city -> district -> township -> village, the village's
report, and the city's figure arriving through the roll-up cascade; then every process stops cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from linzhang.bus.tables import deliveries_table
from tests.conftest import PG_URL, REDIS_URL
from tests.support.world import TREE

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
# Bounded waits, in seconds: start-up of a process (generous: six processes start at once on a
# machine that may be busy), the cascade of three roll-ups, a clean stop.
READY_SECONDS = 180
CASCADE_SECONDS = 60
STOP_SECONDS = 30
PASSWORD = "topology-admin-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Deployment:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.servers: list[str] = []

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "linzhang", *args],
            env=self.env,
            cwd=self.logs,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"linzhang {' '.join(args)}: {result.stdout}{result.stderr}"
        return result.stdout

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "linzhang", *args], env=self.env, cwd=self.logs, stdout=log, stderr=log
        )
        self.processes.append((name, process))

    def serve(self, name: str) -> None:
        port = free_port()
        self.start(name, "serve", "--host", "127.0.0.1", "--port", str(port))
        self.servers.append(f"http://127.0.0.1:{port}")

    def log_of(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")[-3000:]

    def assert_running(self) -> None:
        for name, process in self.processes:
            assert process.poll() is None, f"{name} exited with {process.returncode}:\n{self.log_of(name)}"

    def stop(self) -> dict[str, int | None]:
        for _name, process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, process in self.processes:
            try:
                codes[name] = process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                codes[name] = None
        return codes


def call(method: str, url: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def database() -> Iterator[str]:
    name = f"linzhang_topology_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def deployment(database: str, tmp_path: Path) -> Iterator[Deployment]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LINZHANG_")}
    env = {
        **clean,
        "PYTHONPATH": str(ROOT),
        "LINZHANG_DATABASE_URL": database,
        "LINZHANG_REDIS_URL": REDIS_URL,
        "LINZHANG_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "LINZHANG_BUS_QUEUE_NAME": f"linzhang-topology-{uuid.uuid4().hex[:8]}",
        "LINZHANG_PATHS_VAR_DIR": str(tmp_path / "var"),
        "LINZHANG_BUS_WORKER_THREADS": "2",
        "LINZHANG_BUS_RELAY_IDLE_SECONDS": "0.05",
        "LINZHANG_SECURITY_PASSWORD_TIME_COST": "1",
        "LINZHANG_SECURITY_PASSWORD_MEMORY_KIB": "8",
        "LINZHANG_DATABASE_POOL_SIZE": "3",
    }
    running = Deployment(env, tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_two_servers_two_workers_two_schedulers_carry_a_village_report_to_the_city(deployment: Deployment) -> None:
    # Migrations and reference data, once, from one machine.
    deployment.run("db", "upgrade")
    divisions = deployment.logs / "divisions.csv"
    rows = ["code,name,level,parent_code"] + [f"{c},{n},{lvl},{p or ''}" for c, n, lvl, p in TREE]
    divisions.write_text("\n".join(rows) + "\n", encoding="utf-8")
    deployment.run("import", "divisions", str(divisions))
    deployment.run("user", "create", "--username", "admin", "--password", PASSWORD, "--role", "admin")

    for index in (1, 2):
        deployment.serve(f"serve-{index}")
        deployment.start(f"worker-{index}", "worker")
        deployment.start(f"scheduler-{index}", "scheduler")
    deadline = time.monotonic() + READY_SECONDS
    for server in deployment.servers:
        while True:
            deployment.assert_running()
            try:
                if call("GET", f"{server}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"{server} did not become ready:\n{deployment.log_of('serve-1')}"
            time.sleep(0.3)
    one, two = deployment.servers

    # A token from one server is accepted by the other (the shared secret key).
    status, issued = call("POST", f"{one}/api/v1/auth/token", body={"username": "admin", "password": PASSWORD})
    assert status == 200, issued
    token = issued["access_token"]
    status, city = call(
        "POST",
        f"{two}/api/v1/tasks",
        token,
        {
            "title": "营造林",
            "kind": "target",
            "jurisdiction_code": "50",
            "due_in_workdays": 20,
            "target_quantity": 1000,
            "unit": "亩",
        },
    )
    assert status == 201, city
    task_id = city["id"]
    for code, server in (("500101", one), ("500101001", two), ("500101001001", one)):
        status, split = call(
            "POST",
            f"{server}/api/v1/tasks/{task_id}/split",
            token,
            {"parts": [{"jurisdiction_code": code, "target_quantity": 1000}]},
        )
        assert status == 201, split
        (child,) = split["items"]
        task_id = child["id"]
    status, reported = call("POST", f"{two}/api/v1/tasks/{task_id}/progress", token, {"completed_quantity": 250})
    assert status == 200, reported

    # The report climbs village -> township -> district -> city, one roll-up delivery per level.
    deadline = time.monotonic() + CASCADE_SECONDS
    while True:
        deployment.assert_running()
        status, seen = call("GET", f"{one}/api/v1/tasks/{city['id']}", token)
        assert status == 200, seen
        if seen["completed_quantity"] == 250:
            break
        assert time.monotonic() < deadline, f"the city's figure is still {seen['completed_quantity']}"
        time.sleep(0.2)
    assert call("GET", f"{two}/api/v1/tasks/{city['id']}", token)[1]["completed_quantity"] == 250

    codes = deployment.stop()

    # Every process stopped on SIGTERM by itself (uvicorn re-raises the signal after its clean stop).
    assert all(code in (0, -signal.SIGTERM) for code in codes.values()), codes
    assert len(codes) == 6
    engine = create_engine(deployment.env["LINZHANG_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            statuses = dict(
                connection.execute(
                    select(deliveries_table.c.status, func.count()).group_by(deliveries_table.c.status)
                ).all()
            )
    finally:
        engine.dispose()
    assert set(statuses) <= {"done", "pending", "sent"}
    assert "dead" not in statuses
