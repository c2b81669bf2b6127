"""Dependencies every controller may declare: the container and the calling principal."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from linzhang.container import Container
from linzhang.identity import Principal


def provide_container(state: State) -> Container:
    container: Container = state.container
    return container


def provide_principal(request: Request[Principal, Any, Any]) -> Principal:
    return request.user


dependencies = {
    "container": Provide(provide_container, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
}
