"""Pure rules of accounts: the login back-off and the password policy."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linzhang.identity.passwords import check_password_rules, common_passwords
from linzhang.identity.throttle import backoff_seconds
from linzhang.settings import LoginSettings

SETTINGS = LoginSettings(backoff_seconds=1.0, backoff_max_seconds=900.0)


def test_no_wait_within_the_free_failures_then_doubling_to_the_cap() -> None:
    waits = [backoff_seconds(failures, 5, SETTINGS) for failures in range(0, 20)]
    assert waits[:6] == [0.0] * 6
    assert waits[6:12] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    assert waits[-1] == 900.0


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=50))
def test_the_wait_never_shrinks_with_another_failure_and_never_passes_the_cap(failures: int, free: int) -> None:
    now = backoff_seconds(failures, free, SETTINGS)
    after = backoff_seconds(failures + 1, free, SETTINGS)
    assert 0.0 <= now <= after <= SETTINGS.backoff_max_seconds


def test_the_shipped_list_is_a_few_thousand_common_passwords() -> None:
    listed = common_passwords()
    assert 3000 <= len(listed) <= 20000
    assert {"123456", "password", "qwertyuiop", "1q2w3e4r5t"} <= listed
    # The project's own demo and test passwords are not among them.
    assert not {"linzhang-demo", "correct horse battery", "long enough pw"} & listed


@given(st.text(min_size=10, max_size=40))
def test_a_refused_password_always_names_its_reason(password: str) -> None:
    refusal = check_password_rules(password, username="someone", min_length=10)
    if refusal is not None:
        code, reason = refusal
        assert code.startswith("password_")
        assert reason


def test_the_policy() -> None:
    def code(password: str, username: str = "wanzhou") -> str | None:
        refusal = check_password_rules(password, username=username, min_length=10)
        return refusal[0] if refusal else None

    assert code("short") == "password_too_short"
    assert code("x" * 257) == "password_too_long"
    assert code("Office-WZ-2021", username="office-wz-2021") == "password_is_username"
    assert code("QWERTYUIOP") == "password_too_common"
    assert code("linzhang-demo") is None
