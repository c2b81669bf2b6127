"""Importing the division tree: Chongqing's real codes, idempotence, all-or-nothing with line numbers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from linzhang.bus.tables import events_table
from linzhang.cli import cli
from linzhang.container import Container
from linzhang.domains.jurisdictions.importer import read_division_file, read_divisions
from linzhang.domains.jurisdictions.model import InvalidDivision
from linzhang.domains.jurisdictions.service import import_divisions
from linzhang.domains.jurisdictions.tables import units_table
from linzhang.settings import Settings
from tests.conftest import SHARED_DATA

# The shared data set when it lies beside the checkout, else the same file as the project ships it.
CHONGQING = SHARED_DATA / "divisions" / "chongqing-2022.csv"
if not CHONGQING.exists():
    from linzhang.demo import DIVISIONS as CHONGQING


def level_counts(container: Container) -> dict[str, int]:
    with container.engine.connect() as connection:
        rows = connection.execute(select(units_table.c.level, func.count()).group_by(units_table.c.level)).all()
    return {row[0]: row[1] for row in rows}


def event_count(container: Container, event_type: str) -> int:
    with container.engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(events_table).where(events_table.c.event_type == event_type)
        ).scalar_one()


def run_import(container: Container, text: str):  # type: ignore[no-untyped-def]
    with container.transaction() as session:
        return import_divisions(session, container.clock, read_divisions(text))


def test_chongqing_2022_loads_whole(container: Container) -> None:
    rows = read_division_file(CHONGQING)
    with container.transaction() as session:
        report = import_divisions(session, container.clock, rows)

    assert report.created == 1 + 38 + 1031
    assert level_counts(container) == {"city": 1, "district": 38, "township": 1031}
    assert event_count(container, "JurisdictionCreated") == 1070
    with container.reading() as session:
        township = container.lookup_jurisdiction(session, "500101001")
    assert township is not None
    assert township.path == "/50/500101/500101001/"
    assert township.name == "高笋塘街道"


def test_importing_the_same_file_again_changes_nothing(container: Container) -> None:
    rows = read_division_file(CHONGQING)
    with container.transaction() as session:
        import_divisions(session, container.clock, rows)
    with container.transaction() as session:
        again = import_divisions(session, container.clock, rows)

    assert (again.created, again.renamed, again.unchanged) == (0, 0, 1070)
    assert event_count(container, "JurisdictionCreated") == 1070


def test_a_rename_updates_in_place_and_tells_the_bus(container: Container) -> None:
    run_import(container, "code,name,level,parent_code\n50,重庆市,city,\n500101,万州区,district,50\n")
    report = run_import(container, "code,name,level,parent_code\n500101,万州区（新）,district,50\n")

    assert (report.created, report.renamed, report.unchanged) == (0, 1, 0)
    with container.reading() as session:
        renamed = container.lookup_jurisdiction(session, "500101")
    assert renamed is not None
    assert renamed.name == "万州区（新）"
    assert event_count(container, "JurisdictionRenamed") == 1


def test_functional_zones_and_villages_extend_the_tree(container: Container) -> None:
    run_import(container, "code,name,level,parent_code\n50,重庆市,city,\n")
    report = run_import(
        container,
        "code,name,level,parent_code\n"
        "LJXQ,两江新区,district,50\n"
        "LJXQ-01,鸳鸯街道,township,LJXQ\n"
        "LJXQ-01-001,金山社区,village,LJXQ-01\n",
    )
    assert report.created == 3
    with container.reading() as session:
        village = container.lookup_jurisdiction(session, "LJXQ-01-001")
    assert village is not None
    assert village.path == "/50/LJXQ/LJXQ-01/LJXQ-01-001/"


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("500101,万州区,district,50\n500199,某区,district,99\n", 3, "division_parent_unknown"),
        ("500101,万州区,district,50\n500101003,街道,township,50\n", 3, "division_level_mismatch"),
        (
            "500101,万州区,district,50\n500101001,街道,township,500101\n500101001,街道,township,500101\n",
            4,
            "division_duplicate",
        ),
        (
            "500101,万州区,district,50\n500102,涪陵区,district,50\n500101001,街道,township,500102\n",
            4,
            "division_parent_changed",
        ),
        ("500101,万州区,district\n", 2, "division_columns_invalid"),
        ("500101,万州区,county,50\n", 2, "division_level_invalid"),
    ],
)
def test_a_bad_row_rejects_the_whole_file_with_its_line(container: Container, body: str, line: int, words: str) -> None:
    run_import(
        container,
        "code,name,level,parent_code\n50,重庆市,city,\n500101,万州区,district,50\n500101001,街道,township,500101\n",
    )
    before = level_counts(container)
    events_before = event_count(container, "JurisdictionCreated")

    with pytest.raises(InvalidDivision) as caught:
        run_import(container, "code,name,level,parent_code\n" + body)

    assert caught.value.code == words
    assert caught.value.line == line
    assert level_counts(container) == before
    assert event_count(container, "JurisdictionCreated") == events_before


def test_a_wrong_header_is_refused() -> None:
    with pytest.raises(InvalidDivision, match="表头"):
        list(read_divisions("id,name,level,parent\n50,重庆市,city,\n"))


def test_cli_import_reports_and_rejects(container: Container, settings: Settings, tmp_path: Path) -> None:
    env = {
        "LINZHANG_DATABASE_URL": settings.database_url,
        "LINZHANG_PATHS_VAR_DIR": str(settings.var_path),
        "LINZHANG_REDIS_URL": settings.redis.url,
    }
    runner = CliRunner()
    loaded = runner.invoke(cli, ["import", "divisions", str(CHONGQING)], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert "新建 1070 个辖区，更名 0 个，未变 0 个" in loaded.output

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,level,parent_code\n500101999,新街道,township,500101\n500101999001,村,village,nowhere\n",
        encoding="utf-8",
    )
    rejected = runner.invoke(cli, ["import", "divisions", str(bad)], env=env)
    assert rejected.exit_code == 1
    assert "第3行" in rejected.output
    assert "未导入任何数据" in rejected.output
    with container.reading() as session:
        assert container.lookup_jurisdiction(session, "500101999") is None


def test_concurrent_chief_events_of_one_unit_leave_the_right_count(container: Container) -> None:
    """Two chief events for one unit handled at the same time must not lose either change."""
    import threading

    from linzhang.contracts import ChiefAppointed, ChiefTermEnded
    from linzhang.domains.jurisdictions.service import record_chief_appointed, record_chief_term_ended

    run_import(container, "code,name,level,parent_code\n50,重庆市,city,\n500101,万州区,district,50\n")
    with container.transaction() as session:
        record_chief_appointed(
            session,
            ChiefAppointed(
                chief_id=1,
                name="旧",
                post="林长",
                role="chief",
                jurisdiction_code="500101",
                path="/50/500101/",
                term_start=date(2021, 1, 1),
            ),
        )
    for round_number in range(10):
        old, new = 1 + round_number, 2 + round_number
        barrier = threading.Barrier(2)

        def appoint(new_id: int = new, barrier: threading.Barrier = barrier) -> None:
            with container.transaction() as session:
                barrier.wait()
                record_chief_appointed(
                    session,
                    ChiefAppointed(
                        chief_id=new_id,
                        name="新",
                        post="林长",
                        role="chief",
                        jurisdiction_code="500101",
                        path="/50/500101/",
                        term_start=date(2021, 1, 1),
                    ),
                )

        def end(old_id: int = old, barrier: threading.Barrier = barrier) -> None:
            with container.transaction() as session:
                barrier.wait()
                record_chief_term_ended(
                    session,
                    ChiefTermEnded(
                        chief_id=old_id,
                        jurisdiction_code="500101",
                        path="/50/500101/",
                        term_end=date(2021, 2, 1),
                        reason="换届",
                    ),
                )

        threads = [threading.Thread(target=appoint), threading.Thread(target=end)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with container.engine.connect() as connection:
            count = connection.execute(
                select(units_table.c.active_chiefs).where(units_table.c.code == "500101")
            ).scalar_one()
        assert count == 1, f"round {round_number}: {count} chiefs in office"


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        # GBK, as an older spreadsheet would save it: not UTF-8, found on the line of the first bad byte.
        ("code,name,level,parent_code\n50,重庆市,city,\n500101,万州区,district,50\n".encode("gbk"), 2, "UTF-8"),
        (
            b"code,name,level,parent_code\n50,\xe9\x87\x8d\xe5\xba\x86\xe5\xb8\x82,city,\n500101,\xff\xfe,district,50\n",
            3,
            "UTF-8",
        ),
        (
            ("code,name,level,parent_code\n50,重庆市,city,\n500101," + "林" * 140_000 + ",district,50\n").encode(),
            3,
            "128 KiB",
        ),
        ("code,name,level,parent_code\n50,重庆市,city,\n500101,万州\x00区,district,50\n".encode(), 3, "NUL"),
    ],
)
def test_cli_refuses_unreadable_files_with_the_line_and_writes_nothing(
    container: Container, settings: Settings, tmp_path: Path, content: bytes, line: int, words: str
) -> None:
    env = {
        "LINZHANG_DATABASE_URL": settings.database_url,
        "LINZHANG_PATHS_VAR_DIR": str(settings.var_path),
        "LINZHANG_REDIS_URL": settings.redis.url,
    }
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    before = level_counts(container)
    rejected = CliRunner().invoke(cli, ["import", "divisions", str(bad)], env=env)
    assert rejected.exit_code == 1, rejected.output
    assert f"第{line}行" in rejected.output
    assert words in rejected.output
    assert "未导入任何数据" in rejected.output
    assert "Traceback" not in rejected.output
    assert rejected.exception is None or isinstance(rejected.exception, SystemExit)
    assert level_counts(container) == before
