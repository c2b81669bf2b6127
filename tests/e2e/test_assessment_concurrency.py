"""Two computations of the same period at once: one draft version each, or a clean 409 - never a 500."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from linzhang.container import Container
from linzhang.domains.assessments import service
from linzhang.domains.assessments.api import context
from linzhang.identity import Role
from linzhang.identity.service import principal_for_token
from tests.conftest import ON_POSTGRES
from tests.support.world import add_user, api_client, seed_tree


def test_a_computation_racing_another_of_the_same_period_answers_409(container: Container) -> None:
    seed_tree(container)
    add_user(container, "admin", Role.ADMIN, None)
    period = str(dt.date.today().year)
    with api_client(container) as api:
        token = api.token("admin")
        with container.reading() as session:
            principal = principal_for_token(session, container.tokens, container.clock, token)
        assert principal is not None
        answers: list[Any] = []
        with container.transaction() as session:
            # The first computation holds its new version, uncommitted, while the second one asks.
            first = service.compute(session, principal, context(container), period, None)
            racer = threading.Thread(
                target=lambda: answers.append(api.post("/assessments", "admin", json={"period": period}))
            )
            racer.start()
            time.sleep(1.0)
        racer.join(timeout=60)
        assert first.version == 1
        (second,) = answers
        if ON_POSTGRES:
            # The second computation read "no run yet" and took version 1 too: refused, nothing kept.
            assert second.status_code == 409, second.text
            body = second.json()
            assert (body["code"], body["detail"]) == (
                "assessment_computing",
                f"考核期 {period} 正在由他人计算，请稍后重试",
            )
        else:
            # SQLite lets one writer in at a time: the second waits, then computes the next version.
            assert second.status_code == 201, second.text
            assert second.json()["version"] == 2
        versions = api.get(f"/assessments/{period}/versions", "admin").json()
        assert sorted(item["version"] for item in versions["items"]) == ([1] if ON_POSTGRES else [1, 2])
