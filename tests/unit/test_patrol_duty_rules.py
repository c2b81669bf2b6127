"""巡林履职 in the rubric: the mean fulfilment of closed person-months, a line per month short."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linzhang.domains.assessments.model import (
    Deduction,
    Facts,
    PatrolMonthFact,
    RubricError,
    parse_rubric,
    score,
    score_components,
)
from linzhang.settings import DEFAULTS_DIR

RAW = tomllib.loads((DEFAULTS_DIR / "assessment.toml").read_text(encoding="utf-8"))
RUBRIC = parse_rubric(RAW)
WITHOUT = parse_rubric({**RAW, "components": {k: v for k, v in RAW["components"].items() if k != "patrol_duty"}})


def month(person: int, valid: int, required: int, m: int = 10) -> PatrolMonthFact:
    return PatrolMonthFact(2026, m, "ranger", person, f"护林员{person}号", valid, required)


def patrol_component(facts: Facts):  # type: ignore[no-untyped-def]
    return next(c for c in score_components(facts, RUBRIC) if c.name == "patrol_duty")


def test_the_default_rubric_scores_patrol_duty_with_its_label() -> None:
    assert RUBRIC.components[-1] == "patrol_duty"
    assert RUBRIC.labels["patrol_duty"] == "巡林履职"
    assert RUBRIC.weights["patrol_duty"] == 15


def test_the_score_is_the_mean_fulfilment_with_a_line_per_short_month() -> None:
    # 20 of 20 -> 1, 10 of 20 -> 0.5, 25 of 20 -> 1 (capped), 0 of 10 -> 0: mean 0.625
    component = patrol_component(
        Facts(patrol_months=[month(1, 20, 20), month(2, 10, 20), month(3, 25, 20), month(4, 0, 10, m=11)])
    )
    assert component.score == pytest.approx(62.5)
    assert component.deductions == [
        Deduction("patrol_duty", "护林员2号 2026年10月有效巡林 10 天，要求 20 天", pytest.approx(12.5), None),
        Deduction("patrol_duty", "护林员4号 2026年11月有效巡林 0 天，要求 10 天", pytest.approx(25.0), None),
    ]


def test_a_month_that_requires_nothing_is_fulfilled() -> None:
    assert patrol_component(Facts(patrol_months=[month(1, 0, 0)])).score == 100


def test_no_closed_months_means_the_component_does_not_apply() -> None:
    assert patrol_component(Facts(due=[(1, True)])).score is None
    without = score(Facts(due=[(1, True), (2, False)]), RUBRIC)
    assert without.weighted["patrol_duty"] is None
    # timeliness 50 x 30/50, escalations 100 x 20/50: exactly as the four-component rubric scores it
    assert without.total == score(Facts(due=[(1, True), (2, False)]), WITHOUT).total == 70


def test_patrol_duty_weighs_in_the_total_by_its_share() -> None:
    result = score(Facts(due=[(1, True)], patrol_months=[month(1, 10, 20)]), RUBRIC)
    # timeliness 100 x 30/65, escalations 100 x 20/65, patrol duty 50 x 15/65
    assert result.weighted["patrol_duty"] == pytest.approx(11.54)
    assert result.total == pytest.approx(88.46)
    (line,) = [d for d in result.breakdown if d.component == "patrol_duty"]
    assert line.points == pytest.approx(-11.54)


def test_a_rubric_without_patrol_duty_never_scores_patrols() -> None:
    assert "patrol_duty" not in WITHOUT.components
    result = score(Facts(patrol_months=[month(1, 0, 20)]), WITHOUT)
    assert result.total is None
    assert [c.name for c in result.components] == list(WITHOUT.components)


@pytest.mark.parametrize(
    "components",
    [
        {**RAW["components"], "patrols": {"weight": 5}},
        {**RAW["components"], "patrol_duty": {"label": "巡林履职", "weight": 0}},
    ],
)
def test_bad_patrol_duty_entries_are_refused(components: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(RubricError):
        parse_rubric({**RAW, "components": components})


months = st.lists(
    st.builds(month, st.integers(1, 50), st.integers(0, 31), st.integers(0, 31), st.integers(1, 12)), max_size=10
)


@given(months.filter(bool), st.data())
def test_fewer_valid_days_never_raise_the_score(given_months: list[PatrolMonthFact], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(given_months) - 1))
    worse = list(given_months)
    cut = data.draw(st.integers(1, 31))
    worse[index] = dataclasses.replace(worse[index], valid_days=max(0, worse[index].valid_days - cut))
    before = patrol_component(Facts(patrol_months=given_months))
    after = patrol_component(Facts(patrol_months=worse))
    assert before.score is not None
    assert after.score is not None
    assert 0 <= after.score <= before.score + 1e-9 <= 100 + 1e-9
    # Every point lost is a deduction line.
    assert after.score == pytest.approx(100 - sum(d.points for d in after.deductions))
