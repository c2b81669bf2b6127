"""The built package runs outside the checkout: wheel, empty virtual environment, empty folder."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the checkout holds beside the package that a build must not see (local state, caches).
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "tests", "bench"
)
DIVISIONS = (
    "code,name,level,parent_code\n50,重庆市,city,\n500101,万州区,district,50\n500101001,高笋塘街道,township,500101\n"
)
STARTUP_SECONDS = 60

pytestmark = pytest.mark.packaging


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def clean_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LINZHANG_", "PYTHON", "VIRTUAL_ENV", "UV_"))
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the wheel and its locked dependencies (from uv's cache)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    env = clean_environment()
    run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work / "dist"), str(source)],
        work,
        env,
    )
    (wheel,) = (work / "dist").glob("linzhang-*.whl")
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is installed with the development tools (make)"
    venv = work / "venv"
    # The locked dependencies (without the development tools) from uv's cache, then the wheel alone.
    run(
        [uv, "sync", "--frozen", "--offline", "--no-install-project", "--quiet", "--python", sys.executable],
        ROOT,
        {**env, "UV_PROJECT_ENVIRONMENT": str(venv)},
    )
    run(
        [
            uv,
            "pip",
            "install",
            "--offline",
            "--no-deps",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            str(wheel),
        ],
        work,
        env,
    )
    return venv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("content-type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("content-type", "")


def test_the_wheel_migrates_imports_and_serves_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    env = clean_environment()
    linzhang = str(installed / "bin" / "linzhang")
    where = run([str(installed / "bin" / "python"), "-c", "import linzhang; print(linzhang.__file__)"], folder, env)
    assert str(installed) in where
    assert str(ROOT) not in where

    assert "已迁移到 head" in run([linzhang, "db", "upgrade"], folder, env)
    (folder / "divisions.csv").write_text(DIVISIONS, encoding="utf-8")
    assert "新建 3 个辖区" in run([linzhang, "import", "divisions", "divisions.csv"], folder, env)
    assert (folder / "var" / "linzhang.db").is_file()

    port = free_port()
    server = subprocess.Popen(
        [linzhang, "serve", "--port", str(port)], cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while get_or_none(f"{base}/readyz") != 200:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            assert time.monotonic() < deadline, "the installed server did not become ready"
            time.sleep(0.3)
        # A page rendered from a packaged template, and the packaged stylesheet it links to.
        status, body, content_type = get(f"{base}/login")
        assert status == 200
        assert content_type.startswith("text/html")
        page = body.decode()
        assert "登录" in page
        stylesheet = re.search(r'href="(/static/[^"]+\.css)[^"]*"', page)
        assert stylesheet, "the sign-in page links a stylesheet"
        status, body, content_type = get(base + stylesheet.group(1))
        assert status == 200
        assert content_type.startswith("text/css")
        assert body
        status, body, _ = get(f"{base}/schema/openapi.json")
        assert status == 200
        assert b'"/api/v1/tasks"' in body
    finally:
        server.terminate()
        server.wait(timeout=30)
    # A clean stop: uvicorn finishes, then re-raises the SIGTERM it caught (0 with older versions).
    assert server.returncode in (0, -signal.SIGTERM)
    # Nothing was written beside the folder's own var/ and the given file.
    assert {path.name for path in folder.iterdir()} == {"var", "divisions.csv"}


def get_or_none(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:
        return None
