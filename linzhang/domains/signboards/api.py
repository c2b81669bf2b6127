"""The signboards' API for integrations: a board as it is shown, and its office's edits."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from linzhang.container import Container
from linzhang.domains.signboards import service
from linzhang.domains.signboards.service import BoardChanges, BoardView, SignboardsContext
from linzhang.identity import Principal


class BoardEdit(msgspec.Struct, forbid_unknown_fields=True):
    """What to change on a board: an absent field stays, an empty string returns to the default."""

    supervision_phone: str | None = None
    duties: str | None = None
    area: str | None = None


class SignboardController(Controller):
    path = "/signboards"
    tags = ["signboards"]

    @get("/{code:str}", sync_to_thread=True)
    def show(
        self, principal: NamedDependency[Principal], container: NamedDependency[Container], code: FromPath[str]
    ) -> BoardView:
        """A jurisdiction's public signboard (chiefs, duties, area, supervision phone) as the public page shows it.

        Within the caller's jurisdiction; the page itself (``/signboards/{code}``) is open to everyone.
        """
        with container.reading() as session:
            return service.board_for(session, principal, container.context(SignboardsContext), code)

    @put("/{code:str}", sync_to_thread=True)
    def edit(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        code: FromPath[str],
        data: JSONBody[BoardEdit],
    ) -> BoardView:
        """Set a board's supervision phone, duties and area (offices within, chiefs above the jurisdiction)."""
        changes = BoardChanges(data.supervision_phone, data.duties, data.area)
        with container.transaction() as session:
            return service.update_board(session, principal, container.context(SignboardsContext), code, changes)
