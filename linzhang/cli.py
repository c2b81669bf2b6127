"""The ``linzhang`` command."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from linzhang.settings import Settings, SettingsError, load_settings
from linzhang.web.labels import ROLE


class _Context:
    def __init__(self) -> None:
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
            from linzhang.log import configure_logging

            configure_logging(self._settings.logging)
        return self._settings


pass_context = click.make_pass_decorator(_Context, ensure=True)


@contextmanager
def _container(ctx: _Context) -> Iterator[Any]:
    from linzhang.bootstrap import bootstrap

    container = bootstrap(ctx.settings)
    try:
        yield container
    finally:
        container.close()


def _wait_for_signal() -> threading.Event:
    stop = threading.Event()

    def _handle(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    return stop


@click.group()
def cli() -> None:
    """linzhang: the forest-chief (林长制) responsibility system."""


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Migrate up to this revision.")
@pass_context
def db_upgrade(ctx: _Context, revision: str) -> None:
    """Apply the migrations to the configured database."""
    _upgrade(ctx, revision)


def _upgrade(ctx: _Context, revision: str) -> None:
    from linzhang.db import create_db_engine
    from linzhang.db.migrate import upgrade

    engine = create_db_engine(ctx.settings)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()
    click.echo(f"数据库 {engine.url.render_as_string(hide_password=True)} 已迁移到 {revision}")


@cli.command()
@click.option("--host", default=None, help="Address to bind (default: [http] host).")
@click.option("--port", default=None, type=int, help="Port (default: [http] port).")
@click.option(
    "--demo",
    is_flag=True,
    help="Load the demo (as `linzhang demo`) in the background if it is not there yet; pages say so meanwhile.",
)
@click.option(
    "--upgrade",
    is_flag=True,
    help="Apply the migrations first (as `linzhang db upgrade`), in this process: one start instead of two.",
)
@pass_context
def serve(ctx: _Context, host: str | None, port: int | None, demo: bool, upgrade: bool) -> None:
    """The web app and API; without a Redis URL also the in-process workers, relay and sweeper."""
    import uvicorn

    from linzhang.app import create_app
    from linzhang.bootstrap import bootstrap
    from linzhang.monitoring import start_metrics_listener

    settings = ctx.settings
    if upgrade:
        _upgrade(ctx, "head")
    container = bootstrap(settings)
    start_metrics_listener(container)
    prepare = None
    if demo:
        from linzhang.demo import loader_while_serving

        prepare = loader_while_serving(container, _echo_demo_report)
    app = create_app(container=container, prepare=prepare)
    host, port = host or settings.http.host, port or settings.http.port
    if sys.stdout.isatty():
        # A person at a terminal: where to go and who to sign in as, in plain text before the log lines.
        from linzhang.console import banner
        from linzhang.demo import demo_logins

        click.echo(banner(host, port, demo_logins(container), demo_loading=container.demo_loading))
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
    )


def _echo_demo_report(report: Any) -> None:
    from linzhang.demo import DEMO_PASSWORD

    if not report.loaded:
        click.echo("演示数据已载入过，未作改动")
        return
    click.echo(
        f"演示数据已载入：{report.jurisdictions} 个辖区，{report.chiefs} 位林长，{report.tasks} 项任务；"
        f"{report.period} 年度考核已计算"
    )
    click.echo(f"演示账号：{'、'.join(report.accounts)}，密码 {DEMO_PASSWORD}")


def _require_redis(settings: Settings, command: str) -> None:
    if not settings.redis_url:
        raise click.UsageError(
            f"`linzhang {command}` 服务于 Redis 消息代理：请设置 LINZHANG_REDIS_URL。"
            "不设置时，`linzhang serve` 在本进程内运行工作线程和调度器。"
        )


@cli.command()
@click.option("--threads", default=None, type=int, help="Worker threads (default: [bus] worker_threads).")
@click.option(
    "--subscriber",
    "subscribers",
    multiple=True,
    help="Consume only this subscriber's queue (repeatable; default: every subscriber's queue).",
)
@pass_context
def worker(ctx: _Context, threads: int | None, subscribers: tuple[str, ...]) -> None:
    """Dramatiq workers on the Redis broker; run as many as needed."""
    _require_redis(ctx.settings, "worker")
    stop = _wait_for_signal()
    from linzhang.monitoring import start_metrics_listener

    with _container(ctx) as container:
        start_metrics_listener(container)
        known = container.registry.subscribers()
        unknown = [name for name in subscribers if name not in known]
        if unknown:
            raise click.UsageError(f"没有这个订阅者：{'、'.join(unknown)}（可选：{'、'.join(known)}）")
        running = container.bus.start_worker(threads, subscribers=list(subscribers) or None)
        queues = ", ".join(sorted(running.consumer_whitelist or ()))
        click.echo(f"工作进程已启动：{running.worker_threads} 个线程，队列 {queues}", err=True)
        stop.wait()
        running.stop()


@cli.command()
@pass_context
def scheduler(ctx: _Context) -> None:
    """Relay, redelivery and periodic jobs for the Redis broker; safe to run more than one."""
    from linzhang.bootstrap import warn_about_time

    _require_redis(ctx.settings, "scheduler")
    stop = _wait_for_signal()
    from linzhang.monitoring import start_metrics_listener

    with _container(ctx) as container:
        start_metrics_listener(container)
        warn_about_time(container)
        container.bus.run_scheduler(stop)


@cli.command()
@click.option("--once", is_flag=True, help="Send what is pending now and stop.")
@pass_context
def relay(ctx: _Context, once: bool) -> None:
    """Only the relay and redelivery (no periodic jobs)."""
    _require_redis(ctx.settings, "relay")
    with _container(ctx) as container:
        if once:
            container.bus.requeue_stale()
            click.echo(f"已发送 {container.bus.relay_all()} 条投递")
            return
        container.bus.jobs.clear()
        container.bus.run_scheduler(_wait_for_signal())


@cli.command()
@click.option(
    "--as-of", "as_of", default=None, help="ISO-8601 time to sweep as of (default: now), e.g. 2021-07-01T08:00+08:00."
)
@pass_context
def sweep(ctx: _Context, as_of: str | None) -> None:
    """Run one escalation sweep now (or as of a given time, to catch up after downtime)."""
    import datetime as dt

    from linzhang.domains.tasks.context import TasksContext
    from linzhang.domains.tasks.escalation import sweep as run_sweep
    from linzhang.errors import LinzhangError
    from linzhang.identity import Action
    from linzhang.identity.scope import system_actor

    # The operator's command runs as a system actor, recorded as "cli" as before.
    OPERATOR = system_actor("cli-sweep", Action.RUN_SWEEP, name="cli")

    with _container(ctx) as container:
        if as_of is None:
            when = container.clock.now()
        else:
            try:
                when = dt.datetime.fromisoformat(as_of)
            except ValueError:
                raise click.BadParameter(f"{as_of!r} 不是 ISO-8601 时间", param_hint="--as-of") from None
            if when.tzinfo is None:
                raise click.BadParameter("请带时区，如 2021-07-01T08:00+08:00", param_hint="--as-of")
        skew = dt.timedelta(seconds=container.settings.clock.skew_seconds)
        try:
            with container.transaction() as session:
                result = run_sweep(session, OPERATOR, container.context(TasksContext), when, skew=skew)
        except LinzhangError as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(f"截至 {result.as_of.isoformat()}：{result.escalated} 项任务上升督办")


@cli.group()
def bus() -> None:
    """Dead deliveries (list, re-drive) and retention (purge)."""


@bus.command("dead")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--after", "after_id", default=0, type=int, help="List dead deliveries after this id.")
@pass_context
def bus_dead(ctx: _Context, limit: int, after_id: int) -> None:
    """List dead deliveries: id, event, subscriber, failures, last error."""
    from linzhang.bus import list_dead

    with _container(ctx) as container:
        rows = list_dead(container.session_factory, limit=limit, after_id=after_id)
    if not rows:
        click.echo("没有死信投递")
        return
    for row in rows:
        error = (row.last_error or "").splitlines()[0][:200] if row.last_error else ""
        click.echo(f"{row.delivery_id}\t{row.event_type}\t{row.event_id}\t{row.subscriber}\t{row.attempts}\t{error}")


@bus.command("redrive")
@click.argument("delivery_ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Re-drive every dead delivery.")
@pass_context
def bus_redrive(ctx: _Context, delivery_ids: tuple[int, ...], everything: bool) -> None:
    """Make dead deliveries pending again (by id, or --all)."""
    from linzhang.bus import redrive

    if not delivery_ids and not everything:
        raise click.UsageError("请给出投递编号，或 --all")
    if delivery_ids and everything:
        raise click.UsageError("投递编号和 --all 只能给出其一")
    with _container(ctx) as container:
        count = redrive(container.session_factory, None if everything else list(delivery_ids))
    click.echo(f"已重新投递 {count} 条")


@bus.command("purge")
@click.option(
    "--events-days",
    type=click.IntRange(1),
    default=None,
    help="Keep events this many days (default: [retention] events_days).",
)
@click.option(
    "--done-deliveries-days",
    type=click.IntRange(1),
    default=None,
    help="Keep done deliveries this many days (default: [retention] done_deliveries_days).",
)
@pass_context
def bus_purge(ctx: _Context, events_days: int | None, done_deliveries_days: int | None) -> None:
    """Purge old events and done deliveries now (the scheduler also does it every [retention] interval)."""
    import msgspec

    from linzhang.bus.retention import purge

    retention = ctx.settings.retention
    if events_days is not None:
        retention = msgspec.structs.replace(retention, events_days=events_days)
    if done_deliveries_days is not None:
        retention = msgspec.structs.replace(retention, done_deliveries_days=done_deliveries_days)
    with _container(ctx) as container:
        report = purge(container.session_factory, container.bus.clock, retention)
    click.echo(
        f"已清除 {report.events} 个事件和 {report.deliveries} 条已完成投递；事件流现从位置 {report.horizon} 之后开始"
    )


@cli.command()
@click.option("--villages", default=300, show_default=True, type=click.IntRange(0, 100_000))
@pass_context
def demo(ctx: _Context, villages: int) -> None:
    """Load the demo: Chongqing's divisions, villages, chiefs and accounts (once)."""
    from linzhang.demo import load_demo

    with _container(ctx) as container:
        report = load_demo(container, villages=villages)
    _echo_demo_report(report)


