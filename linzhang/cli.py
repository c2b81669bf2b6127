"""The ``linzhang`` command."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from linzhang.settings import Settings, SettingsError, load_settings


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
    from linzhang.db import create_db_engine
    from linzhang.db.migrate import upgrade

    engine = create_db_engine(ctx.settings)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()
    click.echo(f"database at {engine.url.render_as_string(hide_password=True)} is at {revision}")


@cli.command()
@click.option("--host", default=None, help="Address to bind (default: [http] host).")
@click.option("--port", default=None, type=int, help="Port (default: [http] port).")
@pass_context
def serve(ctx: _Context, host: str | None, port: int | None) -> None:
    """The web app and API; without a Redis URL also the in-process workers, relay and sweeper."""
    import uvicorn

    from linzhang.app import create_app
    from linzhang.bootstrap import bootstrap

    settings = ctx.settings
    app = create_app(container=bootstrap(settings))
    uvicorn.run(
        app,
        host=host or settings.http.host,
        port=port or settings.http.port,
        log_config=None,
        access_log=False,
    )


def _require_redis(settings: Settings, command: str) -> None:
    if not settings.redis_url:
        raise click.UsageError(
            f"`linzhang {command}` serves the Redis broker: set LINZHANG_REDIS_URL. "
            "Without it, `linzhang serve` runs workers and scheduler in-process."
        )


@cli.command()
@click.option("--threads", default=None, type=int, help="Worker threads (default: [bus] worker_threads).")
@pass_context
def worker(ctx: _Context, threads: int | None) -> None:
    """Dramatiq workers on the Redis broker; run as many as needed."""
    _require_redis(ctx.settings, "worker")
    stop = _wait_for_signal()
    with _container(ctx) as container:
        running = container.bus.start_worker(threads)
        click.echo(f"worker running with {running.worker_threads} threads", err=True)
        stop.wait()
        running.stop()


@cli.command()
@pass_context
def scheduler(ctx: _Context) -> None:
    """Relay, redelivery and periodic jobs for the Redis broker; safe to run more than one."""
    _require_redis(ctx.settings, "scheduler")
    stop = _wait_for_signal()
    with _container(ctx) as container:
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
            click.echo(f"sent {container.bus.relay_all()} deliveries")
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

    from linzhang.domains.tasks.escalation import sweep as run_sweep
    from linzhang.domains.tasks.service import TasksContext
    from linzhang.errors import LinzhangError

    with _container(ctx) as container:
        if as_of is None:
            when = container.clock.now()
        else:
            try:
                when = dt.datetime.fromisoformat(as_of)
            except ValueError:
                raise click.BadParameter(f"{as_of!r} is not an ISO-8601 time", param_hint="--as-of") from None
            if when.tzinfo is None:
                raise click.BadParameter("give a time zone, e.g. +08:00", param_hint="--as-of")
        try:
            with container.transaction() as session:
                result = run_sweep(session, TasksContext.of(container), when, "cli")
        except LinzhangError as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(f"escalated {result.escalated} tasks as of {result.as_of.isoformat()}")


@cli.group()
def bus() -> None:
    """Dead deliveries: list and re-drive."""


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
        click.echo("no dead deliveries")
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
        raise click.UsageError("name delivery ids, or --all")
    if delivery_ids and everything:
        raise click.UsageError("name delivery ids or --all, not both")
    with _container(ctx) as container:
        count = redrive(container.session_factory, None if everything else list(delivery_ids))
    click.echo(f"re-drove {count} deliveries")


@cli.command()
@click.option("--villages", default=300, show_default=True, type=click.IntRange(0, 100_000))
@pass_context
def demo(ctx: _Context, villages: int) -> None:
    """Load the demo: Chongqing's divisions, villages, chiefs and accounts (once)."""
    from linzhang.demo import DEMO_PASSWORD, load_demo

    with _container(ctx) as container:
        # Its events wait in the outbox for the server's relay (or the scheduler) to deliver them.
        report = load_demo(container, villages=villages)
    if not report.loaded:
        click.echo("the demo is loaded already")
        return
    click.echo(f"demo loaded: {report.jurisdictions} jurisdictions, {report.chiefs} chiefs, {report.tasks} tasks")
    click.echo(f"sign in as {', '.join(report.accounts)} with the password {DEMO_PASSWORD}")


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
            raise click.ClickException(f"{file}: {exc}; nothing was imported") from None
    click.echo(f"{file}: {report.created} created, {report.renamed} renamed, {report.unchanged} unchanged")


