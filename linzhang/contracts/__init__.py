"""Integration events: what one domain tells the others. The only thing domains import from each other.

Each event is a frozen msgspec Struct named in the past tense, registered with its version. A change
that breaks readers gets a new version (``TaskEscalatedV2`` with ``version = 2``); both stay decodable.
"""

import importlib
import pkgutil

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

# Every module of this package registers its events when imported: a domain's new contracts module
# (linzhang/contracts/<domain>.py) is found here, so decoding knows its events without an edit here;
# its publishers and subscribers import the events from that module.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
