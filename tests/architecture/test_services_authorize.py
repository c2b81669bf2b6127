"""Services authorize; controllers and pages never do (docs/architecture.md, rule 4).

The modules are found from the folder tree, so a new domain's ``api.py`` or ``pages.py`` and a new
module under ``linzhang/web/`` are covered without editing this test. Read as syntax trees: a call
to ``authorize`` (by any import path) or a ``raise PermissionDenied(...)`` written in a controller is
a rule of who may do what living outside ``identity/scope.py``'s table.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "linzhang"


def controller_modules() -> list[Path]:
    """Every domain's controllers and pages, and every module of the pages' package."""
    found = [
        *PACKAGE.glob("domains/*/api.py"),
        *PACKAGE.glob("domains/*/api/**/*.py"),
        *PACKAGE.glob("domains/*/pages.py"),
        *PACKAGE.glob("domains/*/pages/**/*.py"),
        *PACKAGE.glob("web/**/*.py"),
    ]
    return sorted(set(found))


def _name_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def rule_checks(source: str, filename: str) -> list[str]:
    """Where ``source`` calls ``authorize`` or raises ``PermissionDenied`` itself, as ``line: what``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Call) and _name_of(node.func) == "authorize":
            found.append(f"{node.lineno}: calls authorize")
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if _name_of(raised) == "PermissionDenied":
                found.append(f"{node.lineno}: raises PermissionDenied")
        if isinstance(node, ast.ImportFrom) and any(alias.name == "authorize" for alias in node.names):
            found.append(f"{node.lineno}: imports authorize")
    return found


def test_the_walk_finds_every_domains_controllers_and_the_pages() -> None:
    names = {path.relative_to(PACKAGE).as_posix() for path in controller_modules()}
    for domain in ("jurisdictions", "chiefs", "tasks", "assessments"):
        assert f"domains/{domain}/api.py" in names
    assert "web/work.py" in names
    assert len([name for name in names if name.startswith("web/")]) > 3


@pytest.mark.parametrize("path", controller_modules(), ids=lambda path: path.relative_to(PACKAGE).as_posix())
def test_controllers_leave_authorization_to_the_services(path: Path) -> None:
    assert rule_checks(path.read_text(encoding="utf-8"), str(path)) == []


@pytest.mark.parametrize(
    "source",
    [
        "from linzhang.identity import authorize\nauthorize(p, Action.READ)\n",
        "import linzhang.identity.scope as scope\nscope.authorize(p, Action.RUN_SWEEP)\n",
        "raise PermissionDenied('x', code='y')\n",
        "from linzhang import errors\nraise errors.PermissionDenied('x')\n",
    ],
)
def test_the_scan_sees_a_check_written_in_a_controller(source: str) -> None:
    assert rule_checks(source, "controller.py") != []
