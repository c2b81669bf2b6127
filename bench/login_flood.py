"""Authenticated reads during a login flood: p99 of ``GET /api/v1/tasks/{id}`` with and without one.

Starts ``linzhang serve`` from a checkout (this one by default, ``--checkout`` for another, e.g. an older
commit as the baseline) on a throw-away SQLite database with the production password hashing settings,
loads a small tree, an administrator, a flood account and one task through the command line and the
API, then measures:

1. ``--readers`` clients reading the task as fast as they can for ``--seconds`` (no flood);
2. the same while ``--flood`` connections sign in over and over: with the right password
   (``--flood-kind good``, every login hashes: the worst case for the hashing pool) or a wrong one
   (``bad``: the throttle answers 429 after a few failures without hashing).

It prints each phase's request count, p50, p99 and max in milliseconds, the logins answered by status,
and the p99 ratio (the goal: at most 2x). Run from the project folder:

    .venv/bin/python bench/login_flood.py
    .venv/bin/python bench/login_flood.py --flood-kind bad
    .venv/bin/python bench/login_flood.py --checkout /path/to/older/checkout   # the baseline

Speed figures depend on the machine; the script asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
PASSWORD = "flood-bench-password"
TREE = "code,name,level,parent_code\n50,重庆市,city,\n500101,万州区,district,50\n500101001,高笋塘街道,township,500101\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    checkout: Path
    env: dict[str, str]
    port: int
    process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "linzhang", *args],
            cwd=self.checkout,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "linzhang", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.checkout,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def read_task(
    base: str, token: str, task_id: int, stop_at: float, samples: list[float], failures: Counter[int]
) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=60) as client:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = await client.get(f"/api/v1/tasks/{task_id}")
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                failures[response.status_code] += 1


async def flood_logins(base: str, username: str, password: str, stop: asyncio.Event, statuses: Counter[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        while not stop.is_set():
            try:
                response = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
                statuses[response.status_code] += 1
            except httpx.HTTPError:
                statuses[0] += 1


async def phase(
    base: str,
    token: str,
    task_id: int,
    readers: int,
    seconds: float,
    flood: int,
    flood_password: str,
    flood_accounts: int,
) -> tuple[list[float], Counter[int]]:
    samples: list[float] = []
    statuses: Counter[int] = Counter()
    failures: Counter[int] = Counter()
    stop = asyncio.Event()
    flood_tasks = [
        asyncio.create_task(flood_logins(base, f"flood-{number % flood_accounts}", flood_password, stop, statuses))
        for number in range(flood)
    ]
    if flood:
        # Let the flood fill the server's queues before the reads are timed.
        await asyncio.sleep(2.0)
        statuses.clear()
    stop_at = time.monotonic() + seconds
    await asyncio.gather(*(read_task(base, token, task_id, stop_at, samples, failures) for _ in range(readers)))
    stop.set()
    await asyncio.gather(*flood_tasks, return_exceptions=True)
    if failures:
        print(f"  reads that failed: {dict(failures)}")
    return samples, statuses


def describe(name: str, samples: list[float], seconds: float) -> str:
    return (
        f"{name:<22} {len(samples):>6} reads ({len(samples) / seconds:7.1f}/s)  p50 {statistics.median(samples):8.1f} ms"
        f"  p99 {percentile(samples, 0.99):8.1f} ms  max {max(samples):8.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", type=Path, default=PROJECT, help="the checkout whose server is measured")
    parser.add_argument("--readers", type=int, default=2, help="clients reading the task one request at a time")
    parser.add_argument("--flood", type=int, default=50, help="connections signing in over and over")
    parser.add_argument("--flood-kind", choices=["good", "bad"], default="good", help="right or wrong password")
    parser.add_argument("--flood-accounts", type=int, default=10, help="accounts the flood signs in as, in turn")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each timed phase")
    parser.add_argument("--hash-threads", type=int, default=None, help="[security] password_hash_threads")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="linzhang-login-flood-") as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(args.checkout),
            "LINZHANG_CONFIG_DIR": str(args.checkout / "config"),
            "LINZHANG_DATABASE_URL": f"sqlite:///{tmp}/linzhang.db",
            "LINZHANG_PATHS_VAR_DIR": f"{tmp}/var",
            "LINZHANG_SECRET_KEY": "b" * 48,
            "LINZHANG_REDIS_URL": "",
            "LINZHANG_LOGGING_LEVEL": "WARNING",
        }
        if args.hash_threads is not None:
            env["LINZHANG_SECURITY_PASSWORD_HASH_THREADS"] = str(args.hash_threads)
        server = Server(args.checkout, env, free_port())
        tree = Path(tmp) / "tree.csv"
        tree.write_text(TREE, encoding="utf-8")
        server.cli("db", "upgrade")
        server.cli("import", "divisions", str(tree))
        server.cli("user", "create", "--username", "admin", "--password", PASSWORD, "--role", "admin")
        server.start()
        try:
            base = f"http://127.0.0.1:{server.port}"
            login = httpx.post(f"{base}/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
            token = login.json()["access_token"]
            created = httpx.post(
                f"{base}/api/v1/tasks",
                headers={"authorization": f"Bearer {token}"},
                json={
                    "title": "森林防火巡查",
                    "kind": "order",
                    "jurisdiction_code": "500101",
                    "due_date": "2099-12-31",
                },
            )
            task_id = created.json()["id"]
            for number in range(args.flood_accounts):
                made = httpx.post(
                    f"{base}/api/v1/users",
                    headers={"authorization": f"Bearer {token}"},
                    json={"username": f"flood-{number}", "password": PASSWORD, "role": "admin"},
                    timeout=120,
                )
                assert made.status_code == 201, made.text
            flood_password = PASSWORD if args.flood_kind == "good" else "not the password"
            print(
                f"checkout {args.checkout}; {os.cpu_count()} CPUs; {args.readers} readers; "
                f"flood {args.flood} connections over {args.flood_accounts} accounts, {args.flood_kind} password; "
                f"{args.seconds:.0f} s a phase"
            )
            quiet, _ = asyncio.run(
                phase(base, token, task_id, args.readers, args.seconds, 0, flood_password, args.flood_accounts)
            )
            print(describe("no flood", quiet, args.seconds))
            flooded, statuses = asyncio.run(
                phase(base, token, task_id, args.readers, args.seconds, args.flood, flood_password, args.flood_accounts)
            )
            print(describe("during the login flood", flooded, args.seconds))
            answered = ", ".join(f"{status or 'failed'}: {count}" for status, count in sorted(statuses.items()))
            print(f"logins answered during the flood: {answered}")
            ratio = percentile(flooded, 0.99) / percentile(quiet, 0.99)
            print(f"p99 ratio flood / no flood: {ratio:.2f}x (goal: at most 2x)")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
