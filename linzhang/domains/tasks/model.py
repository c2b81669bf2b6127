"""Pure rules of the tasks domain: kinds, statuses, quantities, splits, progress, verification."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

MAX_QUANTITY = Decimal("1000000000000")  # 10^12 of any unit
QUANTITY_PLACES = 4
TITLE_MAX = 200
TEXT_MAX = 4000
UNIT_MAX = 20
EARLIEST_DUE = dt.date(2000, 1, 1)
LATEST_DUE = dt.date(2100, 12, 31)


class TaskKind(StrEnum):
    TARGET = "target"  # a quantity to reach: 亩 afforested, trees planted, checkpoints built
    ISSUE = "issue"  # a problem found on patrol or inspection: 发现-上报-交办-处置-核查-销号
    ORDER = "order"  # a directive from a higher chief: 林长令 / 督办


class TaskStatus(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"  # an issue awaiting verification (核查)
    DONE = "done"


class TaskRuleError(ValueError):
    """A request breaks a task rule; ``field`` names the input at fault, ``conflict`` marks state errors.

    The message is Chinese (people read it); ``code`` is the stable machine code beside it.
    """

    def __init__(
        self, message: str, field: str | None = None, *, conflict: bool = False, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict
        self.code = code or ("task_state_conflict" if conflict else "task_rule_broken")


# 字段中文名: how a message names the input at fault (``parts[0].due_date`` reads 第1份的截止日期).
FIELD_LABELS = {
    "title": "标题",
    "target_quantity": "目标量",
    "completed_quantity": "完成量",
    "due_date": "截止日期",
    "unit": "单位",
    "note": "说明",
    "reason": "原因",
    "description": "描述",
    "category": "类别",
    "lead_department": "牵头部门",
    "text": "内容",
    "new_due_date": "督办期限",
}


def label(field: str) -> str:
    """The Chinese name of an input field, with its part's number for a split part."""
    head, _, tail = field.rpartition(".")
    name = FIELD_LABELS.get(tail, tail)
    if head.startswith("parts[") and head.endswith("]"):
        return f"第{int(head[6:-1]) + 1}份的{name}"
    return name


def check_quantity(value: Decimal, field: str, *, positive: bool) -> Decimal:
    """A finite, non-negative (or positive) quantity with at most four decimal places."""
    try:
        finite = value.is_finite()
    except (AttributeError, InvalidOperation):
        finite = False
    if not finite:
        raise TaskRuleError(f"{label(field)}须为数字", field, code="quantity_not_a_number")
    if value < 0 or (positive and value == 0):
        raise TaskRuleError(f"{label(field)}须{'大于' if positive else '不小于'}0", field, code="quantity_too_small")
    if value > MAX_QUANTITY:
        raise TaskRuleError(f"{label(field)}不能超过{MAX_QUANTITY}", field, code="quantity_too_large")
    if value != value.quantize(Decimal(1).scaleb(-QUANTITY_PLACES)):
        raise TaskRuleError(f"{label(field)}最多{QUANTITY_PLACES}位小数", field, code="quantity_too_precise")
    return canonical(value)


