"""A small division tree, accounts on it, and an HTTP client that signs in as any of them.

50 重庆市 (city)
├── 500101 万州区 (district)            ← "own" for a district principal
│   ├── 500101001 高笋塘街道 (township)  ← "child"
│   │   └── 500101001001 示范村 (village)
│   └── 500101002 太白街道 (township)
├── 500102 涪陵区 (district)            ← "sibling"
│   └── 500102001 敦仁街道 (township)    ← "unrelated"
└── LJXQ 两江新区 (district, a functional zone with a code of its own)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from linzhang.app import create_app
from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.clock import Clock
from linzhang.container import Container
from linzhang.domains.jurisdictions.model import parse_division
from linzhang.domains.jurisdictions.service import import_divisions
from linzhang.identity import Action, Role
from linzhang.identity.service import create_user
from linzhang.settings import Settings

TREE = [
    ("50", "重庆市", "city", None),
    ("500101", "万州区", "district", "50"),
    ("500101001", "高笋塘街道", "township", "500101"),
    ("500101001001", "示范村", "village", "500101001"),
    ("500101002", "太白街道", "township", "500101"),
    ("500102", "涪陵区", "district", "50"),
    ("500102001", "敦仁街道", "township", "500102"),
    ("LJXQ", "两江新区", "district", "50"),
]
PASSWORD = "correct horse battery"


def seed_tree(container: Container) -> None:
    rows = [(line, parse_division(*row, line=line)) for line, row in enumerate(TREE, start=2)]
    with container.transaction() as session:
        import_divisions(session, container.clock, rows)


def add_user(
    container: Container,
    username: str,
    role: Role,
    code: str | None,
    grants: tuple[Action, ...] = (),
) -> int:
    with container.transaction() as session:
        reference = None
        if code is not None:
            reference = container.lookup_jurisdiction(session, code)
            assert reference is not None
        user = create_user(
            session,
            container.passwords,
            container.clock,
            username=username,
            password=PASSWORD,
            role=role,
            jurisdiction_code=code,
            jurisdiction_path=reference.path if reference else None,
            grants=grants,
            jurisdiction_name=reference.name if reference else None,
            jurisdiction_level=reference.level if reference else None,
        )
    return user.id


class Api:
    """An HTTP client for /api/v1 that can act as any account."""

    def __init__(self, client: TestClient) -> None:  # type: ignore[type-arg]
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str, password: str = PASSWORD) -> str:
        if username not in self._tokens:
            response = self.client.post("/api/v1/auth/token", json={"username": username, "password": password})
            assert response.status_code == 200, response.text
            self._tokens[username] = response.json()["access_token"]
        return self._tokens[username]

    def forget(self, username: str | None = None) -> None:
        """Drop a cached token (all of them without a name): the next call signs in again."""
        if username is None:
            self._tokens.clear()
        else:
            self._tokens.pop(username, None)

    def request(self, method: str, path: str, as_user: str | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if as_user is not None:
            headers["authorization"] = f"Bearer {self.token(as_user)}"
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    def get(self, path: str, as_user: str | None = None, **kwargs: Any) -> Any:
        return self.request("GET", path, as_user, **kwargs)

    def post(self, path: str, as_user: str | None = None, **kwargs: Any) -> Any:
        return self.request("POST", path, as_user, **kwargs)


@contextmanager
def seeded_world(
    settings: Settings,
    registry: SubscriberRegistry,
    clock: Clock | None,
    accounts: Mapping[str, tuple[Role, str | None]],
) -> Iterator[Container]:
    """A container on ``clock`` (None: the one the settings name) with the seed tree and the accounts; closed after."""
    container = bootstrap(settings, registry=registry, clock=clock)
    seed_tree(container)
    for username, (role, code) in accounts.items():
        add_user(container, username, role, code)
    try:
        yield container
    finally:
        container.bus.broker.flush_all()
        container.close()


@contextmanager
def api_client(container: Container) -> Iterator[Api]:
    with TestClient(create_app(container=container, run_embedded_bus=False)) as client:
        yield Api(client)
