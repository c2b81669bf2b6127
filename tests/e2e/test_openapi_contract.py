"""The API against its own OpenAPI document, by schemathesis, with every check, as an administrator and a chief.

Every operation of the document (discovered from the app: a new route is covered without editing this
test) is called with requests generated from its schema - valid ones and invalid ones - and each answer
is checked against the document: documented status and content type, response schema, headers, no
server error, authentication enforced, invalid data refused, valid data accepted.

One check is stricter than schemathesis' own: valid data may be refused only by a business rule the
schema cannot state (a rule across fields, the state of an object, a date against today); the problem
document's ``code`` must be one of ``BUSINESS_RULES``. A refusal the schema could have stated (a length,
a pattern, a range) fails: the schema must say it.

``LINZHANG_CONTRACT_EXAMPLES`` sets the examples per operation and mode (default below).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select, update

from linzhang.app import create_app
from linzhang.container import Container
from linzhang.identity import Role
from linzhang.identity.tables import User
from tests.support.world import add_user, api_client, seed_tree

EXAMPLES = int(os.environ.get("LINZHANG_CONTRACT_EXAMPLES", "10"))
CALLERS = {"admin": (Role.ADMIN, None), "village-chief": (Role.CHIEF, "500101001001")}
# Codes of refusals that no schema can state: they depend on other fields, stored state or today.
BUSINESS_RULES = {
    # across fields of one request
    "account_incomplete",  # a chief's account needs both username and password
    "as_of_before_period",  # as_of before the period it computes
    "date_required",  # a summons needs planned_on or held_on
    "due_date_ambiguous",  # due_date and due_in_workdays together
    "division_parent_required",  # every level below the city names its parent
    "grants_not_allowed",  # grants only for integration accounts, and only those their role could use
    "ranking_scope_invalid",  # a level ranks city-wide or within the group the rubric gives it
    # against stored state or configuration
    "bonus_item_unknown",  # the rubric's bonus items (config/assessment.toml)
    "division_parent_unknown",
    "invalid_cursor",  # an opaque cursor this server did not hand out
    "split_not_a_child",  # a split goes to the task's jurisdiction's direct children
    "jurisdiction_required",  # an account bound to no jurisdiction names one
    "password_too_common",
    "password_is_username",
    # the content of an uploaded file (a GPX or GeoJSON track, a photo), which no schema of the body describes
    "track_empty",
    "track_invalid",
    "photo_empty",
    "photo_type_not_allowed",
    "photo_unreadable",
    "photo_too_many_pixels",
    # against today
    "as_of_in_future",
}


@schemathesis.check
def valid_data_is_refused_only_by_business_rules(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if status < 400 or status in (401, 403, 404, 409, 429) or status >= 500:
        return None  # 5xx: not_a_server_error speaks
    code = None
    try:
        code = response.json().get("code")
    except Exception:
        code = None
    if status == 422 and code in BUSINESS_RULES:
        return None
    raise AssertionError(f"schema-valid request refused: {status} {code}: {response.text[:300]}")


def seed(container: Container) -> dict[str, int]:
    seed_tree(container)
    ids = {name: add_user(container, name, role, code) for name, (role, code) in CALLERS.items()}
    add_user(container, "wz-office", Role.OFFICE, "500101")
    with api_client(container) as api:
        made = api.post(
            "/tasks",
            "wz-office",
            json={
                "title": "示范村造林",
                "kind": "target",
                "jurisdiction_code": "500101001001",
                "target_quantity": 10,
                "unit": "亩",
                "due_in_workdays": 10,
            },
        )
        assert made.status_code == 201, made.text
        chief = api.post(
            "/chiefs",
            "wz-office",
            json={"name": "张三", "post": "村林长", "role": "chief", "jurisdiction_code": "500101001001"},
        )
        assert chief.status_code == 201, chief.text
        # The village chief's account is that chief's: it patrols and reports from the field (a bare
        # account would be refused as no patroller, and those operations never reach their rules).
        with container.transaction() as session:
            session.execute(update(User).where(User.id == ids["village-chief"]).values(chief_id=chief.json()["id"]))
        year = str(dt.date.today().year)
        assert api.post("/assessments", "admin", json={"period": year}).status_code == 201
    return ids


@pytest.mark.parametrize("who", list(CALLERS))
def test_the_api_keeps_to_its_openapi_document(container: Container, who: str) -> None:
    user_id = seed(container)[who]
    app = create_app(container=container, run_embedded_bus=False)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)

    def token() -> str:
        # A fresh token each time: the run may reset the caller's password or disable it (its own
        # account it cannot disable; an administrator may be disabled by another one - not here).
        with container.transaction() as session:
            session.execute(update(User).where(User.id == user_id).values(active=True))
            version = session.execute(select(User.token_version).where(User.id == user_id)).scalar_one()
        return container.tokens.issue(user_id, version, container.clock.now())

    @schema.auth(refresh_interval=None)
    class Bearer:
        def get(self, case: Any, context: Any) -> str:
            return token()

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            case.call_and_validate(
                excluded_checks=[positive_data_acceptance],
                additional_checks=[valid_data_is_refused_only_by_business_rules],
            )

        try:
            call()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is walked; all failures reported together
            failures[operation.label] = str(exc)[:4000]
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
