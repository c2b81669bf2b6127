"""Pure rules of the delivery ledger: statuses, what a failure does, how long to wait before a retry.

A delivery is one (event, subscriber). It moves

    pending --relay--> sent --consumer commits--> done
    sent --subscriber raised--> pending (after a back-off) ... --N-th failure--> dead
    sent --not done within the redelivery timeout--> pending (sent again)
    dead --redrive--> pending (failures forgotten)

``done`` is final. The SQL in ``relay`` and ``consumer`` applies exactly these rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DONE = "done"
    DEAD = "dead"


# A message for a delivery in these states is worth handling; any other is a repeat to skip.
DELIVERABLE = (DeliveryStatus.PENDING, DeliveryStatus.SENT)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_seconds < 0 or self.backoff_max_seconds < 0:
            raise ValueError("back-off must not be negative")

    def after_failure(self, failures_so_far: int) -> tuple[DeliveryStatus, float]:
        """Status and seconds to wait after one more failure, given the failures before it."""
        failures = failures_so_far + 1
        if failures >= self.max_attempts:
            return DeliveryStatus.DEAD, 0.0
        return DeliveryStatus.PENDING, self.backoff_delay(failures)

    def backoff_delay(self, failures: int) -> float:
        """Exponential back-off: base * 2^(failures-1), capped at the maximum."""
        if failures < 1:
            return 0.0
        # Cap the exponent before computing so a large count cannot overflow.
        exponent = min(failures - 1, 64)
        return float(min(self.backoff_seconds * (2**exponent), self.backoff_max_seconds))


def message_id(event_id: str, subscriber: str) -> str:
    """The broker message id of a delivery: readable, and the same for every resend."""
    return f"{event_id}:{subscriber}"
