"""The event base class and the registry of (type, version) to class used to decode stored events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every integration event.

    Subclasses set ``event_type`` (the stable name, past tense) and ``version``; they are registered
    when defined. ``event_id`` and ``occurred_at`` are filled in when not given.
    """

    event_type: ClassVar[str] = ""
    version: ClassVar[int] = 1

    event_id: uuid.UUID = msgspec.field(default_factory=uuid.uuid4)
    occurred_at: datetime = msgspec.field(default_factory=lambda: datetime.now(UTC))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.event_type:
            cls.event_type = cls.__name__
        key = (cls.event_type, cls.version)
        existing = _REGISTRY.get(key)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise TypeError(f"event {key} is already defined by {existing.__module__}.{existing.__qualname__}")
        _REGISTRY[key] = cls


_REGISTRY: dict[tuple[str, int], type[Event]] = {}
_ENCODER = msgspec.json.Encoder()


def registered_events() -> dict[tuple[str, int], type[Event]]:
    """Every known event class by (type, version)."""
    return dict(_REGISTRY)


def event_class(event_type: str, version: int) -> type[Event]:
    try:
        return _REGISTRY[(event_type, version)]
    except KeyError:
        raise LookupError(f"unknown event {event_type} v{version}") from None


def encode_event(event: Event) -> bytes:
    return _ENCODER.encode(event)


def decode_event(event_type: str, version: int, payload: bytes | str) -> Event:
    return msgspec.json.decode(payload, type=event_class(event_type, version))
