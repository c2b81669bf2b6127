"""GET /photos/{sha256}: a photo (or its thumbnail) for an API client who may see a record it belongs to."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from linzhang.container import Container
from linzhang.identity import Principal
from linzhang.media.service import photo_bytes, photo_for

# A photo's bytes never change under its hash: a browser may keep it, but only for its own user.
CACHE_CONTROL = "private, max-age=86400, immutable"


def photo_response(container: Container, principal: Principal, sha256: str, *, thumbnail: bool) -> Response[bytes]:
    with container.reading() as session:
        photo = photo_for(session, principal, sha256)
    data = photo_bytes(container.photos, photo.sha256, thumbnail=thumbnail)
    media_type = "image/jpeg" if thumbnail else photo.media_type
    return Response(
        data,
        media_type=media_type,
        headers={"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"},
    )


class PhotoController(Controller):
    path = "/photos"
    tags = ["photos"]

    @get("/{sha256:str}", sync_to_thread=True)
    def original(
        self, principal: NamedDependency[Principal], container: NamedDependency[Container], sha256: FromPath[str]
    ) -> Response[bytes]:
        """A photo as it was uploaded (EXIF kept: it is the evidence), to whoever may see a record it belongs to."""
        return photo_response(container, principal, sha256, thumbnail=False)

    @get("/{sha256:str}/thumbnail", sync_to_thread=True)
    def thumbnail(
        self, principal: NamedDependency[Principal], container: NamedDependency[Container], sha256: FromPath[str]
    ) -> Response[bytes]:
        """A photo's thumbnail (JPEG, upright, without EXIF), to whoever may see a record it belongs to."""
        return photo_response(container, principal, sha256, thumbnail=True)
