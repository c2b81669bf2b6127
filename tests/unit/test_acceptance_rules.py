"""验收 and corrections: reaching a target submits it; until accepted the owner corrects it with a reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linzhang.domains.tasks.model import (
    TaskKind,
    TaskRuleError,
    TaskState,
    TaskStatus,
    UnknownCategory,
    check_category,
    check_progress,
    check_summons_held,
    check_summons_plan,
    check_verify,
    excess,
    roll_up,
)

TODAY = dt.date(2021, 3, 1)
CATEGORIES = ("afforestation", "pest_control", "other")


def target(quantity: int, completed: int = 0, status: TaskStatus = TaskStatus.OPEN, **changes: object) -> TaskState:
    values: dict[str, object] = {
        "kind": TaskKind.TARGET,
        "status": status,
        "target_quantity": Decimal(quantity),
        "completed_quantity": Decimal(completed),
        "due_date": dt.date(2021, 12, 31),
        "has_children": False,
    }
    values.update(changes)
    return TaskState(**values)  # type: ignore[arg-type]


def test_the_typo_case_can_be_corrected_before_acceptance() -> None:
    # A village reports 2000 instead of 200 against a 1,756 target: submitted, not closed.
    typo = check_progress(target(1756, 0), Decimal(2000))
    assert typo.status is TaskStatus.SUBMITTED
    # Correcting it down needs a reason; with one, the figure drops below the target and reopens it.
    with pytest.raises(TaskRuleError, match="理由") as refused:
        check_progress(target(1756, 2000, TaskStatus.SUBMITTED), Decimal(200))
    assert refused.value.field == "reason"
    assert refused.value.code == "reason_required"
    fixed = check_progress(target(1756, 2000, TaskStatus.SUBMITTED), Decimal(200), "误报，多写一个零")
    assert (fixed.quantity, fixed.status, fixed.reason, fixed.lowered) == (
        Decimal(200),
        TaskStatus.OPEN,
        "误报，多写一个零",
        True,
    )


def test_an_accepted_target_is_final() -> None:
    with pytest.raises(TaskRuleError, match="已验收") as refused:
        check_progress(target(100, 100, TaskStatus.DONE), Decimal(90), "x")
    assert refused.value.conflict


@given(
    st.integers(1, 10**6),
    st.integers(0, 2 * 10**6),
    st.integers(0, 2 * 10**6),
    st.sampled_from([TaskStatus.OPEN, TaskStatus.SUBMITTED]),
    st.booleans(),
)
def test_progress_rules_hold_for_any_figures(
    goal: int, before: int, after: int, status: TaskStatus, above: bool
) -> None:
    state = target(goal, before, status, has_level_above=above)
    if after < before:
        with pytest.raises(TaskRuleError):
            check_progress(state, Decimal(after))
    outcome = check_progress(state, Decimal(after), "更正")
    # Below the target: open. Reached: waiting for the level above, never done while someone is above.
    if after < goal:
        assert outcome.status is TaskStatus.OPEN
    else:
        assert outcome.status is (TaskStatus.SUBMITTED if above else TaskStatus.DONE)
    assert outcome.lowered == (after < before)
    # 超额完成 stays visible: the excess is what lies beyond the target, never negative.
    assert excess(Decimal(goal), outcome.quantity) == max(0, after - goal)


def test_acceptance_and_send_back_of_a_target() -> None:
    submitted = target(100, 120, TaskStatus.SUBMITTED)
    assert check_verify(submitted, True, "") == (TaskStatus.DONE, None)
    assert check_verify(submitted, False, "台账与现场不符") == (TaskStatus.OPEN, "台账与现场不符")
    with pytest.raises(TaskRuleError, match="说明不能为空") as caught:
        check_verify(submitted, False, "")
    assert caught.value.field == "note"
    with pytest.raises(TaskRuleError, match="未提交"):
        check_verify(target(100, 50), True, "")


@given(st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(list(TaskStatus))), min_size=1, max_size=8))
def test_a_split_target_is_done_only_when_every_part_is_accepted(parts: list[tuple[int, TaskStatus]]) -> None:
    total, status = roll_up([(Decimal(q), s) for q, s in parts])
    assert total == sum(q for q, _ in parts)  # roll-ups keep summing, over-fulfilment included
    assert (status is TaskStatus.DONE) == all(s is TaskStatus.DONE for _, s in parts)


def test_categories_are_a_vocabulary() -> None:
    assert check_category("pest_control", CATEGORIES) == "pest_control"
    assert check_category(None, CATEGORIES) is None
    assert check_category("  ", CATEGORIES) is None
    with pytest.raises(UnknownCategory) as refused:
        check_category("病虫害", CATEGORIES)
    assert refused.value.allowed == CATEGORIES
    assert refused.value.field == "category"
    assert refused.value.code == "unknown_category"


def test_a_summons_is_planned_ahead_with_a_place_and_recorded_with_minutes() -> None:
    plan = check_summons_plan(
        planned_on=TODAY + dt.timedelta(days=3), today=TODAY, place=" 区林长办会议室 ", attendees=["张三 村支书"]
    )
    assert (plan.place, plan.attendees) == ("区林长办会议室", ("张三 村支书",))
    with pytest.raises(TaskRuleError, match="held_on"):
        check_summons_plan(planned_on=TODAY - dt.timedelta(days=1), today=TODAY, place="x", attendees=[])
    with pytest.raises(TaskRuleError, match="地点"):
        check_summons_plan(planned_on=TODAY, today=TODAY, place=" ", attendees=[])
    held = check_summons_held(held_on=TODAY, today=TODAY, earliest=TODAY, minutes="责令限期整改", attendees=[])
    assert held == (TODAY, "责令限期整改", ())
    with pytest.raises(TaskRuleError, match="纪要"):
        check_summons_held(held_on=TODAY, today=TODAY, earliest=TODAY, minutes="", attendees=[])
    with pytest.raises(TaskRuleError, match="举行后"):
        check_summons_held(held_on=TODAY + dt.timedelta(days=1), today=TODAY, earliest=TODAY, minutes="x", attendees=[])
