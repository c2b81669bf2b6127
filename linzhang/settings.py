"""Typed settings: ``default.toml`` overridden by ``LINZHANG_*`` environment variables.

Configuration files come in two layers (docs/adr/0015-packaged-defaults-and-a-config-override-dir.md):
the defaults that travel inside the package (``linzhang/defaults/``) and a deployment's config folder
(``LINZHANG_CONFIG_DIR``, else ``./config``) that overrides them. :func:`config_file` is the one way to
find a configuration file: the config folder's copy if it has one, else the packaged default. For
``default.toml`` the two layers merge key by key, so a deployment's file names only what it changes.

Every key lives in a section; the environment variable for ``[bus] max_attempts`` is
``LINZHANG_BUS_MAX_ATTEMPTS``. A few keys also answer to the short names the deployment guide uses
(``LINZHANG_DATABASE_URL``, ``LINZHANG_REDIS_URL``, ``LINZHANG_SECRET_KEY``). Loading validates every
value; an invalid one raises :class:`SettingsError` naming the key, and start-up stops there.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]

ENV_PREFIX = "LINZHANG_"
# Short environment names used by the deployment guide, mapped to (section, key).
ENV_ALIASES: dict[str, tuple[str, str]] = {
    "LINZHANG_SECRET_KEY": ("security", "secret_key"),
}


class SettingsError(Exception):
    """A setting is missing, unknown or has a value of the wrong kind."""


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class PathSettings(_Section, frozen=True, forbid_unknown_fields=True):
    var_dir: str = "var"


class DatabaseSettings(_Section, frozen=True, forbid_unknown_fields=True):
    url: str = ""
    echo: bool = False
    pool_size: PositiveInt = 10
    max_overflow: Annotated[int, msgspec.Meta(ge=0)] = 20
    sqlite_busy_timeout_seconds: PositiveFloat = 30.0


class RedisSettings(_Section, frozen=True, forbid_unknown_fields=True):
    url: str = ""


class SecuritySettings(_Section, frozen=True, forbid_unknown_fields=True):
    # Empty (generated) or at least 32 characters: HS256 keys shorter than the hash are guessable.
    secret_key: Annotated[str, msgspec.Meta(pattern=r"^(|.{32,})$")] = ""
    token_ttl_seconds: PositiveInt = 28800
    password_time_cost: PositiveInt = 3
    password_memory_kib: Annotated[int, msgspec.Meta(ge=8)] = 65536
    password_hash_threads: PositiveInt = 1
    password_hash_queue: PositiveInt = 64
    password_hash_nice: Annotated[int, msgspec.Meta(ge=0, le=19)] = 15
    password_min_length: Annotated[int, msgspec.Meta(ge=8, le=128)] = 10


class LoginSettings(_Section, frozen=True, forbid_unknown_fields=True):
    account_free_failures: Annotated[int, msgspec.Meta(ge=0)] = 5
    address_free_failures: Annotated[int, msgspec.Meta(ge=0)] = 20
    backoff_seconds: PositiveFloat = 1.0
    backoff_max_seconds: PositiveFloat = 900.0
    failure_window_seconds: PositiveInt = 3600
    refusal_delay_seconds: Annotated[float, msgspec.Meta(ge=0, le=60)] = 1.0


class HttpSettings(_Section, frozen=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: Port = 8000
    max_request_bytes: PositiveInt = 1_048_576
    max_json_depth: Annotated[int, msgspec.Meta(ge=4, le=256)] = 32
    max_page_size: PositiveInt = 500
    default_page_size: PositiveInt = 50


class BusSettings(_Section, frozen=True, forbid_unknown_fields=True):
    queue_name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]+$")] = "linzhang"
    relay_idle_seconds: PositiveFloat = 0.2
    relay_wake_delay_seconds: Annotated[float, msgspec.Meta(ge=0)] = 0.05
    relay_batch_size: PositiveInt = 500
    redelivery_timeout_seconds: PositiveFloat = 60.0
    redelivery_interval_seconds: PositiveFloat = 5.0
    max_attempts: PositiveInt = 5
    retry_backoff_seconds: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    retry_backoff_max_seconds: Annotated[float, msgspec.Meta(ge=0)] = 300.0
    worker_threads: PositiveInt = 8
    time_limit_ms: PositiveInt = 600_000
    urgent_subscribers: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.,\- ]*$")] = "tasks.rollup"
    max_in_flight: PositiveInt = 2000
    consume_batch_size: PositiveInt = 100

    @property
    def urgent(self) -> frozenset[str]:
        """The subscribers whose deliveries a worker takes before any other's it holds."""
        return frozenset(name.strip() for name in self.urgent_subscribers.split(",") if name.strip())