@import_.command("plan")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def import_plan(ctx: _Context, file: Path) -> None:
    """Create the city-level tasks of an annual work plan (config/plans/*.toml), idempotently."""
    from linzhang.domains.tasks.plans import PlanError, read_plan
    from linzhang.domains.tasks.plans import import_plan as run_import
    from linzhang.domains.tasks.service import TasksContext

    with _container(ctx) as container:
        context = TasksContext.of(container)
        try:
            plan = read_plan(file)
            with container.transaction() as session:
                report = run_import(session, context, plan)
        except PlanError as exc:
            raise click.ClickException(f"{exc}; nothing was imported") from None
    click.echo(f"plan {report.plan_key}: {report.created} tasks created, {report.unchanged} already there")


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
@pass_context
def user_create(
    ctx: _Context,
    username: str,
    password: str,
    role: str,
    jurisdiction_code: str | None,
    grants: tuple[str, ...],
    display_name: str | None,
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
                        raise click.BadParameter(f"no jurisdiction {jurisdiction_code}", param_hint="--jurisdiction")
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
    click.echo(f"created {created.role.value} account {created.username} (id {created.id})")


def _change_account(ctx: _Context, username: str, change: Any) -> Any:
    """Run ``change(session, container, user_id)`` on the account named ``username`` in one transaction."""
    from linzhang.errors import LinzhangError
    from linzhang.identity.service import find_user

    with _container(ctx) as container:
        try:
            with container.transaction() as session:
                found = find_user(session, username)
                if found is None:
                    raise click.ClickException(f"no account {username}")
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
    click.echo(f"password of {username} changed; its tokens no longer work")


@user.command("disable")
@click.argument("username")
@pass_context
def user_disable(ctx: _Context, username: str) -> None:
    """Disable an account: it cannot sign in and its tokens stop working at once."""
    from linzhang.identity.service import set_active

    _change_account(ctx, username, lambda session, _container, user_id: set_active(session, user_id, active=False))
    click.echo(f"{username} disabled")


@user.command("enable")
@click.argument("username")
@pass_context
def user_enable(ctx: _Context, username: str) -> None:
    """Enable a disabled account again."""
    from linzhang.identity.service import set_active

    _change_account(ctx, username, lambda session, _container, user_id: set_active(session, user_id, active=True))
    click.echo(f"{username} enabled")


@user.command("list")
@click.option("--limit", default=100, type=click.IntRange(1, 10_000), help="Accounts to list.")
@click.option("--after", "after_id", default=0, type=click.IntRange(0, 2**31 - 1), help="List accounts after this id.")
@pass_context
def user_list(ctx: _Context, limit: int, after_id: int) -> None:
    """Accounts in id order: id, username, role, jurisdiction, status, display name (tab-separated)."""
    from linzhang.identity.service import list_users

    with _container(ctx) as container, container.reading() as session:
        users = list_users(session, after_id=after_id, limit=limit)
    for account in users:
        status = "active" if account.active else "disabled"
        click.echo(
            "\t".join(
                [
                    str(account.id),
                    account.username,
                    account.role.value,
                    account.jurisdiction_code or "-",
                    status,
                    account.display_name,
                ]
            )
        )


def main() -> None:
    try:
        cli(standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"linzhang: {exc}", err=True)
        sys.exit(2)
