"""A throwaway PostgreSQL cluster for tests that stop or restart the database server.

It is made with ``initdb`` in a temporary folder and listens on a free port of 127.0.0.1, so the
machine's own server is never touched. As root the server runs as the ``postgres`` user (PostgreSQL
refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def postgres_bin() -> Path:
    """The folder of the newest installed PostgreSQL server binaries."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not versions:
        raise AssertionError("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    return versions[-1].parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One initdb'd cluster; ``url`` is a SQLAlchemy URL of its ``postgres`` database."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = port
        self.bin = postgres_bin()
        self._as_postgres = os.geteuid() == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        argv = [str(self.bin / command[0]), *command[1:]]
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise AssertionError(f"{command[0]} failed ({result.returncode}): {result.stderr or result.stdout}")

    def init(self) -> None:
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A started cluster, stopped and deleted on leaving whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="linzhang-pg-"))
    os.chmod(folder, 0o755)
    cluster = Cluster(folder, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            with suppress(AssertionError):
                cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
