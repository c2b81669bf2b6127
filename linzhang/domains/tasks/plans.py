"""Annual work plans as data: ``config/plans/*.toml`` becomes the city-level tasks of the plan."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from linzhang.bus import publish
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.events import created_event
from linzhang.domains.tasks.model import (
    CheckedTask,
    TaskKind,
    TaskRuleError,
    check_category,
    check_quantity,
    check_text,
)
from linzhang.domains.tasks.records import record_change, task_row
from linzhang.domains.tasks.tables import Plan, Task
from linzhang.identity import Action, Principal, authorize
from linzhang.identity.scope import system_actor
from linzhang.vocabularies import Vocabulary


class PlanError(ValueError):
    """A plan file that cannot be imported; nothing was written."""


class PlanHeader(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    title: str
    issued_by: str
    issued_on: dt.date
    year: int
    jurisdiction_code: str
    default_due_date: dt.date


class PlanPoint(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    section: str
    title: str
    kind: Literal["target", "order"]
    category: str
    description: str
    lead_departments: list[str]
    cooperating_departments: list[str]
    due_date: dt.date | None = None
    target_quantity: int | float | None = None
    unit: str | None = None
    note: str | None = None


class PlanFile(msgspec.Struct, forbid_unknown_fields=True):
    plan: PlanHeader
    points: list[PlanPoint]


@dataclass(frozen=True, slots=True)
class PlanReport:
    plan_key: str
    created: int
    unchanged: int


def read_plan(path: Path) -> PlanFile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{path}：不是有效的 TOML：{exc}") from None
    try:
        plan = msgspec.convert(raw, PlanFile)
    except msgspec.ValidationError as exc:
        raise PlanError(f"{path}：{exc}") from None
    keys = [point.key for point in plan.points]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise PlanError(f"{path}：要点编号重复：{'、'.join(duplicates)}")
    for point in plan.points:
        if (point.kind == "target") != (point.target_quantity is not None):
            raise PlanError(f"{path}：要点 {point.key}：指标任务须有目标量（target_quantity），林长令没有")
        if point.kind == "target" and not point.unit:
            raise PlanError(f"{path}：要点 {point.key}：指标任务须有单位")
    return plan


def check_plan_categories(plan: PlanFile, categories: Vocabulary) -> None:
    """Every point's category is a code of the vocabulary (config/categories.toml)."""
    for point in plan.points:
        try:
            check_category(point.category, categories.codes)
        except TaskRuleError as exc:
            raise PlanError(f"plan {plan.plan.key}: point {point.key}: {exc}") from None


def importer(plan: PlanFile) -> Principal:
    """The system actor that imports a plan: it assigns work and is recorded as ``plan:<key>``."""
    return system_actor(f"plan:{plan.plan.key}", Action.ASSIGN_WORK, name=f"plan:{plan.plan.key}")


def import_plan(session: Session, principal: Principal, ctx: TasksContext, plan: PlanFile) -> PlanReport:
    """Create the plan's tasks at its jurisdiction; points imported before are left as they are.

    Run by the command line as the plan's own system actor (:func:`importer`)."""
    header = plan.plan
    check_plan_categories(plan, ctx.categories)
    jurisdiction = ctx.lookup_jurisdiction(session, header.jurisdiction_code)
    if jurisdiction is None:
        raise PlanError(f"计划 {header.key}：辖区 {header.jurisdiction_code} 不存在，请先导入行政区划")
    authorize(principal, Action.ASSIGN_WORK, jurisdiction.path, what="jurisdiction")
    now = ctx.clock.now()
    if session.get(Plan, header.key) is None:
        session.add(
            Plan(
                key=header.key,
                title=header.title,
                issued_by=header.issued_by,
                issued_on=header.issued_on,
                year=header.year,
                imported_at=now,
            )
        )
        session.flush()
    existing = set(session.execute(select(Task.plan_point).where(Task.plan_key == header.key)).scalars())
    actor = principal.shown_as
    created: list[Task] = []
    for point in plan.points:
        if point.key in existing:
            continue
        try:
            quantity = (
                check_quantity(Decimal(str(point.target_quantity)), f"{point.key}.target_quantity", positive=True)
                if point.target_quantity is not None
                else None
            )
            description = check_text(
                point.description + (f"（{point.note}）" if point.note else ""),
                f"{point.key}.description",
                4000,
                required=True,
            )
        except TaskRuleError as exc:
            raise PlanError(f"计划 {header.key}：{exc}") from None
        fields = CheckedTask(
            title=point.title,
            kind=TaskKind(point.kind),
            due_date=point.due_date or header.default_due_date,
            target_quantity=quantity,
            unit=point.unit,
            description=description,
            category=point.category,
            lead_department="、".join(point.lead_departments) or None,
        )
        task = task_row(
            fields,
            jurisdiction,
            actor=actor,
            now=now,
            plan_key=header.key,
            plan_point=point.key,
            cooperating=point.cooperating_departments,
        )
        created.append(task)
    session.add_all(created)
    session.flush()
    for task in created:
        record_change(session, task, now, actor, "created", plan=header.key, point=task.plan_point)
    publish(session, *(created_event(task, now) for task in created))
    return PlanReport(header.key, len(created), len(plan.points) - len(created))
