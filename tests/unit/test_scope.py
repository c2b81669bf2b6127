"""The scope rule as a matrix: role x where the object sits x read / write.

A district principal at /50/500101/; objects at its own jurisdiction, a child, a sibling district, the
parent city, and a township under the sibling (unrelated). Outside the subtree is always 404 (NotFound);
inside, a role that may not write gets 403 (PermissionDenied).
"""

from __future__ import annotations

import pytest

from linzhang.errors import NotFound, PermissionDenied
from linzhang.identity.scope import Action, Principal, Role, authorize, can_read, grant_refusal, system_actor

OWN = "/50/500101/"
PLACES = {
    "own": OWN,
    "child": "/50/500101/500101001/",
    "sibling": "/50/500102/",
    "parent": "/50/",
    "unrelated": "/50/500102/500102001/",
}
OUTSIDE = {"sibling", "parent", "unrelated"}


def principal(role: Role, grants: frozenset[Action] = frozenset()) -> Principal:
    path = "/" if role is Role.ADMIN else OWN
    return Principal(1, "u", role, None if role is Role.ADMIN else "500101", path, grants=grants)


def outcome(who: Principal, action: Action, place: str) -> str:
    try:
        authorize(who, action, PLACES[place])
    except NotFound:
        return "404"
    except PermissionDenied:
        return "403"
    return "ok"


# Expected answers for (role, action) across own / child / sibling / parent / unrelated.
MATRIX = {
    (Role.ADMIN, Action.READ): ("ok", "ok", "ok", "ok", "ok"),
    (Role.ADMIN, Action.APPOINT_CHIEF): ("ok", "ok", "ok", "ok", "ok"),
    (Role.OFFICE, Action.READ): ("ok", "ok", "404", "404", "404"),
    (Role.OFFICE, Action.APPOINT_CHIEF): ("ok", "ok", "404", "404", "404"),
    (Role.OFFICE, Action.MANAGE_JURISDICTIONS): ("403", "403", "403", "403", "403"),
    (Role.CHIEF, Action.READ): ("ok", "ok", "404", "404", "404"),
    (Role.CHIEF, Action.APPOINT_CHIEF): ("403", "ok", "404", "404", "404"),
    (Role.CHIEF, Action.ASSIGN_WORK): ("ok", "ok", "404", "404", "404"),
    (Role.CHIEF, Action.REPORT): ("ok", "403", "404", "404", "404"),
    (Role.CHIEF, Action.VERIFY): ("403", "ok", "404", "404", "404"),
    (Role.CHIEF, Action.MANAGE_USERS): ("403", "403", "403", "403", "403"),
    (Role.INTEGRATION, Action.READ): ("ok", "ok", "404", "404", "404"),
    (Role.INTEGRATION, Action.APPOINT_CHIEF): ("403", "403", "404", "404", "404"),
    (Role.INTEGRATION, Action.REPORT): ("403", "403", "404", "404", "404"),
}


@pytest.mark.parametrize(("role", "action"), list(MATRIX))
def test_scope_matrix(role: Role, action: Action) -> None:
    who = principal(role)
    got = tuple(outcome(who, action, place) for place in PLACES)
    assert got == MATRIX[(role, action)]


@pytest.mark.parametrize("role", [Role.OFFICE, Role.CHIEF, Role.INTEGRATION])
def test_reading_is_exactly_the_subtree(role: Role) -> None:
    who = principal(role)
    assert {place for place, path in PLACES.items() if can_read(who, path)} == {"own", "child"}


def test_integration_grant_opens_one_write_action_inside_its_subtree() -> None:
    who = principal(Role.INTEGRATION, grants=frozenset({Action.REPORT}))
    assert tuple(outcome(who, Action.REPORT, place) for place in PLACES) == ("ok", "403", "404", "404", "404")
    assert outcome(who, Action.APPOINT_CHIEF, "child") == "403"


