"""The rubric's arithmetic: bounds, deductions never help, vetoes always fail, ranking is a total order."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linzhang.domains.assessments.model import (
    Deduction,
    Facts,
    PeriodError,
    RubricError,
    exact,
    parse_period,
    parse_rubric,
    rank,
    rank_within,
    score,
)
from linzhang.settings import DEFAULTS_DIR

CONFIG = DEFAULTS_DIR
RAW = tomllib.loads((CONFIG / "assessment.toml").read_text(encoding="utf-8"))
RUBRIC = parse_rubric(RAW)

task_ids = st.integers(1, 10_000)
facts = st.builds(
    Facts,
    targets=st.lists(
        st.tuples(task_ids, st.floats(0, 2000, allow_nan=False), st.floats(1, 1000, allow_nan=False)), max_size=8
    ),
    due=st.lists(st.tuples(task_ids, st.booleans()), max_size=8),
    escalated=st.lists(st.tuples(task_ids, st.integers(1, 3)), max_size=8),
    issues=st.lists(st.tuples(task_ids, st.booleans()), max_size=8),
    sent_back=st.lists(task_ids, max_size=4),
    bonuses=st.lists(st.tuples(st.sampled_from(sorted(RUBRIC.bonus)), st.just("事迹")), max_size=2),
    veto=st.none(),
)


@given(facts)
def test_scores_stay_within_bounds(f: Facts) -> None:
    result = score(f, RUBRIC)
    if result.total is not None:
        assert 0 <= result.total <= 100
    for component in result.components:
        if component.score is not None:
            assert 0 <= component.score <= 100


@settings(max_examples=400)
@given(facts, st.sampled_from(["late", "escalated", "sent_back", "unreached"]), task_ids)
def test_a_deduction_never_raises_a_score(f: Facts, kind: str, task: int) -> None:
    before = score(f, RUBRIC).total
    if kind == "late":
        worse = Facts(f.targets, [*f.due, (task, False)], f.escalated, f.issues, f.sent_back, f.bonuses)
    elif kind == "escalated":
        worse = Facts(f.targets, f.due, [*f.escalated, (task, 2)], f.issues, f.sent_back, f.bonuses)
    elif kind == "sent_back":
        worse = Facts(f.targets, f.due, f.escalated, f.issues, [*f.sent_back, task], f.bonuses)
    else:
        worse = Facts([*f.targets, (task, 0.0, 10.0)], f.due, f.escalated, f.issues, f.sent_back, f.bonuses)
    after = score(worse, RUBRIC).total
    if before is not None and after is not None:
        assert after <= before + 1e-9


@given(facts, st.text(min_size=1, max_size=20))
def test_a_veto_always_fails(f: Facts, reason: str) -> None:
    vetoed = Facts(f.targets, f.due, f.escalated, f.issues, f.sent_back, f.bonuses, veto=reason)
    assert score(vetoed, RUBRIC).grade == "不合格"


def test_perfect_work_is_excellent_and_no_work_is_not_assessed() -> None:
    perfect = score(Facts(targets=[(1, 10, 10)], due=[(1, True)]), RUBRIC)
    assert (perfect.total, perfect.grade) == (100.0, "优秀")
    nothing = score(Facts(), RUBRIC)
    assert (nothing.total, nothing.grade) == (None, None)


def test_score_is_out_of_what_applies() -> None:
    # Only timeliness and escalations apply (no targets, no issues): half the work on time, no climbs.
    result = score(Facts(due=[(1, True), (2, False)]), RUBRIC)
    weights = RUBRIC.weights
    expected = (weights["timeliness"] * 50 + weights["escalations"] * 100) / (
        weights["timeliness"] + weights["escalations"]
    )
    assert result.total == round(expected, 2)
    assert {c.name: c.score for c in result.components}["target_completion"] is None


def test_every_point_lost_is_a_line_with_its_task() -> None:
    result = score(Facts(due=[(7, False), (8, True)], escalated=[(7, 2)]), RUBRIC)
    lost = [d for d in result.breakdown if d.points < 0]
    assert {d.task_id for d in lost} == {7}
    assert round(100 + sum(d.points for d in result.breakdown), 2) == result.total


def test_changing_the_rubric_changes_scores_from_the_same_facts() -> None:
    facts_ = Facts(due=[(1, True), (2, False)], escalated=[(1, 3)])
    heavier = parse_rubric({**RAW, "escalation_points": {"1": 5, "2": 20, "3": 60}})
    assert score(facts_, heavier).total < score(facts_, RUBRIC).total  # type: ignore[operator]


@given(
    st.lists(
        st.tuples(
            st.integers(0, 50),
            st.one_of(st.none(), st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 1))),
            st.booleans(),
        ),
        max_size=30,
        unique_by=lambda e: e[0],
    )
)
def test_ranking_is_a_total_order_with_ties_shared(raw: list[tuple[int, float | None, bool]]) -> None:
    entries = [(f"J{code:03d}", value, vetoed) for code, value, vetoed in raw]
    ranks = rank(entries)
    assert rank(list(reversed(entries))) == ranks  # the same whatever the order given
    scored = [e for e in entries if e[1] is not None]
    for a in scored:
        for b in scored:
            ka, kb = (a[2], -(a[1] or 0)), (b[2], -(b[1] or 0))
            if ka == kb:
                assert ranks[a[0]] == ranks[b[0]]
            elif ka < kb:
                assert ranks[a[0]] < ranks[b[0]]  # type: ignore[operator]
    assert all(ranks[e[0]] is None for e in entries if e[1] is None)
    if scored:
        assert min(ranks[e[0]] for e in scored) == 1  # type: ignore[type-var]


def test_a_vetoed_jurisdiction_ranks_below_the_others() -> None:
    assert rank([("a", 99.0, True), ("b", 60.0, False), ("c", 60.0, False)]) == {"b": 1, "c": 1, "a": 3}


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("2021", "2021-01-01", "2021-12-31"),
        ("2021Q3", "2021-07-01", "2021-09-30"),
        ("2021Q4", "2021-10-01", "2021-12-31"),
    ],
)
def test_periods(key: str, start: str, end: str) -> None:
    period = parse_period(key)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


@pytest.mark.parametrize(
    "key",
    # Full-width digits, spaces and line ends around a period are not periods (a trailing newline once
    # made "2021\n" a period of its own).
    ["21", "2021Q5", "2021-Q1", "1999", "", "２０２６", "２０２１Q3", " 2021", "2021 ", "2021\n", "2021Q3\n", "2021q3"],
)
def test_bad_periods(key: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(key)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"components": {"timeliness": {"weight": 1}}}, "exactly"),
        ({"escalation_points": {"1": 5, "2": 2}}, "must not fall"),
        ({"grades": {"good": {"label": "良好", "min": 80}}}, "start at 0"),
    ],
)
def test_bad_rubrics(change: dict, words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(RubricError, match=words):
        parse_rubric({**RAW, **change})


@given(facts)
def test_the_breakdown_explains_the_total(f: Facts) -> None:
    result = score(f, RUBRIC)
    if result.total is None:
        return
    explained = min(100.0, max(0.0, 100 + sum(d.points for d in result.breakdown)))
    # Each line is rounded to 0.01 on its own.
    assert abs(explained - result.total) <= 0.01 * (len(result.breakdown) + 1)


@given(st.floats(0, 1e12, allow_nan=False, allow_infinity=False))
def test_figures_are_written_exactly_never_in_scientific_notation(value: float) -> None:
    text = exact(value)
    assert "e" not in text.lower()
    assert float(text) == value


def test_a_shortfall_names_its_figures_exactly() -> None:
    result = score(Facts(targets=[(7, 1_089_430.0, 2_000_000.0)]), RUBRIC)
    (deduction,) = result.components[0].deductions
    assert deduction == Deduction("target_completion", "目标未完成：1089430/2000000", deduction.points, 7)


def test_weighted_points_add_up_to_the_total_without_bonuses() -> None:
    result = score(Facts(targets=[(1, 10.0, 40.0)], due=[(1, False), (2, True)]), RUBRIC)
    assert result.weighted["issue_rectification"] is None
    assert sum(v for v in result.weighted.values() if v is not None) == pytest.approx(result.total, abs=0.02)
    # target 25 x 40/90, timeliness 50 x 30/90, escalations 100 x 20/90
    assert result.weighted["target_completion"] == pytest.approx(11.11)
    assert result.weighted["escalations"] == pytest.approx(22.22)


def test_townships_are_ranked_within_their_district() -> None:
    ranked = rank_within(
        [
            ("500101001", "500101", 90.0, False),
            ("500101002", "500101", 95.0, False),
            ("500102001", "500102", 60.0, False),
            ("500102002", "500102", None, False),
        ]
    )
    assert ranked == {"500101002": (1, 2), "500101001": (2, 2), "500102001": (1, 2), "500102002": (None, 2)}


def test_the_ranking_groups_come_from_the_rubric() -> None:
    assert (RUBRIC.group_level("township"), RUBRIC.group_level("district")) == ("district", "city")
    with pytest.raises(RubricError, match="above it"):
        parse_rubric({**RAW, "ranking": {"district": "township"}})
