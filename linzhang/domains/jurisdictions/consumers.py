"""Subscribers of the jurisdictions domain."""

from __future__ import annotations

from linzhang.bus import SubscriberRegistry
from linzhang.contracts import ChiefAppointed, ChiefTermEnded
from linzhang.domains.jurisdictions import service


def register(registry: SubscriberRegistry) -> None:
    registry.subscribe("jurisdictions.coverage", ChiefAppointed, service.record_chief_appointed)
    registry.subscribe("jurisdictions.coverage", ChiefTermEnded, service.record_chief_term_ended)
