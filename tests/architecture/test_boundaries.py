"""The import contracts of DESIGN.md hold (the same check `make test` runs through lint-imports)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ("jurisdictions", "chiefs", "tasks", "assessments")


def test_import_contracts_are_kept() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_contracts_cover_every_domain() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    independence = next(c for c in config["contracts"] if c["type"] == "independence")
    assert set(independence["modules"]) == {f"linzhang.domains.{name}" for name in DOMAINS}
    pure = next(c for c in config["contracts"] if "pure rules" in c["name"])
    assert set(pure["source_modules"]) == {f"linzhang.domains.{name}.model" for name in DOMAINS}
    for name in DOMAINS:
        assert (ROOT / "linzhang" / "domains" / name / "__init__.py").exists()
