"""The 2021 plan as data: imported as city-level tasks, once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.cli import cli
from linzhang.clock import FixedClock
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.plans import PlanError, check_plan_categories, import_plan, importer, read_plan
from linzhang.domains.tasks.tables import Task
from linzhang.settings import DEFAULTS_DIR, Settings
from linzhang.vocabularies import load_categories
from tests.support.world import seed_tree

PLAN = DEFAULTS_DIR / "plans" / "chongqing-2021.toml"
REQUIRED_TARGETS = {
    "营造林": (Decimal(5_000_000), "亩"),
    "义务植树": (Decimal(40_000_000), "株"),
    "国家森林城市": (Decimal(2), "个"),
    "绿色示范村": (Decimal(100), "个"),
    "新增城市绿地面积": (Decimal(15_000_000), "平方米"),
    "森林草原防火标准检查站": (Decimal(100), "座"),
    "松材线虫病带状改培试点": (Decimal(20_000), "亩"),
    "非国有林生态赎买": (Decimal(6_000), "亩"),
}


@pytest.fixture
def container(settings: Settings, registry: SubscriberRegistry):  # type: ignore[no-untyped-def]
    container = bootstrap(settings, registry=registry, clock=FixedClock(datetime(2021, 7, 20, tzinfo=UTC)))
    seed_tree(container)
    yield container
    container.close()


def tasks(container) -> list[Task]:  # type: ignore[no-untyped-def]
    with container.reading() as session:
        return list(session.execute(select(Task).order_by(Task.id)).scalars())


def test_the_plan_file_holds_every_target_of_the_2021_plan() -> None:
    plan = read_plan(PLAN)
    targets = {p.title: (Decimal(str(p.target_quantity)), p.unit) for p in plan.points if p.kind == "target"}
    assert targets == REQUIRED_TARGETS
    assert plan.plan.jurisdiction_code == "50"
    four_levels = [p for p in plan.points if p.category == "forest_chief_system"]
    assert four_levels
    assert str(four_levels[0].due_date or plan.plan.default_due_date) == "2021-12-31"
    assert all(p.lead_departments for p in plan.points)


def test_import_creates_city_tasks_once(container) -> None:  # type: ignore[no-untyped-def]
    context = container.context(TasksContext)
    plan = read_plan(PLAN)
    with container.transaction() as session:
        first = import_plan(session, importer(plan), context, plan)
    with container.transaction() as session:
        second = import_plan(session, importer(plan), context, plan)

    assert (first.created, first.unchanged) == (len(plan.points), 0)
    assert (second.created, second.unchanged) == (0, len(plan.points))
    created = tasks(container)
    assert len(created) == len(plan.points)
    assert {t.jurisdiction_code for t in created} == {"50"}
    afforestation = next(t for t in created if t.title == "营造林")
    assert (afforestation.kind, afforestation.target_quantity, afforestation.unit) == (
        "target",
        Decimal(5_000_000),
        "亩",
    )
    assert afforestation.lead_department == "市林业局"
    assert afforestation.plan_key == "chongqing-2021"


def test_cli_imports_the_plan(container, settings: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {
        "LINZHANG_DATABASE_URL": settings.database_url,
        "LINZHANG_PATHS_VAR_DIR": str(settings.var_path),
        "LINZHANG_REDIS_URL": settings.redis.url,
    }
    result = CliRunner().invoke(cli, ["import", "plan", str(PLAN)], env=env)
    assert result.exit_code == 0, result.output
    assert f"计划 chongqing-2021：新建 {len(read_plan(PLAN).points)} 项任务，已有 0 项" in result.output
    broken = tmp_path / "broken.toml"
    broken.write_text(PLAN.read_text(encoding="utf-8").replace('key = "2.2"', 'key = "2.1"'), encoding="utf-8")
    refused = CliRunner().invoke(cli, ["import", "plan", str(broken)], env=env)
    assert refused.exit_code == 1
    assert "要点编号重复：2.1" in refused.output


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('kind = "target"', 'kind = "wish"'), "kind"),
        (("target_quantity = 5000000", "target_quantity = -5"), "目标量须大于0"),
        (('unit = "亩"', 'unit = ""'), "单位"),
    ],
)
def test_bad_plans_write_nothing(container, tmp_path: Path, change: tuple[str, str], words: str) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "plan.toml"
    broken.write_text(PLAN.read_text(encoding="utf-8").replace(*change, 1), encoding="utf-8")
    context = container.context(TasksContext)
    with pytest.raises(PlanError, match=words), container.transaction() as session:
        import_plan(session, importer(loaded := read_plan(broken)), context, loaded)
    assert tasks(container) == []


def test_the_plans_categories_are_vocabulary_codes(tmp_path: Path) -> None:
    vocabulary = load_categories(PLAN.parents[1] / "categories.toml")
    plan = read_plan(PLAN)
    assert {point.category for point in plan.points} <= set(vocabulary.codes)
    # A plan with a free-text category is refused before anything is written.
    bad = tmp_path / "bad.toml"
    bad.write_text(PLAN.read_text(encoding="utf-8").replace('"pest_control"', '"病虫害"', 1), encoding="utf-8")
    with pytest.raises(PlanError, match="病虫害"):
        check_plan_categories(read_plan(bad), vocabulary)