def test_assessments_are_for_the_city_office_only() -> None:
    city_office = Principal(2, "o", Role.OFFICE, "50", "/50/")
    district_office = principal(Role.OFFICE)
    authorize(city_office, Action.ASSESS, "/50/500101/")
    with pytest.raises(PermissionDenied, match="只有市级林长办可以考核") as caught:
        authorize(district_office, Action.ASSESS, OWN)
    assert caught.value.code == "city_only"


@pytest.mark.parametrize("role", [Role.OFFICE, Role.CHIEF, Role.INTEGRATION])
@pytest.mark.parametrize("action", [Action.RUN_SWEEP, Action.MANAGE_USERS, Action.MANAGE_BUS])
@pytest.mark.parametrize("path", ["/50/", "/"])
def test_administrators_actions_are_403_for_everyone_else(role: Role, action: Action, path: str) -> None:
    with pytest.raises(PermissionDenied, match="只有系统管理员") as caught:
        authorize(Principal(3, "c", role, "50", path), action)
    assert caught.value.code == "admin_only"


TOWNSHIP = "/50/500101/500101001/"
CITY = "/50/"


def integration_at(path: str, *grants: Action) -> Principal:
    return Principal(9, "sys", Role.INTEGRATION, path.strip("/").split("/")[-1], path, grants=frozenset(grants))


def test_a_granted_action_obeys_the_city_only_rule() -> None:
    township = integration_at(TOWNSHIP, Action.ASSESS)
    with pytest.raises(PermissionDenied):
        authorize(township, Action.ASSESS, TOWNSHIP)  # vetoing itself
    with pytest.raises(PermissionDenied):
        authorize(township, Action.ASSESS, township.path)  # a city-wide run, authorized at its own level
    authorize(integration_at(CITY, Action.ASSESS), Action.ASSESS, TOWNSHIP)


@pytest.mark.parametrize(
    "action", [Action.MANAGE_USERS, Action.RUN_SWEEP, Action.MANAGE_BUS, Action.MANAGE_JURISDICTIONS]
)
def test_a_grant_of_an_administrators_action_gives_nothing(action: Action) -> None:
    with pytest.raises((PermissionDenied, NotFound)):
        authorize(integration_at(CITY, action), action, TOWNSHIP)
    with pytest.raises(PermissionDenied):
        authorize(integration_at(CITY, action), action)


def test_a_granted_action_keeps_the_offices_relation() -> None:
    township = integration_at(TOWNSHIP, Action.VERIFY, Action.REPORT)
    authorize(township, Action.VERIFY, TOWNSHIP + "500101001001/")
    with pytest.raises(PermissionDenied):
        authorize(township, Action.VERIFY, TOWNSHIP)  # verifying is for work from below
    authorize(township, Action.REPORT, TOWNSHIP)
    with pytest.raises(PermissionDenied):
        authorize(township, Action.REPORT, TOWNSHIP + "500101001001/")  # reporting is for its own


@pytest.mark.parametrize(
    ("action", "path", "lowest", "refused"),
    [
        (Action.ASSESS, TOWNSHIP, False, True),
        (Action.ASSESS, CITY, False, False),
        (Action.MANAGE_USERS, CITY, False, True),
        (Action.RUN_SWEEP, CITY, False, True),
        (Action.MANAGE_BUS, CITY, False, True),
        (Action.VERIFY, TOWNSHIP + "500101001001/", True, True),
        (Action.SUPERVISE, TOWNSHIP + "500101001001/", True, True),
        (Action.VERIFY, TOWNSHIP, False, False),
        (Action.REPORT, TOWNSHIP + "500101001001/", True, False),
        (Action.READ_EVENTS, TOWNSHIP, False, False),
    ],
)
def test_grants_that_can_never_work_are_named(action: Action, path: str, lowest: bool, refused: bool) -> None:
    assert (grant_refusal(action, path, lowest_level=lowest) is not None) is refused


