"""The scope rule, in one place.

A principal bound to jurisdiction J reads what belongs to J's subtree; anything outside answers
404 exactly as if it did not exist. Within the subtree, what it may change depends on its role and
on where the object sits relative to J: J itself (``OWN``), strictly below (``BELOW``), or either
(``WITHIN``). Work that escalated has a holder besides its owner: ``HOLDER`` asks that J be the
holder or a level above it (督办). A level's own views (the escalation board) are read from that level
or above (``LEVEL_OR_ABOVE``). Administrators may do everything everywhere.

Work the system starts itself (the periodic sweep, a plan import, the demo) runs as a named system actor
(:func:`system_actor`): no account and no role, the whole tree as its scope, and only the actions its job
names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from linzhang.errors import PermissionDenied, not_found
from linzhang.paths import ROOT_PATH, is_below, is_within, path_codes


class Role(StrEnum):
    ADMIN = "admin"  # system administrators
    OFFICE = "office"  # 林长办 staff of a jurisdiction
    CHIEF = "chief"  # a 林长
    INTEGRATION = "integration"  # another government system
    RANGER = "ranger"  # a 护林员 or 监管员: their own patrols and field reports (a supervisor: their area's rangers)


class Action(StrEnum):
    READ = "read"
    MANAGE_USERS = "manage_users"
    MANAGE_JURISDICTIONS = "manage_jurisdictions"
    APPOINT_CHIEF = "appoint_chief"  # appoint, replace, end a term
    ASSIGN_WORK = "assign_work"  # create and split tasks, 交办, 林长令
    REPORT = "report"  # progress and completion of work the jurisdiction holds
    VERIFY = "verify"  # 核查 of work from below
    SUPERVISE = "supervise"  # 督办 of escalated work: by its holder or a level above the holder
    OVERSEE = "oversee"  # comment and 约谈 on work from below
    RUN_SWEEP = "run_sweep"
    READ_BOARD = "read_board"  # a level's escalation board
    ASSESS = "assess"  # run assessments, record vetoes (一票否决)
    READ_EVENTS = "read_events"
    MANAGE_BUS = "manage_bus"
    READ_METRICS = "read_metrics"
    MOVE_CLOCK = "move_clock"  # a training instance's test clock
    MANAGE_RANGERS = "manage_rangers"  # register, replace and import rangers and supervisors, patrol areas
    PATROL = "patrol"  # record one's own patrols and field reports
    READ_PATROLS = "read_patrols"  # patrols, rangers and compliance (a ranger: only their own; see patrols)


class Relation(StrEnum):
    OWN = "own"
    BELOW = "below"
    WITHIN = "within"
    HOLDER = "holder"  # the work's current holder, or a level above it (the owner sits below both)
    LEVEL_OR_ABOVE = "level_or_above"  # a level's view: read by that level or one above it


@dataclass(frozen=True, slots=True)
class Rule:
    """Which roles may take an action, and where the object must sit for each."""

    relations: dict[Role, Relation]
    city_only: frozenset[Role] = frozenset()


RULES: dict[Action, Rule] = {
    Action.READ: Rule({Role.OFFICE: Relation.WITHIN, Role.CHIEF: Relation.WITHIN, Role.INTEGRATION: Relation.WITHIN}),
    Action.MANAGE_USERS: Rule({}),
    Action.MANAGE_JURISDICTIONS: Rule({}),
    Action.APPOINT_CHIEF: Rule({Role.OFFICE: Relation.WITHIN, Role.CHIEF: Relation.BELOW}),
    Action.ASSIGN_WORK: Rule({Role.OFFICE: Relation.WITHIN, Role.CHIEF: Relation.WITHIN}),
    Action.REPORT: Rule({Role.OFFICE: Relation.OWN, Role.CHIEF: Relation.OWN}),
    Action.VERIFY: Rule({Role.OFFICE: Relation.BELOW, Role.CHIEF: Relation.BELOW}),
    Action.SUPERVISE: Rule({Role.OFFICE: Relation.HOLDER, Role.CHIEF: Relation.HOLDER}),
    Action.OVERSEE: Rule({Role.OFFICE: Relation.BELOW, Role.CHIEF: Relation.BELOW}),
    Action.RUN_SWEEP: Rule({}),
    Action.READ_BOARD: Rule(
        {
            Role.OFFICE: Relation.LEVEL_OR_ABOVE,
            Role.CHIEF: Relation.LEVEL_OR_ABOVE,
            Role.INTEGRATION: Relation.LEVEL_OR_ABOVE,
        }
    ),
    Action.ASSESS: Rule({Role.OFFICE: Relation.WITHIN}, city_only=frozenset({Role.OFFICE})),
    Action.READ_EVENTS: Rule({Role.INTEGRATION: Relation.WITHIN}),
    Action.MANAGE_BUS: Rule({}),
    Action.READ_METRICS: Rule({}),
    Action.MOVE_CLOCK: Rule({}),
    Action.MANAGE_RANGERS: Rule({Role.OFFICE: Relation.WITHIN, Role.CHIEF: Relation.WITHIN}),
    Action.PATROL: Rule({Role.CHIEF: Relation.OWN, Role.RANGER: Relation.OWN}),
    Action.READ_PATROLS: Rule(
        {
            Role.OFFICE: Relation.WITHIN,
            Role.CHIEF: Relation.WITHIN,
            Role.INTEGRATION: Relation.WITHIN,
            Role.RANGER: Relation.WITHIN,
        }
    ),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an account, its role and the jurisdiction it is bound to."""

    user_id: int
    username: str
    role: Role
    jurisdiction_code: str | None
    path: str
    chief_id: int | None = None
    # Actions an integration account may take beyond reading (its grant).
    grants: frozenset[Action] = field(default_factory=frozenset)
    # The name others see for this account's acts (a chief's own name, an office's name).
    display_name: str = ""
    # A system actor (see :func:`system_actor`): no account; ``grants`` are all it may do.
    system: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN and not self.system

    @property
    def shown_as(self) -> str:
        """How the caller appears as a creator or actor: never another person's username."""
        return self.display_name or self.username


