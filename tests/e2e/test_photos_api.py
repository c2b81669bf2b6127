"""Photos are shown by hash to whoever may see a record they belong to, and to nobody else."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import func, select

from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.identity import Role
from linzhang.media import attach, store_photo
from linzhang.media.store import original_key
from linzhang.media.tables import photos_table
from linzhang.media.upload import limits_of
from linzhang.settings import Settings
from tests.e2e.test_tasks_api import NOW
from tests.support import photos
from tests.support.world import Api, api_client, seeded_world

ACCOUNTS = {
    "admin": (Role.ADMIN, None),
    "wanzhou": (Role.CHIEF, "500101"),
    "village": (Role.CHIEF, "500101001001"),
    "taibai": (Role.CHIEF, "500101002"),
    "fuling": (Role.OFFICE, "500102"),
}
VILLAGE_PATH = "/50/500101/500101001/500101001001/"


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    with seeded_world(settings, registry, FixedClock(NOW), ACCOUNTS) as container:
        yield container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


def keep(world: Container, data: bytes, path: str = VILLAGE_PATH) -> str:
    with world.transaction() as session:
        photo = store_photo(session, world.photos, data, limits_of(world.settings.media), world.clock.now())
        attach(session, photo.sha256, owner_kind="test", owner_ref=path, owner_path=path, now=world.clock.now())
    return photo.sha256


def test_the_village_and_the_levels_above_see_the_photo_others_cannot_tell_it_exists(
    api: Api, world: Container
) -> None:
    data = photos.jpeg()
    sha = keep(world, data)
    for who in ("village", "wanzhou", "admin"):
        original = api.get(f"/photos/{sha}", who)
        assert original.status_code == 200, (who, original.text)
        assert original.content == data
        assert original.headers["content-type"] == "image/jpeg"
        assert original.headers["cache-control"].startswith("private")
    thumbnail = api.get(f"/photos/{sha}/thumbnail", "village")
    assert thumbnail.status_code == 200
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) == world.settings.media.thumbnail_pixels
    for who in ("taibai", "fuling"):
        foreign = api.get(f"/photos/{sha}", who)
        missing = api.get(f"/photos/{'0' * 64}", who)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json()["code"] == missing.json()["code"] == "photo_not_found"
        assert foreign.json()["detail"] == "照片不存在"
    assert api.get("/photos/not-a-hash", "admin").json()["code"] == "photo_not_found"
    assert api.client.get(f"/api/v1/photos/{sha}").status_code == 401


def test_the_same_bytes_are_one_photo_kept_under_their_hash(world: Container) -> None:
    data = photos.png()
    first = keep(world, data)
    second = keep(world, data, "/50/500102/")
    assert first == second
    with world.reading() as session:
        assert session.execute(select(func.count()).select_from(photos_table)).scalar_one() == 1
    assert world.photos.get(original_key(first)) == data
    assert (world.settings.media_path / "originals" / first[:2] / first).is_file()
