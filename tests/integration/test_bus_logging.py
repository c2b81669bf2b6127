"""A consumer's log lines carry the event id, the subscriber and the request id of the publishing request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from sqlalchemy.orm import Session

from linzhang.bootstrap import Container
from linzhang.bus import SubscriberRegistry, publish
from linzhang.contracts import Event
from tests.support.bus import SampleRecorded, drain


@pytest.fixture
def registry() -> SubscriberRegistry:
    def handle(_session: Session, event: Event) -> None:
        structlog.get_logger("test.subscriber").info("sample.handled", key=getattr(event, "key", None))

    registry = SubscriberRegistry()
    registry.subscribe("test.logging", SampleRecorded, handle)
    return registry


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def test_consumer_log_lines_carry_event_and_request_ids(container: Container, log_stream: io.StringIO) -> None:
    event = SampleRecorded(key="logged")
    with (
        structlog.contextvars.bound_contextvars(request_id="req-7"),
        container.session_factory() as session,
        session.begin(),
    ):
        publish(session, event)

    drain(container)

    lines = [json.loads(line) for line in log_stream.getvalue().splitlines() if line.startswith("{")]
    (handled,) = [line for line in lines if line.get("event") == "sample.handled"]
    assert handled["event_id"] == str(event.event_id)
    assert handled["event_type"] == "SampleRecorded"
    assert handled["subscriber"] == "test.logging"
    assert handled["request_id"] == "req-7"
    assert handled["key"] == "logged"
