"""Pure rules of the tasks domain: kinds, statuses, quantities, splits, progress, verification."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from linzhang.vocabularies import KINDS, LEVEL_CODES, STATUSES

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
    SUBMITTED = "submitted"  # an issue awaiting verification (核查), a target awaiting acceptance (验收)
    DONE = "done"


# The Chinese names come from the one place every reader takes them from (linzhang/vocabularies.py).
KIND_NAMES = {kind: KINDS.name_of(kind.value) for kind in TaskKind}
STATUS_NAMES = {status: STATUSES.name_of(status.value) for status in TaskStatus}


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


class UnknownCategory(TaskRuleError):
    """A category outside the configured vocabulary; ``allowed`` lists the codes that are."""

    def __init__(self, given: str, allowed: Sequence[str]) -> None:
        super().__init__(f"类别“{given}”不在类别表中，可选：{'、'.join(allowed)}", "category", code="unknown_category")
        self.given = given
        self.allowed = tuple(allowed)


def check_category(value: str | None, allowed: Sequence[str]) -> str | None:
    """A task's category: none, or one of the configured vocabulary's codes (config/categories.toml)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value not in allowed:
        raise UnknownCategory(value, allowed)
    return value


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
class CheckedTask:
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
    categories: Sequence[str],
) -> CheckedTask:
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
    return CheckedTask(
        title=checked_title,
        kind=kind,
        due_date=check_due_date(due_date, today),
        target_quantity=quantity,
        unit=checked_unit,
        description=check_text(description or "", "description", TEXT_MAX, required=False),
        category=check_category(category, categories),
        lead_department=check_text(lead_department or "", "lead_department", 200, required=False),
    )


def due_date_of(
    due_date: dt.date | None,
    due_in_workdays: int | None,
    today: dt.date,
    add_workdays: Callable[[dt.date, int], dt.date],
) -> dt.date:
    """A new task is due on a date or in N working days from today (0 to 1000), one of the two."""
    if (due_date is None) == (due_in_workdays is None):
        raise TaskRuleError("截止日期与工作日天数须二选一", "due_date", code="due_date_ambiguous")
    if due_in_workdays is None:
        assert due_date is not None
        return due_date
    if not 0 <= due_in_workdays <= 1000:
        raise TaskRuleError("工作日天数须在0至1000之间", "due_in_workdays", code="due_in_workdays_out_of_range")
    return add_workdays(today, due_in_workdays)


@dataclass(frozen=True, slots=True)
class TaskState:
    """What the rules need to know of an existing task."""

    kind: TaskKind
    status: TaskStatus
    target_quantity: Decimal | None
    completed_quantity: Decimal
    due_date: dt.date
    has_children: bool
    # There is a level above the owner to verify (核查) or accept (验收) its work: false at the city.
    has_level_above: bool = True


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


@dataclass(frozen=True, slots=True)
class Progress:
    """A checked report: the new figure, the status it leads to, and the reason for a correction."""

    quantity: Decimal
    status: TaskStatus
    reason: str | None
    lowered: bool


def _reached(task: TaskState) -> TaskStatus:
    """验收: a target that reached its figure waits for the level above (done at once at the top)."""
    return TaskStatus.SUBMITTED if task.has_level_above else TaskStatus.DONE


def check_progress(task: TaskState, completed: Decimal, reason: str | None = None) -> Progress:
    """A leaf target's cumulative figure: reaching the target submits it for acceptance (验收).

    Until it is accepted the owner may correct the figure; a figure that goes down needs a reason, and
    one that drops below the target opens the target again. An accepted (done) target is final.
    """
    if task.kind is not TaskKind.TARGET:
        raise TaskRuleError(
            f"进度只报告在目标任务上；{KIND_NAMES[task.kind]}请办结", "completed_quantity", code="not_a_target"
        )
    if task.has_children:
        raise TaskRuleError("该目标已分解，完成量是各分解任务之和", conflict=True, code="target_split")
    if task.status is TaskStatus.DONE:
        raise TaskRuleError("该目标已验收办结，完成量不能再改", conflict=True, code="task_done")
    quantity = check_quantity(completed, "completed_quantity", positive=False)
    lowered = quantity < task.completed_quantity
    checked_reason = check_text(reason or "", "reason", TEXT_MAX, required=False)
    if lowered and checked_reason is None:
        raise TaskRuleError(
            f"完成量从 {task.completed_quantity} 改为 {quantity}（调低）须说明理由（reason）",
            "reason",
            code="reason_required",
        )
    assert task.target_quantity is not None
    status = _reached(task) if quantity >= task.target_quantity else TaskStatus.OPEN
    return Progress(quantity, status, checked_reason, lowered)


def check_complete(task: TaskState) -> TaskStatus:
    """Mark the work finished: an issue goes to verification, a target (once reached) to acceptance."""
    if task.status is TaskStatus.DONE:
        raise TaskRuleError("任务已完成", conflict=True, code="task_done")
    if task.status is TaskStatus.SUBMITTED:
        raise TaskRuleError("任务已提交，等待上级核查或验收", conflict=True, code="awaiting_review")
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
        return _reached(task)
    return TaskStatus.DONE