def canonical(value: Decimal) -> Decimal:
    """1000 rather than 1E+3 or 1000.00; 12.5 rather than 12.50."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def check_due_date(due: dt.date, today: dt.date, field: str = "due_date") -> dt.date:
    if due < today:
        raise TaskRuleError(
            f"{label(field)} {due.isoformat()} 早于今天（{today.isoformat()}）", field, code="due_date_in_past"
        )
    if due > LATEST_DUE:
        raise TaskRuleError(f"{label(field)}须早于 {LATEST_DUE.isoformat()}", field, code="due_date_too_late")
    return due


def check_text(value: str, field: str, limit: int, *, required: bool) -> str | None:
    value = value.strip()
    if not value:
        if required:
            raise TaskRuleError(f"{label(field)}不能为空", field, code="text_required")
        return None
    if len(value) > limit:
        raise TaskRuleError(f"{label(field)}最多{limit}个字", field, code="text_too_long")
    return value


@dataclass(frozen=True, slots=True)
class NewTask:
    """Checked fields of a task to create."""

    title: str
    kind: TaskKind
    due_date: dt.date
    target_quantity: Decimal | None
    unit: str | None
    description: str | None
    category: str | None
    lead_department: str | None


def check_new_task(
    *,
    title: str,
    kind: TaskKind,
    due_date: dt.date,
    today: dt.date,
    target_quantity: Decimal | None,
    unit: str | None,
    description: str | None,
    category: str | None,
    lead_department: str | None,
) -> NewTask:
    """Validate a new task: a target has a positive quantity and a unit; other kinds have neither."""
    checked_title = check_text(title, "title", TITLE_MAX, required=True)
    assert checked_title is not None
    if kind is TaskKind.TARGET:
        if target_quantity is None:
            raise TaskRuleError("指标任务须有目标量", "target_quantity", code="target_quantity_required")
        quantity: Decimal | None = check_quantity(target_quantity, "target_quantity", positive=True)
        checked_unit = check_text(unit or "", "unit", UNIT_MAX, required=True)
    else:
        if target_quantity is not None:
            raise TaskRuleError("只有指标任务有目标量", "target_quantity", code="target_quantity_not_allowed")
        quantity, checked_unit = None, check_text(unit or "", "unit", UNIT_MAX, required=False)
    return NewTask(
        title=checked_title,
        kind=kind,
        due_date=check_due_date(due_date, today),
        target_quantity=quantity,
        unit=checked_unit,
        description=check_text(description or "", "description", TEXT_MAX, required=False),
        category=check_text(category or "", "category", 50, required=False),
        lead_department=check_text(lead_department or "", "lead_department", 200, required=False),
    )


@dataclass(frozen=True, slots=True)
class TaskState:
    """What the rules need to know of an existing task."""

    kind: TaskKind
    status: TaskStatus
    target_quantity: Decimal | None
    completed_quantity: Decimal
    due_date: dt.date
    has_children: bool


@dataclass(frozen=True, slots=True)
class SplitPart:
    jurisdiction_code: str
    target_quantity: Decimal
    due_date: dt.date | None = None


def check_split(
    task: TaskState, parts: Sequence[SplitPart], child_codes: Mapping[str, str], today: dt.date
) -> list[SplitPart]:
    """层层压实: split a target among direct children; the parts sum to the whole, or nothing happens.

    ``child_codes`` maps each direct child jurisdiction's code to its name.
    """
    if task.kind is not TaskKind.TARGET:
        raise TaskRuleError("只有指标任务可以分解", "parts", code="split_not_a_target")
    if task.status is TaskStatus.DONE:
        raise TaskRuleError("任务已完成", conflict=True, code="task_done")
    if task.has_children:
        raise TaskRuleError("任务已分解", conflict=True, code="task_split_already")
    if task.completed_quantity > 0:
        raise TaskRuleError("任务已报送进度，不能再分解", conflict=True, code="task_has_progress")
    if not parts:
        raise TaskRuleError("分解至少要有一份", "parts", code="split_empty")
    seen: set[str] = set()
    checked: list[SplitPart] = []
    for index, part in enumerate(parts):
        field = f"parts[{index}]"
        if part.jurisdiction_code in seen:
            raise TaskRuleError(f"第{index + 1}份的辖区与前面的重复", field, code="split_duplicate")
        seen.add(part.jurisdiction_code)
        if part.jurisdiction_code not in child_codes:
            raise TaskRuleError(
                f"第{index + 1}份的辖区不是任务所属辖区的直接下级",
                field,
                code="split_not_a_child",
            )
        quantity = check_quantity(part.target_quantity, f"{field}.target_quantity", positive=True)
        due = part.due_date or task.due_date
        if part.due_date is not None:
            check_due_date(part.due_date, today, f"{field}.due_date")
            if part.due_date > task.due_date:
                raise TaskRuleError(
                    f"第{index + 1}份的截止日期 {part.due_date.isoformat()} 晚于任务的 {task.due_date.isoformat()}",
                    field,
                    code="split_due_after_parent",
                )
        checked.append(SplitPart(part.jurisdiction_code, quantity, due))
    total = sum((part.target_quantity for part in checked), Decimal(0))
    assert task.target_quantity is not None
    if total != task.target_quantity:
        raise TaskRuleError(
            f"各份合计 {total}，与任务目标量 {task.target_quantity} 不等", "parts", code="quantity_not_summing"
        )
    return checked


def check_progress(task: TaskState, completed: Decimal) -> tuple[Decimal, TaskStatus]:
    """A leaf target's cumulative progress; reaching the target makes it done."""
    if task.kind is not TaskKind.TARGET:
        raise TaskRuleError(
            "只有指标任务报送进度，其他任务请直接办结", "completed_quantity", code="progress_not_a_target"
        )
    if task.has_children:
        raise TaskRuleError("该指标已分解，进度为各份之和", conflict=True, code="task_split_progress")
    if task.status is TaskStatus.DONE:
        raise TaskRuleError("任务已完成，数据不能再改", conflict=True, code="task_done")
    quantity = check_quantity(completed, "completed_quantity", positive=False)
    assert task.target_quantity is not None
    return quantity, TaskStatus.DONE if quantity >= task.target_quantity else TaskStatus.OPEN