def can_read(principal: Principal, object_path: str) -> bool:
    return principal.is_admin or is_within(object_path, principal.path)


# 操作的中文名: how a refusal names the action a person tried.
ACTION_NAMES: dict[Action, str] = {
    Action.READ: "查看",
    Action.MANAGE_USERS: "管理账号",
    Action.MANAGE_JURISDICTIONS: "管理行政区划",
    Action.APPOINT_CHIEF: "任免林长",
    Action.ASSIGN_WORK: "交办任务",
    Action.REPORT: "报送进度",
    Action.VERIFY: "核查验收",
    Action.SUPERVISE: "督办",
    Action.OVERSEE: "批示或约谈",
    Action.RUN_SWEEP: "执行督办扫描",
    Action.READ_BOARD: "查看督办看板",
    Action.ASSESS: "考核",
    Action.READ_EVENTS: "读取事件流",
    Action.MANAGE_BUS: "管理消息总线",
    Action.READ_METRICS: "读取运行指标",
    Action.MOVE_CLOCK: "拨动测试时钟",
    Action.MANAGE_RANGERS: "管理护林员",
    Action.PATROL: "记录巡林",
    Action.READ_PATROLS: "查看巡林",
}

ROLE_NAMES: dict[Role, str] = {
    Role.ADMIN: "系统管理员",
    Role.OFFICE: "林长办",
    Role.CHIEF: "林长",
    Role.INTEGRATION: "对接系统",
    Role.RANGER: "护林员",
}


SYSTEM_USER_ID = 0


def system_actor(job: str, *actions: Action, name: str = "系统") -> Principal:
    """The principal of work the system starts itself: ``system:<job>``, the whole tree, only ``actions``.

    It goes through the same services and the same :func:`authorize` as a person; what it did is
    recorded under ``name`` (its display name) on timelines and events.
    """
    return Principal(
        user_id=SYSTEM_USER_ID,
        username=f"system:{job}",
        # The role is never consulted for a system actor (authorize reads its grants); the field needs one.
        role=Role.ADMIN,
        jurisdiction_code=None,
        path=ROOT_PATH,
        grants=frozenset(actions),
        display_name=name,
        system=True,
    )


