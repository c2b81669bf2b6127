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
    """A request breaks a task rule; ``field`` names the input at fault, ``conflict`` marks state errors."""

    def __init__(self, message: str, field: str | None = None, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


def check_quantity(value: Decimal, field: str, *, positive: bool) -> Decimal:
    """A finite, non-negative (or positive) quantity with at most four decimal places."""
    try:
        finite = value.is_finite()
    except (AttributeError, InvalidOperation):
        finite = False
    if not finite:
        raise TaskRuleError(f"{field} must be a number", field)
    if value < 0 or (positive and value == 0):
        raise TaskRuleError(f"{field} must be {'greater than' if positive else 'at least'} 0", field)
    if value > MAX_QUANTITY:
        raise TaskRuleError(f"{field} must be at most {MAX_QUANTITY}", field)
    if value != value.quantize(Decimal(1).scaleb(-QUANTITY_PLACES)):
        raise TaskRuleError(f"{field} has at most {QUANTITY_PLACES} decimal places", field)
    return canonical(value)


def canonical(value: Decimal) -> Decimal:
    """1000 rather than 1E+3 or 1000.00; 12.5 rather than 12.50."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def check_due_date(due: dt.date, today: dt.date, field: str = "due_date") -> dt.date:
    if due < today:
        raise TaskRuleError(f"{field} {due.isoformat()} is in the past (today is {today.isoformat()})", field)
    if due > LATEST_DUE:
        raise TaskRuleError(f"{field} must be before {LATEST_DUE.isoformat()}", field)
    return due


def check_text(value: str, field: str, limit: int, *, required: bool) -> str | None:
    value = value.strip()
    if not value:
        if required:
            raise TaskRuleError(f"{field} must not be empty", field)
        return None
    if len(value) > limit:
        raise TaskRuleError(f"{field} is at most {limit} characters", field)
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
            raise TaskRuleError("a target needs target_quantity", "target_quantity")
        quantity: Decimal | None = check_quantity(target_quantity, "target_quantity", positive=True)
        checked_unit = check_text(unit or "", "unit", UNIT_MAX, required=True)
    else:
        if target_quantity is not None:
            raise TaskRuleError(f"an {kind.value} has no target_quantity", "target_quantity")
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
        raise TaskRuleError(f"only a target can be split, not an {task.kind.value}", "parts")
    if task.status is TaskStatus.DONE:
        raise TaskRuleError("the task is done", conflict=True)
    if task.has_children:
        raise TaskRuleError("the task is split already", conflict=True)
    if task.completed_quantity > 0:
        raise TaskRuleError("progress was reported on this task; it can no longer be split", conflict=True)
    if not parts:
        raise TaskRuleError("a split needs at least one part", "parts")
    seen: set[str] = set()
    checked: list[SplitPart] = []
    for index, part in enumerate(parts):
        field = f"parts[{index}]"
        if part.jurisdiction_code in seen:
            raise TaskRuleError(f"{field}: {part.jurisdiction_code} appears twice", field)
        seen.add(part.jurisdiction_code)
        if part.jurisdiction_code not in child_codes:
            raise TaskRuleError(
                f"{field}: {part.jurisdiction_code} is not a direct child of the task's jurisdiction", field
            )
        quantity = check_quantity(part.target_quantity, f"{field}.target_quantity", positive=True)
        due = part.due_date or task.due_date
        if part.due_date is not None:
            check_due_date(part.due_date, today, f"{field}.due_date")
            if part.due_date > task.due_date:
                raise TaskRuleError(
                    f"{field}.due_date {part.due_date.isoformat()} is after the task's {task.due_date.isoformat()}",
                    field,
                )
        checked.append(SplitPart(part.jurisdiction_code, quantity, due))
    total = sum((part.target_quantity for part in checked), Decimal(0))
    assert task.target_quantity is not None
    if total != task.target_quantity:
        raise TaskRuleError(f"the parts sum to {total}, not to the task's {task.target_quantity}", "parts")
    return checked


def check_progress(task: TaskState, completed: Decimal) -> tuple[Decimal, TaskStatus]:
    """A leaf target's cumulative progress; reaching the target makes it done."""
    if task.kind is not TaskKind.TARGET:
        raise TaskRuleError(
            f"progress is reported on targets; complete an {task.kind.value} instead", "completed_quantity"
        )
    if task.has_children:
        raise TaskRuleError("this target is split: its progress is the sum of its parts", conflict=True)
    if task.status is TaskStatus.DONE:
        raise TaskRuleError("the task is done; its figures are final", conflict=True)
    quantity = check_quantity(completed, "completed_quantity", positive=False)
    assert task.target_quantity is not None
    return quantity, TaskStatus.DONE if quantity >= task.target_quantity else TaskStatus.OPEN


def check_complete(task: TaskState) -> TaskStatus:
    """Mark the work finished: an issue goes to verification, a target must have reached its figure."""
    if task.status is TaskStatus.DONE:
        raise TaskRuleError("the task is done already", conflict=True)
    if task.status is TaskStatus.SUBMITTED:
        raise TaskRuleError("the issue awaits verification", conflict=True)
    if task.kind is TaskKind.ISSUE:
        return TaskStatus.SUBMITTED
    if task.kind is TaskKind.TARGET:
        if task.has_children:
            raise TaskRuleError("this target is split: it is done when all its parts are", conflict=True)
        assert task.target_quantity is not None
        if task.completed_quantity < task.target_quantity:
            raise TaskRuleError(
                f"the target is not reached: {task.completed_quantity} of {task.target_quantity}", conflict=True
            )
    return TaskStatus.DONE


def check_verify(task: TaskState, accepted: bool, note: str) -> tuple[TaskStatus, str | None]:
    """核查: the level above accepts a submitted issue (done) or sends it back (open) with a reason."""
    if task.kind is not TaskKind.ISSUE:
        raise TaskRuleError(f"only issues are verified; this is an {task.kind.value}", conflict=True)
    if task.status is not TaskStatus.SUBMITTED:
        raise TaskRuleError(f"the issue is {task.status.value}, not submitted for verification", conflict=True)
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
