"""Integration events: what one domain tells the others. The only thing domains import from each other.

Each event is a frozen msgspec Struct named in the past tense, registered with its version. A change
that breaks readers gets a new version (``TaskEscalatedV2`` with ``version = 2``); both stay decodable.
"""

from linzhang.contracts.base import Event, decode_event, encode_event, event_class, registered_events
from linzhang.contracts.chiefs import ChiefAppointed, ChiefReplaced, ChiefTermEnded
from linzhang.contracts.jurisdictions import JurisdictionCreated, JurisdictionRenamed
from linzhang.contracts.tasks import (
    TaskCommented,
    TaskCompleted,
    TaskCreated,
    TaskEscalated,
    TaskProgressReported,
    TaskRolledUp,
    TaskSentBack,
    TaskSnapshot,
    TaskSplit,
    TaskSubmitted,
    TaskSummonsPlanned,
    TaskSummonsRecorded,
    TaskSupervised,
)

__all__ = [
    "ChiefAppointed",
    "ChiefReplaced",
    "ChiefTermEnded",
    "Event",
    "JurisdictionCreated",
    "JurisdictionRenamed",
    "TaskCommented",
    "TaskCompleted",
    "TaskCreated",
    "TaskEscalated",
    "TaskProgressReported",
    "TaskRolledUp",
    "TaskSentBack",
    "TaskSnapshot",
    "TaskSplit",
    "TaskSubmitted",
    "TaskSummonsPlanned",
    "TaskSummonsRecorded",
    "TaskSupervised",
    "decode_event",
    "encode_event",
    "event_class",
    "registered_events",
]
