"""A training instance's test clock: read it, move it forward (docs/adr/0013).

On an instance that runs on the wall clock (``[clock] mode = "system"``) there is no test clock:
both calls answer 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from linzhang.clock import TestClock, clock_mode
from linzhang.container import Container
from linzhang.errors import NotFound
from linzhang.identity import Action, Principal, authorize


class ClockOut(msgspec.Struct):
    now: dt.datetime
    mode: Literal["system", "test"]


class MoveClock(msgspec.Struct, forbid_unknown_fields=True):
    now: dt.datetime


def _test_clock(container: Container) -> TestClock:
    if not isinstance(container.clock, TestClock):
        raise NotFound("本实例使用系统时钟，没有测试时钟", code="test_clock_not_enabled")
    return container.clock


class ClockController(Controller):
    path = "/clock"
    tags = ["clock"]

    @get("/", sync_to_thread=True)
    def read(self, principal: NamedDependency[Principal], container: NamedDependency[Container]) -> ClockOut:
        """The test clock's time (any signed-in user); 404 on an instance that runs on the wall clock."""
        clock = _test_clock(container)
        return ClockOut(clock.now(), clock_mode(clock))

    @post("/", status_code=200, sync_to_thread=True)
    def move(
        self, data: JSONBody[MoveClock], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> ClockOut:
        """Move the test clock forward (administrators); an earlier time is refused with 422."""
        clock = _test_clock(container)
        authorize(principal, Action.MOVE_CLOCK)
        return ClockOut(clock.move_to(data.now, principal.shown_as), clock_mode(clock))