def check_complete(task: TaskState) -> TaskStatus:
    """Mark the work finished: an issue goes to verification, a target must have reached its figure."""
    if task.status is TaskStatus.DONE:
        raise TaskRuleError("任务已完成", conflict=True, code="task_done")
    if task.status is TaskStatus.SUBMITTED:
        raise TaskRuleError("问题已提交，等待核查", conflict=True, code="task_awaiting_verification")
    if task.kind is TaskKind.ISSUE:
        return TaskStatus.SUBMITTED
    if task.kind is TaskKind.TARGET:
        if task.has_children:
            raise TaskRuleError("该指标已分解，各份完成后自动完成", conflict=True, code="task_split_completion")
        assert task.target_quantity is not None
        if task.completed_quantity < task.target_quantity:
            raise TaskRuleError(
                f"尚未达到目标：已完成 {task.completed_quantity}，目标 {task.target_quantity}",
                conflict=True,
                code="target_not_reached",
            )
    return TaskStatus.DONE


def check_verify(task: TaskState, accepted: bool, note: str) -> tuple[TaskStatus, str | None]:
    """核查: the level above accepts a submitted issue (done) or sends it back (open) with a reason."""
    if task.kind is not TaskKind.ISSUE:
        raise TaskRuleError("只有问题需要核查", conflict=True, code="verify_not_an_issue")
    if task.status is not TaskStatus.SUBMITTED:
        raise TaskRuleError("问题尚未提交核查", conflict=True, code="task_not_submitted")
    reason = check_text(note, "note", TEXT_MAX, required=not accepted)
    return (TaskStatus.DONE if accepted else TaskStatus.OPEN), reason


def roll_up(children: Sequence[tuple[Decimal, TaskStatus]]) -> tuple[Decimal, TaskStatus]:
    """A split target's figures: the sum of its parts; done when every part is done."""
    total = sum((completed for completed, _ in children), Decimal(0))
    done = bool(children) and all(status is TaskStatus.DONE for _, status in children)
    return total, TaskStatus.DONE if done else TaskStatus.OPEN


def is_overdue(status: TaskStatus, due_date: dt.date, today: dt.date) -> bool:
    """Overdue from 00:00 the day after the (inclusive) due date, until done."""
    return status is not TaskStatus.DONE and today > due_date