# 督办 (Action.SUPERVISE) for a district principal at /50/500101/: where the work's owner and its current
# holder sit. Only the holder of escalated work, or a level above the holder, may supervise it.
VILLAGE = "/50/500101/500101001/500101001001/"
TOWNSHIP = "/50/500101/500101001/"
SUPERVISION = [
    # (owner, holder, chief's answer)
    (VILLAGE, OWN, "ok"),  # escalated to the district itself: the holder supervises
    (VILLAGE, TOWNSHIP, "ok"),  # held by a township below: a level above the holder may supervise
    (VILLAGE, "/50/", "403"),  # already held above the district (at the city): not the district's to supervise
    (TOWNSHIP, "/50/", "403"),
    (OWN, "/50/", "403"),  # the district's own work, escalated to the city
    ("/50/500102/500102001/", "/50/500102/", "404"),  # another district's work: as if it did not exist
]


@pytest.mark.parametrize(("owner", "holder", "expected"), SUPERVISION)
@pytest.mark.parametrize("role", [Role.OFFICE, Role.CHIEF])
def test_supervision_is_for_the_holder_or_a_level_above_it(role: Role, owner: str, holder: str, expected: str) -> None:
    who = principal(role)
    try:
        authorize(who, Action.SUPERVISE, owner, holder_path=holder)
        got = "ok"
    except NotFound:
        got = "404"
    except PermissionDenied:
        got = "403"
    assert got == expected


def test_supervision_needs_the_holder_and_other_actions_keep_the_owner_rule() -> None:
    with pytest.raises(ValueError, match="holder"):
        authorize(principal(Role.CHIEF), Action.SUPERVISE, VILLAGE)
    # Comments and 约谈 remain for any level above the owner, whoever holds the work.
    assert tuple(outcome(principal(Role.CHIEF), Action.OVERSEE, place) for place in PLACES) == (
        "403",
        "ok",
        "404",
        "404",
        "404",
    )


@pytest.mark.parametrize("role", [Role.OFFICE, Role.CHIEF, Role.INTEGRATION])
@pytest.mark.parametrize(("depth", "expected"), [(1, "403"), (2, "ok"), (3, "ok"), (4, "ok")])
def test_a_levels_board_is_read_from_that_level_or_above(role: Role, depth: int, expected: str) -> None:
    # The principal is a district (depth 2): the city's board is above it, its own and lower ones are not.
    if expected == "403":
        with pytest.raises(PermissionDenied) as refused:
            authorize(principal(role), Action.READ_BOARD, OWN, what="board", level_depth=depth)
        assert refused.value.code == "board_level_above"
    else:
        authorize(principal(role), Action.READ_BOARD, OWN, what="board", level_depth=depth)
    authorize(principal(Role.ADMIN), Action.READ_BOARD, "/", what="board", level_depth=1)


def test_a_system_actor_may_take_only_the_actions_of_its_job_anywhere() -> None:
    sweeper = system_actor("escalation-sweep", Action.RUN_SWEEP, name="escalation-sweep")
    assert sweeper.username == "system:escalation-sweep"
    assert sweeper.shown_as == "escalation-sweep"
    assert not sweeper.is_admin
    authorize(sweeper, Action.RUN_SWEEP)
    for place in PLACES.values():
        with pytest.raises(PermissionDenied) as refused:
            authorize(sweeper, Action.ASSIGN_WORK, place)
        assert refused.value.code == "system_job_not_permitted"
    importer = system_actor("plan:2021", Action.ASSIGN_WORK)
    for place in PLACES.values():
        authorize(importer, Action.ASSIGN_WORK, place)
    with pytest.raises(PermissionDenied):
        authorize(importer, Action.RUN_SWEEP)


@pytest.mark.parametrize("role", [Role.OFFICE, Role.CHIEF, Role.INTEGRATION])
def test_nobody_but_an_administrator_runs_the_sweep(role: Role) -> None:
    with pytest.raises(PermissionDenied) as refused:
        authorize(principal(role, grants=frozenset({Action.RUN_SWEEP})), Action.RUN_SWEEP)
    assert refused.value.code == "admin_only"