def authorize(
    principal: Principal,
    action: Action,
    object_path: str = ROOT_PATH,
    *,
    what: str = "object",
    field: str | None = None,
    holder_path: str | None = None,
    level_depth: int | None = None,
) -> None:
    """Allow ``principal`` to take ``action`` on an object at ``object_path``, or raise.

    Outside the principal's subtree: :func:`~linzhang.errors.not_found` of the object's kind (``what``,
    e.g. ``"task"``), the very answer for an object that does not exist, with ``field`` when the object
    was named in the request body. Inside it, but not permitted for the role or not at the right place:
    :class:`PermissionDenied`. ``holder_path`` is where work is held now (its escalation holder), for the
    ``HOLDER`` relation. ``level_depth`` is the depth of the level whose view is read (1 for the city),
    for the ``LEVEL_OR_ABOVE`` relation.
    """
    if principal.system:
        if action in principal.grants:
            return
        raise PermissionDenied(
            f"系统作业 {principal.username} 不能{ACTION_NAMES[action]}", code="system_job_not_permitted"
        )
    if principal.is_admin:
        return
    rule = RULES[action]
    acting = acting_role(principal, action)
    relation = rule.relations.get(acting)
    verb, role = ACTION_NAMES[action], ROLE_NAMES[principal.role]
    if relation is None and not rule.relations:
        # An administrators' action: refusing it says nothing about any object.
        raise PermissionDenied(f"只有系统管理员可以{verb}", code="admin_only")
    if not is_within(object_path, principal.path):
        if object_path == ROOT_PATH:
            # A system-wide action: refusing it hides nothing.
            raise PermissionDenied(f"{role}不能在此{verb}", code="role_not_permitted")
        raise not_found(what, field=field)
    if relation is None:
        raise PermissionDenied(f"{role}不能{verb}", code="role_not_permitted")
    if acting in rule.city_only and len(path_codes(principal.path)) != 1:
        raise PermissionDenied(f"只有市级{role}可以{verb}", code="city_only")
    if relation is Relation.OWN and object_path != principal.path:
        raise PermissionDenied(f"只有本级辖区可以{verb}", code="own_jurisdiction_only")
    if relation is Relation.BELOW and not is_below(object_path, principal.path):
        raise PermissionDenied(f"只能对下级辖区{verb}", code="below_jurisdiction_only")
    if relation is Relation.LEVEL_OR_ABOVE:
        if level_depth is None:
            raise ValueError(f"{action.value} needs the level's depth")
        if level_depth < len(path_codes(principal.path)):
            raise PermissionDenied("只有本层级及以上可以查看该层级的督办看板", code="board_level_above")
    if relation is Relation.HOLDER:
        if holder_path is None:
            raise ValueError(f"{action.value} needs the holder's path")
        if not is_below(object_path, principal.path) or not is_within(holder_path, principal.path):
            raise PermissionDenied(
                "督办由任务当前的承办层级或其上级下达；该任务不在本级承办或已升级到本级之上",
                code="not_holder_or_above",
            )


def acting_role(principal: Principal, action: Action) -> Role:
    """The role whose rule applies: a granted action is taken under the office's rule, limits included."""
    rule = RULES[action]
    if principal.role is Role.INTEGRATION and action in principal.grants and Role.INTEGRATION not in rule.relations:
        return Role.OFFICE
    return principal.role


def grant_refusal(action: Action, path: str, *, lowest_level: bool) -> str | None:
    """Why ``action`` can never work for an integration account bound at ``path``, or None.

    A grant lends the office's rule for the action; an action no office may take, a city-only action
    for an account below the city, or an action on work from below for an account at the lowest level
    would be a grant that is refused every time it is used.
    """
    rule = RULES[action]
    if Role.INTEGRATION in rule.relations:
        return None
    relation = rule.relations.get(Role.OFFICE)
    if relation is None:
        return f"只有管理员可以执行 {action.value}，不能授予接口账号"
    if Role.OFFICE in rule.city_only and len(path_codes(path)) != 1:
        return f"{action.value} 只能由市级执行，不能授予市级以下的接口账号"
    # Work from below, or escalated work (whose holder sits above its owner), never reaches the lowest level.
    if relation in (Relation.BELOW, Relation.HOLDER) and lowest_level:
        return f"{action.value} 针对下级的工作，最低一级的接口账号用不到"
    return None


def subtree_of(principal: Principal) -> str:
    """The path prefix a principal's listings are limited to."""
    return ROOT_PATH if principal.is_admin else principal.path
