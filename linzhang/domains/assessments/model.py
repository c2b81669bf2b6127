"""Pure rules of the assessments: periods, the rubric, component scores, totals, grades, ranking.

A jurisdiction is scored over its whole subtree. Each component scores 0-100; every point a component
loses is a deduction naming its reason and its task, and a deduction's effect on the total is its
points times the component's share of the weights that apply. A component with no work does not
apply. A veto (一票否决) fails the grade whatever the points.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from linzhang.vocabularies import LEVEL_CODES as LEVELS

# Every component a rubric may name, in the order they are shown; the first four are required.
COMPONENTS = ("target_completion", "timeliness", "escalations", "issue_rectification", "patrol_duty")
REQUIRED_COMPONENTS = COMPONENTS[:4]
# 巡林履职: a rubric without it (an installation's older assessment.toml) never scores patrols.
OPTIONAL_COMPONENTS = ("patrol_duty",)
# ASCII digits only, and nothing around them: ``２０２６``, `` 2021`` and ``2021\n`` are not periods.
_PERIOD = re.compile(r"([0-9]{4})(?:Q([1-4]))?", re.ASCII)


class RubricError(ValueError):
    """config/assessment.toml is not usable."""


class PeriodError(ValueError):
    """Not a period; the message is the Chinese detail shown to the caller."""


@dataclass(frozen=True, slots=True)
class Period:
    key: str
    start: dt.date
    end: dt.date  # inclusive

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def parse_period(key: str) -> Period:
    """``2021`` (a year) or ``2021Q3`` (a quarter), exactly: no spaces, no other digits, no line ends."""
    match = _PERIOD.fullmatch(key)
    if not match:
        raise PeriodError(f"考核期应为年份（如 2021）或季度（如 2021Q3），不能是 {key!r}")
    year = int(match.group(1))
    if not 2000 <= year <= 2100:
        raise PeriodError(f"考核年份 {year} 超出范围（2000—2100）")
    if match.group(2) is None:
        return Period(key, dt.date(year, 1, 1), dt.date(year, 12, 31))
    quarter = int(match.group(2))
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return Period(key, start, end - dt.timedelta(days=1))


@dataclass(frozen=True, slots=True)
class Grade:
    key: str
    label: str
    min_score: float


@dataclass(frozen=True, slots=True)
class BonusItem:
    key: str
    label: str
    points: float


@dataclass(frozen=True, slots=True)
class Rubric:
    weights: Mapping[str, float]
    labels: Mapping[str, str]
    escalation_points: Mapping[int, float]
    bonus: Mapping[str, BonusItem]
    grades: Sequence[Grade]  # highest band first
    fail_label: str
    # Level -> the level whose units group its peers for ranking ("city": ranked city-wide)
    ranking_within: Mapping[str, str] = field(default_factory=dict)
    issuing_unit: str = ""  # printed on the workbook's pages

    @property
    def components(self) -> tuple[str, ...]:
        """The components this rubric scores, in the order they are shown."""
        return tuple(name for name in COMPONENTS if name in self.weights)

    def group_level(self, level: str) -> str:
        return self.ranking_within.get(level, "city")

    def points_for_climb(self, levels: int) -> float:
        """Points for a task that climbed ``levels`` above its owner (the highest band applies beyond)."""
        known = [n for n in self.escalation_points if n <= levels]
        return self.escalation_points[max(known)] if known else 0.0

    def grade(self, score: float | None, vetoed: bool) -> str | None:
        if vetoed:
            return self.fail_label
        if score is None:
            return None
        for band in self.grades:
            if score >= band.min_score:
                return band.label
        return self.fail_label


def parse_rubric(raw: Mapping[str, object]) -> Rubric:
    """Check and build the rubric from the parsed TOML."""
    components = raw.get("components")
    if (
        not isinstance(components, dict)
        or not set(REQUIRED_COMPONENTS) <= set(components)
        or not set(components) <= set(COMPONENTS)
    ):
        raise RubricError(
            f"components must be exactly {', '.join(REQUIRED_COMPONENTS)}"
            f" (and optionally {', '.join(OPTIONAL_COMPONENTS)})"
        )
    weights: dict[str, float] = {}
    labels: dict[str, str] = {}
    for name in (name for name in COMPONENTS if name in components):
        entry = components[name]
        weight = entry.get("weight") if isinstance(entry, dict) else None
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
            raise RubricError(f"components.{name}.weight must be a positive number")
        weights[name] = float(weight)
        labels[name] = str(entry.get("label", name))
    points_raw = raw.get("escalation_points")
    if not isinstance(points_raw, dict) or not points_raw:
        raise RubricError("escalation_points must map levels climbed (1, 2, 3) to points")
    escalation_points: dict[int, float] = {}
    for levels, points in points_raw.items():
        if not str(levels).isdigit() or not isinstance(points, int | float) or points < 0:
            raise RubricError(f"escalation_points.{levels} must be a non-negative number of points")
        escalation_points[int(levels)] = float(points)
    ordered = [escalation_points[k] for k in sorted(escalation_points)]
    if ordered != sorted(ordered):
        raise RubricError("escalation_points must not fall as the levels climbed rise")
    bonus: dict[str, BonusItem] = {}
    for key, entry in dict(raw.get("bonus", {})).items():  # type: ignore[call-overload]
        if not isinstance(entry, dict) or not isinstance(entry.get("points"), int | float) or entry["points"] <= 0:
            raise RubricError(f"bonus.{key} needs a positive points value")
        bonus[key] = BonusItem(key, str(entry.get("label", key)), float(entry["points"]))
    grades_raw = raw.get("grades")
    if not isinstance(grades_raw, dict) or not grades_raw:
        raise RubricError("grades must list the bands with their minimum scores")
    grades = sorted(
        (Grade(key, str(entry["label"]), float(entry["min"])) for key, entry in grades_raw.items()),
        key=lambda grade: -grade.min_score,
    )
    if grades[-1].min_score != 0:
        raise RubricError("the lowest grade band must start at 0")
    ranking_within: dict[str, str] = {}
    for level, group in dict(raw.get("ranking", {})).items():  # type: ignore[call-overload]
        if level not in LEVELS or group not in LEVELS or LEVELS.index(group) >= LEVELS.index(level):
            raise RubricError(f"ranking.{level} must name a level above it (city, district, township)")
        ranking_within[level] = group
    export = raw.get("export", {})
    issuing_unit = export.get("issuing_unit", "") if isinstance(export, dict) else ""
    if not isinstance(issuing_unit, str):
        raise RubricError("export.issuing_unit must be text")
    return Rubric(
        weights, labels, escalation_points, bonus, grades, grades[-1].label, ranking_within, issuing_unit.strip()
    )


def exact(value: float) -> str:
    """A figure as people write it: every digit, never scientific notation (1089430, not 1.08943e+06)."""
    text = format(Decimal(repr(value)).normalize(), "f")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True, slots=True)
class Deduction:
    component: str
    reason: str
    points: float  # on the component's 0-100 scale
    task_id: int | None


@dataclass(frozen=True, slots=True, order=True)
class PatrolMonthFact:
    """One person's closed patrol month: valid patrol days against the requirement of their post."""

    year: int
    month: int
    person_kind: str  # ranger | chief
    person_id: int
    name: str  # with the post's name: 护林员李四
    valid_days: int
    required_days: int

    @property
    def fulfilment(self) -> float:
        """min(1, valid / required); a month that requires nothing is fulfilled."""
        return 1.0 if self.required_days <= 0 else min(1.0, self.valid_days / self.required_days)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the ledger says of one jurisdiction's subtree for the period."""

    # (task_id, completed, target) of leaf targets due in the period
    targets: Sequence[tuple[int, float, float]] = ()
    # work due in the period up to the assessment date: (task_id, done on time)
    due: Sequence[tuple[int, bool]] = ()
    # (task_id, highest number of levels climbed) of work that escalated in the period
    escalated: Sequence[tuple[int, int]] = ()
    # issues due in the period: (task_id, verified done)
    issues: Sequence[tuple[int, bool]] = ()
    # task ids of every send-back (核查退回) in the period, once per send-back
    sent_back: Sequence[int] = ()
    # (bonus item key, reason)
    bonuses: Sequence[tuple[str, str]] = ()
    veto: str | None = None
    # person-months closed in the period (up to the assessment date)
    patrol_months: Sequence[PatrolMonthFact] = ()