class EscalationSettings(_Section, frozen=True, forbid_unknown_fields=True):
    sweep_seconds: PositiveFloat = 60.0


class InboxSettings(_Section, frozen=True, forbid_unknown_fields=True):
    due_soon_workdays: Annotated[int, msgspec.Meta(ge=0, le=30)] = 3


class RetentionSettings(_Section, frozen=True, forbid_unknown_fields=True):
    events_days: PositiveInt = 180
    done_deliveries_days: PositiveInt = 7
    interval_seconds: PositiveFloat = 3600.0
    batch_size: PositiveInt = 5000


class MetricsSettings(_Section, frozen=True, forbid_unknown_fields=True):
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    host: str = "127.0.0.1"


class ClockSettings(_Section, frozen=True, forbid_unknown_fields=True):
    mode: Literal["system", "test"] = "system"
    skew_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 300.0
    test_clock_refresh_seconds: Annotated[float, msgspec.Meta(ge=0, le=60)] = 1.0
    test_clock_max_days_ahead: Annotated[int, msgspec.Meta(ge=1, le=36500)] = 3650


class CalendarSettings(_Section, frozen=True, forbid_unknown_fields=True):
    refresh_seconds: Annotated[float, msgspec.Meta(ge=0)] = 30.0


class WebSettings(_Section, frozen=True, forbid_unknown_fields=True):
    session_ttl_seconds: PositiveInt = 28800
    cookie_secure: bool = False
    board_refresh_seconds: Annotated[int, msgspec.Meta(ge=5)] = 60


class ReportsSettings(_Section, frozen=True, forbid_unknown_fields=True):
    issue_due_workdays: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 10


class MediaSettings(_Section, frozen=True, forbid_unknown_fields=True):
    store: Literal["local"] = "local"
    folder: str = ""
    max_photo_bytes: Annotated[int, msgspec.Meta(ge=1024, le=104_857_600)] = 10_485_760
    max_photo_pixels: Annotated[int, msgspec.Meta(ge=10_000, le=200_000_000)] = 40_000_000
    thumbnail_pixels: Annotated[int, msgspec.Meta(ge=32, le=2048)] = 320
    max_photos_per_report: Annotated[int, msgspec.Meta(ge=0, le=20)] = 4


class SignboardsSettings(_Section, frozen=True, forbid_unknown_fields=True):
    supervision_phone: Annotated[str, msgspec.Meta(max_length=40)] = "12345"
    public_base_url: Annotated[str, msgspec.Meta(pattern=r"^(|https?://[^\s/?#]+(/[^\s?#]*)?)$")] = ""
    reports_per_hour: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 5
    qr_size_cm: Annotated[float, msgspec.Meta(ge=2, le=100)] = 20.0


class LoggingSettings(_Section, frozen=True, forbid_unknown_fields=True):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json: bool | Literal["auto"] = "auto"


class Settings(_Section, frozen=True, forbid_unknown_fields=True):
    paths: PathSettings = PathSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    security: SecuritySettings = SecuritySettings()
    login: LoginSettings = LoginSettings()
    http: HttpSettings = HttpSettings()
    bus: BusSettings = BusSettings()
    escalation: EscalationSettings = EscalationSettings()
    inbox: InboxSettings = InboxSettings()
    clock: ClockSettings = ClockSettings()
    calendar: CalendarSettings = CalendarSettings()
    web: WebSettings = WebSettings()
    logging: LoggingSettings = LoggingSettings()
    retention: RetentionSettings = RetentionSettings()
    metrics: MetricsSettings = MetricsSettings()
    reports: ReportsSettings = ReportsSettings()
    media: MediaSettings = MediaSettings()
    signboards: SignboardsSettings = SignboardsSettings()
    config_dir: str = ""

    @property
    def var_path(self) -> Path:
        return Path(self.paths.var_dir).resolve()

    @property
    def media_path(self) -> Path:
        """Where the local photo store keeps its files: ``[media] folder``, else ``photos/`` under var."""
        return Path(self.media.folder).resolve() if self.media.folder else self.var_path / "photos"

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.var_path / 'linzhang.db'}"

    @property
    def redis_url(self) -> str | None:
        return self.redis.url or None

    @property
    def config_path(self) -> Path:
        """The deployment's config folder (overrides the packaged defaults)."""
        return Path(self.config_dir) if self.config_dir else default_config_dir()

    def config_file(self, name: str) -> Path:
        """The configuration file ``name`` for these settings (see :func:`config_file`)."""
        return config_file(name, self.config_path)


