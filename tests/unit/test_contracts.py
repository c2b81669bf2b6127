"""Integration events: versioned, registered once, round-trip through their stored form."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from linzhang.contracts import Event, decode_event, encode_event, event_class


class TreesPlantedSample(Event):
    jurisdiction_code: str
    trees: int


class TreesPlantedSampleV2(Event):
    event_type = "TreesPlantedSample"
    version = 2
    jurisdiction_code: str
    trees: int
    species: str


def test_round_trip_keeps_every_field() -> None:
    event = TreesPlantedSample(
        jurisdiction_code="500101", trees=40, event_id=uuid.uuid4(), occurred_at=datetime(2021, 3, 12, tzinfo=UTC)
    )
    assert decode_event("TreesPlantedSample", 1, encode_event(event)) == event


def test_versions_decode_to_their_own_class() -> None:
    assert event_class("TreesPlantedSample", 1) is TreesPlantedSample
    assert event_class("TreesPlantedSample", 2) is TreesPlantedSampleV2
    v2 = TreesPlantedSampleV2(jurisdiction_code="50", trees=1, species="马尾松")
    assert decode_event("TreesPlantedSample", 2, encode_event(v2)).species == "马尾松"  # type: ignore[attr-defined]


def test_ids_and_times_are_filled_in() -> None:
    first, second = (
        TreesPlantedSample(jurisdiction_code="50", trees=1),
        TreesPlantedSample(jurisdiction_code="50", trees=1),
    )
    assert first.event_id != second.event_id
    assert first.occurred_at.tzinfo is not None


def test_the_same_type_and_version_cannot_be_defined_twice() -> None:
    with pytest.raises(TypeError, match="already defined"):

        class Impostor(Event):
            event_type = "TreesPlantedSample"
            jurisdiction_code: str


def test_unknown_event_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="NoSuchEvent v1"):
        event_class("NoSuchEvent", 1)


def test_events_are_immutable() -> None:
    event = TreesPlantedSample(jurisdiction_code="50", trees=1)
    with pytest.raises(AttributeError):
        event.trees = 2  # type: ignore[misc]


def test_task_events_stored_before_the_acceptance_fields_still_decode() -> None:
    """Fields added to an event keep defaults, so events stored by the earlier code decode as they were."""
    task = (
        '{"task_id": 1, "revision": 2, "kind": "target", "title": "t", "category": null, "status": "done",'
        ' "jurisdiction_code": "50", "path": "/50/", "holder_code": "50", "holder_path": "/50/",'
        ' "holder_level": "city", "due_date": "2021-12-31", "escalation_due_date": null, "parent_id": null}'
    )
    common = f'"event_id": "{uuid.uuid4()}", "occurred_at": "2021-03-01T00:00:00Z", "task": {task}'
    progress = decode_event(
        "TaskProgressReported",
        1,
        f'{{{common}, "completed_quantity": "5", "target_quantity": "5", "reported_by": "u"}}',
    )
    assert (progress.previous_quantity, progress.reason) == (None, None)  # type: ignore[attr-defined]
    completed = decode_event(
        "TaskCompleted", 1, f'{{{common}, "completed_on": "2021-03-01", "late": false, "completed_by": "u"}}'
    )
    assert completed.submitted_on is None  # type: ignore[attr-defined]
    summons = decode_event(
        "TaskSummonsRecorded",
        1,
        f'{{{common}, "recorded_by": "u", "summoning_code": "50", "held_on": "2021-03-01", "note": "纪要"}}',
    )
    assert (summons.summons_id, summons.attendees) == (None, [])  # type: ignore[attr-defined]