@dataclass(frozen=True, slots=True)
class ComponentScore:
    name: str
    score: float | None  # None: does not apply
    deductions: list[Deduction] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Score:
    total: float | None
    grade: str | None
    vetoed: bool
    components: list[ComponentScore]
    # Each deduction's effect on the total (points), and the bonuses (positive points)
    breakdown: list[Deduction]
    # Each component's points in the total (its score times its share of the weights that apply)
    weighted: dict[str, float | None] = field(default_factory=dict)


def _round(value: float) -> float:
    return round(value + 0.0, 2)


def score_components(facts: Facts, rubric: Rubric) -> list[ComponentScore]:
    components: list[ComponentScore] = []
    targets = sorted(facts.targets)
    if targets:
        share = 100 / len(targets)
        lost = [
            Deduction(
                "target_completion",
                f"目标未完成：{exact(completed)}/{exact(target)}",
                share * (1 - min(1.0, completed / target)),
                task,
            )
            for task, completed, target in targets
            if completed < target
        ]
        components.append(ComponentScore("target_completion", 100 - sum(d.points for d in lost), lost))
    else:
        components.append(ComponentScore("target_completion", None))
    due = sorted(facts.due)
    if due:
        share = 100 / len(due)
        lost = [Deduction("timeliness", "未按期完成", share, task) for task, on_time in due if not on_time]
        components.append(ComponentScore("timeliness", 100 - sum(d.points for d in lost), lost))
    else:
        components.append(ComponentScore("timeliness", None))
    # Escalations apply to any jurisdiction with work at all (a send-back means there was an issue).
    if due or targets or facts.escalated or facts.issues or facts.sent_back:
        lost = [
            Deduction("escalations", f"逾期升级{levels}级", rubric.points_for_climb(levels), task)
            for task, levels in sorted(facts.escalated)
        ]
        total_lost = sum(d.points for d in lost)
        if total_lost > 100:
            # The component cannot lose more than its 100: each climb's share of the loss is what it cost.
            lost = [Deduction(d.component, d.reason, d.points * 100 / total_lost, d.task_id) for d in lost]
        components.append(ComponentScore("escalations", max(0.0, 100 - sum(d.points for d in lost)), lost))
    else:
        components.append(ComponentScore("escalations", None))
    issues = sorted(facts.issues)
    sent_back = sorted(facts.sent_back)
    if issues or sent_back:
        share = 100 / (len(issues) + len(sent_back))
        lost = [Deduction("issue_rectification", "问题未整改销号", share, task) for task, done in issues if not done]
        lost += [Deduction("issue_rectification", "核查不合格退回", share, task) for task in sent_back]
        components.append(ComponentScore("issue_rectification", max(0.0, 100 - sum(d.points for d in lost)), lost))
    else:
        components.append(ComponentScore("issue_rectification", None))
    if "patrol_duty" in rubric.weights:
        components.append(_patrol_duty(facts.patrol_months))
    return components


