"""Photos on the pages: a photo or its thumbnail, for a signed-in person who may see a record it belongs to."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from linzhang.container import Container
from linzhang.media.api import photo_response
from linzhang.web.session import Viewer


class PhotoPages(Controller):
    path = "/photos"

    @get("/{sha256:str}", sync_to_thread=True)
    def original(self, viewer: NamedDependency[Viewer], state: State, sha256: FromPath[str]) -> Response[bytes]:
        container: Container = state.container
        return photo_response(container, viewer.principal, sha256, thumbnail=False)

    @get("/{sha256:str}/thumbnail", sync_to_thread=True)
    def thumbnail(self, viewer: NamedDependency[Viewer], state: State, sha256: FromPath[str]) -> Response[bytes]:
        container: Container = state.container
        return photo_response(container, viewer.principal, sha256, thumbnail=True)
