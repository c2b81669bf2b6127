"""The architecture holds: the import contracts are kept and cover every domain found in the folder tree,
and every domain folder is installed through its one ``domain.py`` (docs/architecture.md)."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from linzhang.bootstrap import INSTALLED_DOMAINS, PLATFORM_TABLES, import_table_modules, installed_domains
from linzhang.db import metadata
from linzhang.domain import Domain

ROOT = Path(__file__).resolve().parents[2]
DOMAINS_DIR = ROOT / "linzhang" / "domains"
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def domain_folders() -> set[str]:
    """The domains as the folder tree has them: every package under linzhang/domains/."""
    return {path.parent.name for path in DOMAINS_DIR.glob("*/__init__.py")}


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_domain_folder_is_installed_and_declares_itself() -> None:
    assert set(INSTALLED_DOMAINS) == domain_folders()
    for name in domain_folders():
        domain = importlib.import_module(f"linzhang.domains.{name}.domain").DOMAIN
        assert isinstance(domain, Domain)
        assert domain.name == name
        assert domain.title, f"{name}: a domain has a Chinese title"
        assert domain.tables, f"{name}: a domain names the modules of its tables"


def test_every_table_belongs_to_the_platform_or_to_the_domain_named_in_its_prefix() -> None:
    import_table_modules()
    owners = {domain.name for domain in installed_domains()} | {"bus", "identity", "media", "platform"}
    for table in metadata.tables:
        assert table.split("_", 1)[0] in owners, table
    for domain in installed_domains():
        for module in domain.tables:
            assert module.startswith(f"linzhang.domains.{domain.name}."), module
    assert all(not module.startswith("linzhang.domains.") for module in PLATFORM_TABLES)


def test_the_contracts_name_domains_by_pattern_not_by_list() -> None:
    """A new folder under linzhang/domains/ is covered by the contracts without editing them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    independence = next(c for c in config["contracts"] if c["type"] == "independence")
    assert independence["modules"] == ["linzhang.domains.*"]
    pure = next(c for c in config["contracts"] if "pure rules" in c["name"])
    assert pure["source_modules"] == ["linzhang.domains.*.model"]


def test_a_new_domain_that_reaches_into_another_breaks_the_contracts(tmp_path: Path) -> None:
    """Planted in a copy of the tree: a domain folder nobody listed anywhere, importing another domain's
    service and (in its model) a database library. Both contracts must catch it."""
    shutil.copytree(ROOT / "linzhang", tmp_path / "linzhang", ignore=shutil.ignore_patterns("static", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    planted = tmp_path / "linzhang" / "domains" / "newcomer"
    planted.mkdir()
    (planted / "__init__.py").write_text("", encoding="utf-8")
    (planted / "service.py").write_text("import linzhang.domains.tasks.service\n", encoding="utf-8")
    (planted / "model.py").write_text("import sqlalchemy\n", encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Domains are independent (only the jurisdictions read facade is shared) BROKEN" in result.stdout
    assert "Domain models are pure rules: no I/O frameworks BROKEN" in result.stdout
    assert "linzhang.domains.newcomer" in result.stdout