def _patrol_duty(months: Sequence[PatrolMonthFact]) -> ComponentScore:
    """巡林履职: the mean of min(1, valid / required) over the person-months closed, times 100."""
    if not months:
        return ComponentScore("patrol_duty", None)
    share = 100 / len(months)
    lost = [
        Deduction(
            "patrol_duty",
            f"{m.name} {m.year}年{m.month}月有效巡林 {m.valid_days} 天，要求 {m.required_days} 天",
            share * (1 - m.fulfilment),
            None,
        )
        for m in sorted(months)
        if m.fulfilment < 1
    ]
    return ComponentScore("patrol_duty", max(0.0, 100 - sum(d.points for d in lost)), lost)


def score(facts: Facts, rubric: Rubric) -> Score:
    """The total out of what applies, bonuses capped at 100, the grade, and each deduction's effect."""
    components = score_components(facts, rubric)
    applying = [c for c in components if c.score is not None]
    vetoed = facts.veto is not None
    if not applying:
        return Score(None, rubric.grade(None, vetoed), vetoed, components, [])
    weight = sum(rubric.weights[c.name] for c in applying)
    weighted = sum(rubric.weights[c.name] * (c.score or 0.0) for c in applying) / weight
    points = {
        c.name: None if c.score is None else _round(rubric.weights[c.name] * c.score / weight) for c in components
    }
    breakdown = [
        Deduction(d.component, d.reason, -d.points * rubric.weights[c.name] / weight, d.task_id)
        for c in applying
        for d in c.deductions
    ]
    bonus_points = 0.0
    for key, reason in sorted(facts.bonuses):
        item = rubric.bonus.get(key)
        if item is not None:
            bonus_points += item.points
            breakdown.append(Deduction("bonus", f"{item.label}：{reason}", item.points, None))
    total = _round(min(100.0, max(0.0, weighted + bonus_points)))
    return Score(
        total,
        rubric.grade(total, vetoed),
        vetoed,
        [ComponentScore(c.name, None if c.score is None else _round(c.score), c.deductions) for c in components],
        [Deduction(d.component, d.reason, _round(d.points), d.task_id) for d in breakdown],
        points,
    )


def rank(entries: Sequence[tuple[str, float | None, bool]]) -> dict[str, int | None]:
    """Standard competition ranking (1, 2, 2, 4) of (code, score, vetoed) among peers.

    Vetoed jurisdictions come after the others; jurisdictions not assessed (no score) get no rank.
    Equal scores with the same veto status share a rank; the order is the same every time.
    """
    scored = sorted((e for e in entries if e[1] is not None), key=lambda e: (e[2], -(e[1] or 0.0), e[0]))
    ranks: dict[str, int | None] = {code: None for code, score_, _ in entries if score_ is None}
    previous: tuple[bool, float] | None = None
    current = 0
    for position, (code, value, vetoed) in enumerate(scored, start=1):
        key = (vetoed, value or 0.0)
        if key != previous:
            current = position
            previous = key
        ranks[code] = current
    return ranks


def rank_within(entries: Sequence[tuple[str, str, float | None, bool]]) -> dict[str, tuple[int | None, int]]:
    """Rank (code, group, score, vetoed) among the entries of the same group, as ``rank`` does.

    Offices rank townships among the other townships of their district: the group is the district.
    Each code gets its rank and the number of peers in its group.
    """
    groups: dict[str, list[tuple[str, float | None, bool]]] = {}
    for code, group, value, vetoed in entries:
        groups.setdefault(group, []).append((code, value, vetoed))
    ranked: dict[str, tuple[int | None, int]] = {}
    for members in groups.values():
        for code, position in rank(members).items():
            ranked[code] = (position, len(members))
    return ranked
