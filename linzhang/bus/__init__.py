"""The message bus: outbox, delivery ledger, relay, idempotent consumer, redelivery, dead letters.

Domains use :func:`publish` inside their transaction and register subscribers with the
:class:`SubscriberRegistry`; everything else is run by the composition root and the scheduler.
"""

from linzhang.bus.consumer import Outcome, consume_delivery
from linzhang.bus.dead_letters import DeadDelivery, list_dead, redrive
from linzhang.bus.ledger import DeliveryStatus, RetryPolicy
from linzhang.bus.outbox import REGISTRY_KEY, publish
from linzhang.bus.registry import Handler, SubscriberRegistry
from linzhang.bus.runtime import Bus, EmbeddedBus

__all__ = [
    "REGISTRY_KEY",
    "Bus",
    "DeadDelivery",
    "DeliveryStatus",
    "EmbeddedBus",
    "Handler",
    "Outcome",
    "RetryPolicy",
    "SubscriberRegistry",
    "consume_delivery",
    "list_dead",
    "publish",
    "redrive",
]