@cli.group("import")
def import_() -> None:
    """Load reference data."""


@import_.command("divisions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def import_divisions(ctx: _Context, file: Path) -> None:
    """Load or update jurisdictions from code,name,level,parent_code rows (all or nothing, idempotent)."""
    from linzhang.domains.jurisdictions.importer import read_division_file
    from linzhang.domains.jurisdictions.model import InvalidDivision
    from linzhang.domains.jurisdictions.service import import_divisions as run_import

    with _container(ctx) as container:
        try:
            rows = read_division_file(file)
            with container.transaction() as session:
                report = run_import(session, container.clock, rows)
        except InvalidDivision as exc:
            raise click.ClickException(f"{file}：{exc}；未导入任何数据") from None
    click.echo(f"{file}：新建 {report.created} 个辖区，更名 {report.renamed} 个，未变 {report.unchanged} 个")


@import_.command("rangers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def import_rangers(ctx: _Context, file: Path) -> None:
    """Register rangers and supervisors from name,phone,jurisdiction_code,post rows (all or nothing)."""
    from linzhang.domains.patrols.importer import read_ranger_file
    from linzhang.domains.patrols.model import InvalidPatrolInput
    from linzhang.domains.patrols.service import PatrolsContext
    from linzhang.domains.patrols.service import import_rangers as run_import

    with _container(ctx) as container:
        try:
            rows = read_ranger_file(file)
            with container.transaction() as session:
                created = run_import(session, container.context(PatrolsContext), rows)
        except InvalidPatrolInput as exc:
            raise click.ClickException(f"{file}：{exc}；未导入任何数据") from None
    click.echo(f"{file}：登记 {created} 人，{len(rows) - created} 人已在岗")


@import_.command("areas")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def import_areas(ctx: _Context, file: Path) -> None:
    """Load villages' patrol areas from a GeoJSON FeatureCollection (properties.code; all or nothing)."""
    from linzhang.domains.patrols.importer import read_areas_file
    from linzhang.domains.patrols.model import InvalidPatrolInput
    from linzhang.domains.patrols.service import PatrolsContext
    from linzhang.domains.patrols.service import import_areas as run_import

    with _container(ctx) as container:
        try:
            document = read_areas_file(file)
            with container.transaction() as session:
                stored = run_import(session, container.context(PatrolsContext), document)
        except InvalidPatrolInput as exc:
            raise click.ClickException(f"{file}：{exc}；未导入任何数据") from None
    click.echo(f"{file}：已导入 {stored} 个村的巡护区域")


@import_.command("plan")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def import_plan(ctx: _Context, file: Path) -> None:
    """Create the city-level tasks of an annual work plan (config/plans/*.toml), idempotently."""
    from linzhang.domains.tasks.context import TasksContext
    from linzhang.domains.tasks.plans import PlanError, importer, read_plan
    from linzhang.domains.tasks.plans import import_plan as run_import

    with _container(ctx) as container:
        context = container.context(TasksContext)
        try:
            plan = read_plan(file)
            with container.transaction() as session:
                report = run_import(session, importer(plan), context, plan)
        except PlanError as exc:
            raise click.ClickException(f"{exc}；未导入任何数据") from None
    click.echo(f"计划 {report.plan_key}：新建 {report.created} 项任务，已有 {report.unchanged} 项")


@cli.group()
def user() -> None:
    """Accounts."""


@user.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True, help="At least 10 characters, not the username, not a common password.")
@click.option("--role", required=True, type=click.Choice(["admin", "office", "chief", "integration"]))
@click.option("--jurisdiction", "jurisdiction_code", default=None, help="Code the account is bound to.")
@click.option("--grant", "grants", multiple=True, help="An action an integration account may take (repeatable).")
@click.option("--display-name", default=None, help="The name others see for this account's acts.")
@click.option("--json", "as_json", is_flag=True, help="Print the new account as one JSON object (for scripts).")
@pass_context
def user_create(
    ctx: _Context,
    username: str,
    password: str,
    role: str,
    jurisdiction_code: str | None,
    grants: tuple[str, ...],
    display_name: str | None,
    as_json: bool,
) -> None:
    """Create an account."""
    from linzhang.errors import LinzhangError
    from linzhang.identity import Action, Role
    from linzhang.identity.service import create_user

    with _container(ctx) as container:
        try:
            actions = [Action(grant) for grant in grants]
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--grant") from None
        try:
            with container.transaction() as session:
                reference = None
                if jurisdiction_code is not None:
                    reference = container.lookup_jurisdiction(session, jurisdiction_code)
                    if reference is None:
                        raise click.BadParameter(f"辖区 {jurisdiction_code} 不存在", param_hint="--jurisdiction")
                created = create_user(
                    session,
                    container.passwords,
                    container.clock,
                    username=username,
                    password=password,
                    role=Role(role),
                    jurisdiction_code=jurisdiction_code,
                    jurisdiction_path=reference.path if reference else None,
                    grants=actions,
                    display_name=display_name,
                    jurisdiction_name=reference.name if reference else None,
                    jurisdiction_level=reference.level if reference else None,
                )
        except LinzhangError as exc:
            raise click.ClickException(exc.detail) from None
    if as_json:
        click.echo(json.dumps({"id": created.id, "username": created.username, "role": created.role.value}))
        return
    click.echo(f"已创建{ROLE[created.role.value]}账号 {created.username}（编号 {created.id}）")


def _change_account(ctx: _Context, username: str, change: Any) -> Any:
    """Run ``change(session, container, user_id)`` on the account named ``username`` in one transaction."""
    from linzhang.errors import LinzhangError
    from linzhang.identity.service import find_user

    with _container(ctx) as container:
        try:
            with container.transaction() as session:
                found = find_user(session, username)
                if found is None:
                    raise click.ClickException(f"账号 {username} 不存在")
                result = change(session, container, found.id)
        except LinzhangError as exc:
            raise click.ClickException(exc.detail) from None
        container.login_throttle.clear_account(found.username)
    return result


@user.command("passwd")
@click.argument("username")
@click.option(
    "--password", prompt=True, hide_input=True, confirmation_prompt=True, help="The new password (prompted if absent)."
)
@pass_context
def user_passwd(ctx: _Context, username: str, password: str) -> None:
    """Set an account's password; every token it holds stops working."""
    from linzhang.identity.service import reset_password

    _change_account(
        ctx,
        username,
        lambda session, container, user_id: reset_password(session, container.passwords, user_id, password),
    )
    click.echo(f"{username} 的密码已更改，该账号原有的令牌全部失效")


@user.command("disable")
@click.argument("username")
@pass_context
def user_disable(ctx: _Context, username: str) -> None:
    """Disable an account: it cannot sign in and its tokens stop working at once."""
    from linzhang.identity.service import set_active

    _change_account(ctx, username, lambda session, _container, user_id: set_active(session, user_id, active=False))
    click.echo(f"账号 {username} 已停用，其令牌立即失效")


@user.command("enable")
@click.argument("username")
@pass_context
def user_enable(ctx: _Context, username: str) -> None:
    """Enable a disabled account again."""
    from linzhang.identity.service import set_active

    _change_account(ctx, username, lambda session, _container, user_id: set_active(session, user_id, active=True))
    click.echo(f"账号 {username} 已启用")


@user.command("list")
@click.option("--limit", default=100, type=click.IntRange(1, 10_000), help="Accounts to list.")
@click.option("--after", "after_id", default=0, type=click.IntRange(0, 2**31 - 1), help="List accounts after this id.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line with the English codes (for scripts).")
@pass_context
def user_list(ctx: _Context, limit: int, after_id: int, as_json: bool) -> None:
    """Accounts in id order: id, username, role, jurisdiction, status, display name (tab-separated)."""
    from linzhang.identity.service import list_users

    with _container(ctx) as container, container.reading() as session:
        users = list_users(session, after_id=after_id, limit=limit)
    for account in users:
        if as_json:
            record = {
                "id": account.id,
                "username": account.username,
                "role": account.role.value,
                "jurisdiction_code": account.jurisdiction_code,
                "active": account.active,
                "display_name": account.display_name,
            }
            click.echo(json.dumps(record, ensure_ascii=False))
            continue
        fields = [
            str(account.id),
            account.username,
            ROLE[account.role.value],
            account.jurisdiction_code or "-",
            "启用" if account.active else "停用",
            account.display_name,
        ]
        click.echo("\t".join(fields))


@cli.group()
def calendar() -> None:
    """The working-day calendar: which years it knows, and the office's entries for new ones."""


@calendar.command("show")
@click.argument("year", required=False, type=click.IntRange(1900, 2999))
@pass_context
def calendar_show(ctx: _Context, year: int | None) -> None:
    """A year's coverage, holidays (weekdays off) and make-up workdays (default: this year and next)."""
    from linzhang.clock import SHANGHAI
    from linzhang.workdays import report_year

    with _container(ctx) as container:
        today = container.clock.now().astimezone(SHANGHAI).date()
        years = [year] if year is not None else [today.year, today.year + 1]
        for shown in years:
            report = report_year(container.calendar, shown)
            source = {"office": "林长办录入", "file": "config/calendar.toml", "official": "国家法定节假日数据"}
            if report.covered:
                click.echo(f"{shown} 年：已覆盖（来源：{source[report.source]}）")
            else:
                click.echo(
                    f"{shown} 年：未覆盖 —— 按周一至周五工作计算，涉及该年的期限为暂定；"
                    f"请用 `linzhang calendar set-year {shown}` 录入国务院公布的安排"
                )
            named = [f"{day.isoformat()}{f' {name}' if name else ''}" for day, name in report.holidays]
            click.echo(f"  假日（工作日放假）{len(named)} 天：{'、'.join(named) or '无'}")
            click.echo(
                f"  调休上班（周末上班）{len(report.workdays)} 天："
                f"{'、'.join(day.isoformat() for day in report.workdays) or '无'}"
            )


def _parse_days(text: str, option: str) -> list[Any]:
    """``2027-02-05..2027-02-11,2027-04-05`` -> the dates, ranges inclusive."""
    import datetime as dt

    days: list[dt.date] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        first, _, last = part.partition("..")
        try:
            start = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if last else start
        except ValueError:
            raise click.BadParameter(
                f"{part!r} 不是日期（YYYY-MM-DD）或日期范围（起..止）", param_hint=option
            ) from None
        if end < start:
            raise click.BadParameter(f"{part!r}：结束日期早于开始日期", param_hint=option)
        while start <= end:
            days.append(start)
            start += dt.timedelta(days=1)
    return days


def _days_from_file(file: Path, year: int) -> tuple[list[Any], list[Any]]:
    import datetime as dt
    import tomllib

    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{file} 不是有效的 TOML：{exc}", param_hint="--file") from None
    raw = raw.get("years", {}).get(str(year), raw)
    found: list[list[dt.date]] = []
    for key in ("holidays", "workdays"):
        values = raw.get(key, [])
        if not isinstance(values, list) or not all(
            isinstance(day, dt.date) and not isinstance(day, dt.datetime) for day in values
        ):
            raise click.BadParameter(f"{file}：{key} 须是日期列表，如 [2027-02-08]", param_hint="--file")
        found.append(values)
    return found[0], found[1]


@calendar.command("set-year")
@click.argument("year", type=click.IntRange(1900, 2999))
@click.option("--holidays", default="", help="Weekdays off: dates and ranges, e.g. 2027-02-05..2027-02-11,2027-04-05.")
@click.option("--workdays", default="", help="Weekend days worked (调休上班), e.g. 2027-02-20,2027-09-26.")
@click.option(
    "--file",
    "file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML file with holidays = [...] and workdays = [...] (or [years.YYYY] sections).",
)
@pass_context
def calendar_set_year(ctx: _Context, year: int, holidays: str, workdays: str, file: Path | None) -> None:
    """Enter a year's published holiday schedule (国务院办公厅通知); it replaces any earlier entry for the year.

    Every running server, worker and scheduler reads it within [calendar] refresh_seconds.
    """
    from linzhang.workdays import CalendarError, check_year_entry, enter_year

    if file is not None and (holidays or workdays):
        raise click.UsageError("give --file, or --holidays/--workdays, not both")
    if file is not None:
        off, worked = _days_from_file(file, year)
    else:
        off, worked = _parse_days(holidays, "--holidays"), _parse_days(workdays, "--workdays")
    if not off:
        raise click.UsageError("a year's schedule has holidays: give --holidays or --file")
    try:
        entry = check_year_entry(year, off, worked)
    except CalendarError as exc:
        raise click.ClickException(str(exc)) from None
    with _container(ctx) as container, container.transaction() as session:
        enter_year(session, entry, "cli", container.wall_clock.now())
    click.echo(f"{year} 年已录入：假日 {len(entry.holidays)} 天，调休上班 {len(entry.workdays)} 天")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"linzhang: {exc}", err=True)
        sys.exit(2)
