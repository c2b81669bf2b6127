"""The delivery ledger's pure rules: when a delivery dies and how long a retry waits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linzhang.bus.ledger import DeliveryStatus, RetryPolicy, message_id

policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 20),
    backoff_seconds=st.floats(0, 100, allow_nan=False),
    backoff_max_seconds=st.floats(0, 10_000, allow_nan=False),
)


@given(policies)
def test_a_delivery_dies_exactly_at_the_last_attempt(policy: RetryPolicy) -> None:
    statuses = [policy.after_failure(failures)[0] for failures in range(policy.max_attempts)]
    assert statuses[-1] is DeliveryStatus.DEAD
    assert all(status is DeliveryStatus.PENDING for status in statuses[:-1])


@given(policies, st.integers(1, 200))
def test_backoff_never_shrinks_and_stays_under_the_cap(policy: RetryPolicy, failures: int) -> None:
    delay = policy.backoff_delay(failures)
    assert 0 <= delay <= policy.backoff_max_seconds
    assert policy.backoff_delay(failures + 1) >= delay


def test_backoff_doubles() -> None:
    policy = RetryPolicy(max_attempts=10, backoff_seconds=1.0, backoff_max_seconds=100.0)
    assert [policy.backoff_delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 64, 100]


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"backoff_seconds": -1.0}])
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    values = {"max_attempts": 3, "backoff_seconds": 1.0, "backoff_max_seconds": 10.0, **kwargs}
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**values)  # type: ignore[arg-type]


def test_message_id_names_event_and_subscriber() -> None:
    assert message_id("e-1", "chiefs.inbox") == "e-1:chiefs.inbox"