def check_verify(task: TaskState, accepted: bool, note: str) -> tuple[TaskStatus, str | None]:
    """核查 of an issue, 验收 of a target, by the level above: accepted (done) or sent back (open) with a note."""
    if task.kind is TaskKind.ORDER:
        raise TaskRuleError(
            "只有问题整改（核查）和目标任务（验收）需要上级确认；林长令无需确认", conflict=True, code="not_verifiable"
        )
    if task.status is not TaskStatus.SUBMITTED:
        raise TaskRuleError(
            f"该任务状态为“{STATUS_NAMES[task.status]}”，未提交核查或验收", conflict=True, code="not_submitted"
        )
    reason = check_text(note, "note", TEXT_MAX, required=not accepted)
    return (TaskStatus.DONE if accepted else TaskStatus.OPEN), reason


def excess(target_quantity: Decimal | None, completed_quantity: Decimal) -> Decimal:
    """超额完成: how far the figure exceeds the target (0 when it does not, or there is no target)."""
    if target_quantity is None or completed_quantity <= target_quantity:
        return Decimal(0)
    return canonical(completed_quantity - target_quantity)


def roll_up(children: Sequence[tuple[Decimal, TaskStatus]]) -> tuple[Decimal, TaskStatus]:
    """A split target's figures: the sum of its parts; done when every part is done."""
    total = sum((completed for completed, _ in children), Decimal(0))
    done = bool(children) and all(status is TaskStatus.DONE for _, status in children)
    return total, TaskStatus.DONE if done else TaskStatus.OPEN


def check_supervision(
    *,
    status: TaskStatus,
    owner_level: str,
    holder_level: str,
    new_due_date: dt.date,
    today: dt.date,
    latest: dt.date,
    is_workday: Callable[[dt.date], bool],
) -> dt.date:
    """督办: the new deadline of escalated work, or why it cannot be given.

    Only work held above its owner (escalated) is supervised, and only while it is open (submitted work
    waits for its verifier). The deadline is a working day, today or later, and no later than ``latest``
    (today plus the configured number of working days). Supervision sets a deadline and nothing else:
    the work stays with its holder, never moving down a level.
    """
    if status is not TaskStatus.OPEN:
        raise TaskRuleError(
            f"该任务状态为“{STATUS_NAMES[status]}”，只有办理中的升级任务可以督办",
            conflict=True,
            code="not_supervisable",
        )
    if LEVEL_CODES.index(holder_level) >= LEVEL_CODES.index(owner_level):
        raise TaskRuleError("该任务未升级，由责任单位自行办理，不需督办", conflict=True, code="not_escalated")
    if new_due_date < today:
        raise TaskRuleError(
            f"督办期限 {new_due_date.isoformat()} 早于今天（{today.isoformat()}）", "new_due_date", code="date_in_past"
        )
    if not is_workday(new_due_date):
        raise TaskRuleError(f"督办期限 {new_due_date.isoformat()} 不是工作日", "new_due_date", code="not_a_workday")
    if new_due_date > latest:
        raise TaskRuleError(
            f"督办期限最迟为 {latest.isoformat()}，不能是 {new_due_date.isoformat()}",
            "new_due_date",
            code="deadline_too_far",
        )
    return new_due_date


PLACE_MAX = 200
ATTENDEE_MAX = 100
ATTENDEES_MAX = 50


@dataclass(frozen=True, slots=True)
class SummonsPlan:
    planned_on: dt.date
    place: str
    attendees: tuple[str, ...]


def _attendees(attendees: Sequence[str]) -> tuple[str, ...]:
    if len(attendees) > ATTENDEES_MAX:
        raise TaskRuleError(f"参加人员最多 {ATTENDEES_MAX} 名", "attendees", code="too_many_attendees")
    names = []
    for index, name in enumerate(attendees):
        checked = check_text(name, f"attendees[{index}]", ATTENDEE_MAX, required=True)
        assert checked is not None
        names.append(checked)
    return tuple(names)


def check_summons_plan(
    *, planned_on: dt.date, today: dt.date, place: str | None, attendees: Sequence[str]
) -> SummonsPlan:
    """约谈 scheduled ahead: a date from today on, a place, and who is summoned (names and posts)."""
    if planned_on < today:
        raise TaskRuleError(
            f"约谈日期 {planned_on.isoformat()} 早于今天（{today.isoformat()}）；已举行的约谈请填写 held_on",
            "planned_on",
            code="date_in_past",
        )
    if planned_on > LATEST_DUE:
        raise TaskRuleError(f"约谈日期须早于 {LATEST_DUE.isoformat()}", "planned_on", code="date_too_late")
    checked_place = check_text(place or "", "place", PLACE_MAX, required=False)
    if checked_place is None:
        raise TaskRuleError("安排约谈须写明地点（place）", "place", code="place_required")
    return SummonsPlan(planned_on, checked_place, _attendees(attendees))


def check_summons_held(
    *, held_on: dt.date, today: dt.date, earliest: dt.date, minutes: str | None, attendees: Sequence[str]
) -> tuple[dt.date, str, tuple[str, ...]]:
    """约谈 recorded as held: on a day from ``earliest`` (the task's or the plan's start) to today, with minutes."""
    if held_on > today:
        raise TaskRuleError("约谈举行后才能登记：held_on 须为今天或更早", "held_on", code="date_in_future")
    if held_on < earliest:
        raise TaskRuleError(
            f"约谈举行日期 {held_on.isoformat()} 早于 {earliest.isoformat()}", "held_on", code="date_too_early"
        )
    checked = check_text(minutes or "", "minutes", TEXT_MAX, required=False)
    if checked is None:
        raise TaskRuleError("登记约谈须附纪要（minutes）", "minutes", code="minutes_required")
    return held_on, checked, _attendees(attendees)