_DEFAULTS = Settings()
# The defaults that travel inside the package: settings, rubric, escalation, calendar, categories, plans.
DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"


def default_config_dir() -> Path:
    """The deployment's config folder: ``LINZHANG_CONFIG_DIR``, else ``config/`` in the working directory."""
    if env := os.environ.get("LINZHANG_CONFIG_DIR"):
        return Path(env)
    return Path.cwd() / "config"


def config_file(name: str, config_dir: Path | None = None) -> Path:
    """Where the configuration file ``name`` (``"escalation.toml"``, ``"plans/chongqing-2021.toml"``) is read.

    The config folder's copy when it has one, otherwise the packaged default. ``name`` is relative and
    stays inside both folders. The path answered may not exist (a file with no default, e.g. a plan
    only a deployment has).
    """
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"configuration file names are relative to the config folder: {name!r}")
    override = (config_dir or default_config_dir()) / relative
    if override.is_file():
        return override
    packaged = DEFAULTS_DIR / relative
    return packaged if packaged.is_file() else override


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}：不是有效的 TOML：{exc}") from None


def load_settings(
    config_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Read the packaged ``default.toml``, then ``config_dir``'s, then environment variables, then ``overrides``.

    ``overrides`` (``{"bus": {"max_attempts": 3}}``) is for tests and the command line.
    """
    config_dir = config_dir or default_config_dir()
    environ = os.environ if environ is None else environ
    raw: dict[str, dict[str, Any]] = {}
    for layer in (DEFAULTS_DIR / "default.toml", config_dir / "default.toml"):
        for section, values in _read_toml(layer).items():
            if not isinstance(values, dict):
                raise SettingsError(f"{layer}：[{section}] 不是一个节（section）")
            raw.setdefault(section, {}).update(values)
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "LINZHANG_CONFIG_DIR":
            continue
        target = ENV_ALIASES.get(name) or _env_target(name)
        if target is None:
            continue
        section, key = target
        # Values arrive as text; msgspec's lax conversion turns "3" into 3 and "true" into True.
        raw.setdefault(section, {})[key] = value
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update(values)
    raw_with_dir: dict[str, Any] = {**raw, "config_dir": str(config_dir)}
    try:
        return msgspec.convert(raw_with_dir, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_describe_validation_error(str(exc))) from None


def _env_target(name: str) -> tuple[str, str] | None:
    rest = name[len(ENV_PREFIX) :].lower()
    for section in Settings.__struct_fields__:
        if section == "config_dir":
            continue
        if rest.startswith(section + "_"):
            key = rest[len(section) + 1 :]
            if key in getattr(_DEFAULTS, section).__struct_fields__:
                return section, key
            raise SettingsError(f"未知的设置 {name}：[{section}] 中没有 {key!r}")
    return None


_PATH_RE = re.compile(r"at `\$\.(\w+)(?:\.(\w+))?`")


def _describe_validation_error(message: str) -> str:
    match = _PATH_RE.search(message)
    if not match:
        return f"设置无效：{message}"
    section, key = match.group(1), match.group(2)
    if key is None:
        return f"设置无效 [{section}]：{message}"
    env = f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
    return f"设置无效 {section}.{key}（环境变量 {env}）：{message}"


def ensure_secret_key(settings: Settings) -> str:
    """The token-signing key: the configured one, else one generated once and kept in var_dir."""
    if settings.security.secret_key:
        return settings.security.secret_key
    path = settings.var_path / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create with owner-only permissions; another process racing us wins and we read its key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key
