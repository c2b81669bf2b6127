"""The task rules: quantities, splits that sum, progress on leaves, completion and verification."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linzhang.domains.tasks.model import (
    SplitPart,
    TaskKind,
    TaskRuleError,
    TaskState,
    TaskStatus,
    check_complete,
    check_new_task,
    check_progress,
    check_quantity,
    check_split,
    check_verify,
    roll_up,
)

TODAY = dt.date(2021, 3, 1)
CHILDREN = {"500101": "万州区", "500102": "涪陵区", "500103": "渝中区"}


def target(quantity: str = "100", **changes: object) -> TaskState:
    values: dict[str, object] = {
        "kind": TaskKind.TARGET,
        "status": TaskStatus.OPEN,
        "target_quantity": Decimal(quantity),
        "completed_quantity": Decimal(0),
        "due_date": dt.date(2021, 12, 31),
        "has_children": False,
    }
    values.update(changes)
    return TaskState(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("-1", "quantity_too_small"),
        ("NaN", "quantity_not_a_number"),
        ("Infinity", "quantity_not_a_number"),
        ("0.00001", "quantity_too_precise"),
        ("1e13", "quantity_too_large"),
    ],
)
def test_bad_quantities(value: str, words: str) -> None:
    with pytest.raises(TaskRuleError) as caught:
        check_quantity(Decimal(value), "q", positive=False)
    assert caught.value.code == words


def test_a_target_needs_a_positive_quantity_and_a_unit() -> None:
    common = {
        "title": "营造林",
        "due_date": TODAY,
        "today": TODAY,
        "description": None,
        "category": None,
        "lead_department": None,
        "categories": ("afforestation",),
    }
    with pytest.raises(TaskRuleError, match="指标任务须有目标量"):
        check_new_task(kind=TaskKind.TARGET, target_quantity=None, unit="亩", **common)  # type: ignore[arg-type]
    with pytest.raises(TaskRuleError, match="目标量须大于0"):
        check_new_task(kind=TaskKind.TARGET, target_quantity=Decimal(0), unit="亩", **common)  # type: ignore[arg-type]
    with pytest.raises(TaskRuleError, match="单位不能为空"):
        check_new_task(kind=TaskKind.TARGET, target_quantity=Decimal(5), unit=" ", **common)  # type: ignore[arg-type]
    with pytest.raises(TaskRuleError, match="只有指标任务有目标量"):
        check_new_task(kind=TaskKind.ISSUE, target_quantity=Decimal(5), unit=None, **common)  # type: ignore[arg-type]


def test_a_due_date_in_the_past_is_refused() -> None:
    with pytest.raises(TaskRuleError, match="早于今天"):
        check_new_task(
            title="x",
            kind=TaskKind.ORDER,
            due_date=TODAY - dt.timedelta(days=1),
            today=TODAY,
            target_quantity=None,
            unit=None,
            description=None,
            category=None,
            lead_department=None,
            categories=("afforestation",),
        )


def test_split_into_direct_children_that_sum() -> None:
    parts = check_split(
        target("100"), [SplitPart("500101", Decimal("60.5")), SplitPart("500102", Decimal("39.5"))], CHILDREN, TODAY
    )
    assert [p.target_quantity for p in parts] == [Decimal("60.5"), Decimal("39.5")]
    assert all(p.due_date == dt.date(2021, 12, 31) for p in parts)


@pytest.mark.parametrize(
    ("parts", "words"),
    [
        ([SplitPart("500101", Decimal(60)), SplitPart("500102", Decimal(30))], "各份合计 90，与任务目标量 100 不等"),
        ([SplitPart("500101", Decimal(60)), SplitPart("500101", Decimal(40))], "与前面的重复"),
        ([SplitPart("50010101", Decimal(100))], "不是任务所属辖区的直接下级"),
        ([SplitPart("500101", Decimal(100)), SplitPart("500102", Decimal(0))], "第2份的目标量须大于0"),
        ([SplitPart("500101", Decimal(100), dt.date(2022, 1, 1))], "晚于任务的"),
        ([], "分解至少要有一份"),
    ],
)
def test_bad_splits(parts: list[SplitPart], words: str) -> None:
    with pytest.raises(TaskRuleError, match=words):
        check_split(target("100"), parts, CHILDREN, TODAY)


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (target(has_children=True), "task_split_already"),
        (target(completed_quantity=Decimal(1)), "task_has_progress"),
        (target(status=TaskStatus.DONE), "task_done"),
        (target(kind=TaskKind.ORDER, target_quantity=None), "split_not_a_target"),
    ],
)
def test_what_cannot_be_split(state: TaskState, words: str) -> None:
    with pytest.raises(TaskRuleError) as caught:
        check_split(state, [SplitPart("500101", Decimal(100))], CHILDREN, TODAY)
    assert caught.value.code == words


@given(st.lists(st.integers(1, 10**9), min_size=1, max_size=10), st.integers(0, 10**6))
def test_any_partition_of_the_whole_is_accepted_and_any_other_sum_is_not(amounts: list[int], extra: int) -> None:
    children = {f"c{i}": f"c{i}" for i in range(len(amounts))}
    whole = sum(amounts)
    parts = [SplitPart(f"c{i}", Decimal(a)) for i, a in enumerate(amounts)]
    checked = check_split(target(str(whole)), parts, children, TODAY)
    assert sum(p.target_quantity for p in checked) == whole
    if extra:
        with pytest.raises(TaskRuleError, match="各份合计"):
            check_split(target(str(whole + extra)), parts, children, TODAY)


def test_progress_is_cumulative_and_reaching_the_target_submits_it_for_acceptance() -> None:
    def outcome(state: TaskState, figure: int) -> tuple[Decimal, TaskStatus]:
        checked = check_progress(state, Decimal(figure))
        return checked.quantity, checked.status

    assert outcome(target("100"), 40) == (Decimal(40), TaskStatus.OPEN)
    assert outcome(target("100"), 100) == (Decimal(100), TaskStatus.SUBMITTED)
    assert outcome(target("100"), 120) == (Decimal(120), TaskStatus.SUBMITTED)
    # The top level has nobody above to accept its work: reaching the figure closes it.
    assert outcome(target("100", has_level_above=False), 100) == (Decimal(100), TaskStatus.DONE)


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (target(has_children=True), "target_split"),
        (target(status=TaskStatus.DONE), "task_done"),
        (target(kind=TaskKind.ISSUE, target_quantity=None), "not_a_target"),
    ],
)
def test_where_progress_is_refused(state: TaskState, words: str) -> None:
    with pytest.raises(TaskRuleError) as caught:
        check_progress(state, Decimal(1))
    assert caught.value.code == words


def test_completion_by_kind() -> None:
    assert check_complete(target(kind=TaskKind.ISSUE, target_quantity=None)) is TaskStatus.SUBMITTED
    assert check_complete(target(kind=TaskKind.ORDER, target_quantity=None)) is TaskStatus.DONE
    with pytest.raises(TaskRuleError, match="尚未达到目标"):
        check_complete(target("100", completed_quantity=Decimal(99)))
    assert check_complete(target("100", completed_quantity=Decimal(100))) is TaskStatus.SUBMITTED
    with pytest.raises(TaskRuleError, match="等待上级核查或验收"):
        check_complete(target(kind=TaskKind.ISSUE, target_quantity=None, status=TaskStatus.SUBMITTED))


def test_verification_accepts_or_sends_back_with_a_reason() -> None:
    submitted = target(kind=TaskKind.ISSUE, target_quantity=None, status=TaskStatus.SUBMITTED)
    assert check_verify(submitted, True, "") == (TaskStatus.DONE, None)
    assert check_verify(submitted, False, "伐区未清理") == (TaskStatus.OPEN, "伐区未清理")
    with pytest.raises(TaskRuleError, match="说明不能为空"):
        check_verify(submitted, False, "  ")
    with pytest.raises(TaskRuleError, match="未提交"):
        check_verify(target(kind=TaskKind.ISSUE, target_quantity=None), True, "")
    with pytest.raises(TaskRuleError, match="林长令无需确认"):
        check_verify(target(kind=TaskKind.ORDER, target_quantity=None, status=TaskStatus.SUBMITTED), True, "")
    # 验收: a submitted target is accepted or sent back like an issue.
    reached = target(status=TaskStatus.SUBMITTED, completed_quantity=Decimal(100))
    assert check_verify(reached, True, "") == (TaskStatus.DONE, None)
    assert check_verify(reached, False, "数字有误") == (TaskStatus.OPEN, "数字有误")


def test_roll_up_sums_and_is_done_when_every_part_is() -> None:
    assert roll_up([(Decimal(3), TaskStatus.DONE), (Decimal(4), TaskStatus.OPEN)]) == (Decimal(7), TaskStatus.OPEN)
    assert roll_up([(Decimal(3), TaskStatus.DONE), (Decimal(4), TaskStatus.DONE)]) == (Decimal(7), TaskStatus.DONE)
