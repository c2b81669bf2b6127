"""Escalation's pure rules: the order of levels, the policy file, aging buckets."""

from __future__ import annotations

from pathlib import Path

import pytest

from linzhang.domains.tasks.escalation_rules import (
    EscalationConfigError,
    EscalationPolicy,
    level_above,
    levels_between,
    load_policy,
)
from linzhang.settings import DEFAULTS_DIR

CONFIG = DEFAULTS_DIR


def test_each_level_climbs_to_the_one_above_and_the_city_is_the_top() -> None:
    assert [level_above(level) for level in ("village", "township", "district", "city")] == [
        "township",
        "district",
        "city",
        None,
    ]
    assert levels_between("village", "district") == 2
    assert levels_between("township", "township") == 0


def test_the_shipped_policy_loads() -> None:
    policy = load_policy(CONFIG / "escalation.toml")
    assert set(policy.grace_workdays) == {"township", "district", "city"}
    assert all(days >= 1 for days in policy.grace_workdays.values())


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[grace_workdays]\ntownship = 5\ndistrict = 5\n", "grace_workdays.city"),
        ("[grace_workdays]\ntownship = 0\ndistrict = 5\ncity = 5\n", "township"),
        ("[grace_workdays]\ntownship = 5\ndistrict = 5\ncity = 5\nvillage = 2\n", "unknown levels"),
        ("[grace_workdays]\ntownship = 5\ndistrict = 5\ncity = 5\n[board]\naging_days = [7, 3]\n", "increasing"),
        ("[grace_workdays]\ntownship = 5\ndistrict = 5\ncity = 5\n[sweep]\nx = 1\n", "unknown sections"),
        ("[grace_workdays\n", "not valid TOML"),
    ],
)
def test_bad_policies_are_refused(tmp_path: Path, body: str, words: str) -> None:
    path = tmp_path / "escalation.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(EscalationConfigError, match=words):
        load_policy(path)


def test_aging_buckets() -> None:
    policy = EscalationPolicy({"township": 1, "district": 1, "city": 1}, aging_days=(3, 7, 15, 30))
    assert policy.buckets() == ["1-3", "4-7", "8-15", "16-30", "31+"]
    assert [policy.aging_bucket(days) for days in (1, 3, 4, 30, 31, 400)] == [
        "1-3",
        "1-3",
        "4-7",
        "16-30",
        "31+",
        "31+",
    ]
