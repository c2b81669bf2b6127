"""Settings: defaults from config/default.toml, LINZHANG_* overrides, errors that name the key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from linzhang.settings import (
    DEFAULTS_DIR,
    Settings,
    SettingsError,
    config_file,
    default_config_dir,
    ensure_secret_key,
    load_settings,
)

CONFIG = DEFAULTS_DIR


def test_default_toml_holds_every_setting_and_nothing_else() -> None:
    raw = tomllib.loads((CONFIG / "default.toml").read_text(encoding="utf-8"))
    defaults = Settings()
    for section in Settings.__struct_fields__:
        if section == "config_dir":
            continue
        assert set(raw[section]) == set(getattr(defaults, section).__struct_fields__), section
    assert set(raw) == set(Settings.__struct_fields__) - {"config_dir"}


def test_every_key_in_default_toml_is_commented() -> None:
    lines = (CONFIG / "default.toml").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^\w+\s*=", line):
            assert lines[number - 1].startswith("#"), f"line {number + 1} ({line}) has no comment above it"


def test_file_values_are_loaded(tmp_path: Path) -> None:
    (tmp_path / "default.toml").write_text("[bus]\nmax_attempts = 7\n", encoding="utf-8")
    settings = load_settings(config_dir=tmp_path, environ={})
    assert settings.bus.max_attempts == 7
    assert settings.bus.worker_threads == Settings().bus.worker_threads


def test_environment_overrides_the_file() -> None:
    settings = load_settings(
        config_dir=CONFIG,
        environ={
            "LINZHANG_BUS_MAX_ATTEMPTS": "9",
            "LINZHANG_LOGGING_JSON": "false",
            "LINZHANG_HTTP_PORT": "8123",
            "LINZHANG_ESCALATION_SWEEP_SECONDS": "1.5",
        },
    )
    assert settings.bus.max_attempts == 9
    assert settings.logging.json is False
    assert settings.http.port == 8123
    assert settings.escalation.sweep_seconds == 1.5


def test_short_names_of_the_deployment_guide() -> None:
    settings = load_settings(
        config_dir=CONFIG,
        environ={
            "LINZHANG_DATABASE_URL": "postgresql+psycopg://u@db/linzhang",
            "LINZHANG_REDIS_URL": "redis://r:6379/0",
            "LINZHANG_SECRET_KEY": "s3cret-s3cret-s3cret-s3cret-s3cret",
        },
    )
    assert settings.database_url == "postgresql+psycopg://u@db/linzhang"
    assert settings.redis_url == "redis://r:6379/0"
    assert settings.security.secret_key == "s3cret-s3cret-s3cret-s3cret-s3cret"


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings(config_dir=CONFIG, environ={"LINZHANG_PATHS_VAR_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'linzhang.db'}"
    assert settings.redis_url is None


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"LINZHANG_BUS_MAX_ATTEMPTS": "many"}, "bus.max_attempts"),
        ({"LINZHANG_BUS_MAX_ATTEMPTS": "0"}, "bus.max_attempts"),
        ({"LINZHANG_HTTP_PORT": "70000"}, "http.port"),
        ({"LINZHANG_LOGGING_LEVEL": "CHATTY"}, "logging.level"),
        ({"LINZHANG_BUS_QUEUE_NAME": "has space"}, "bus.queue_name"),
        ({"LINZHANG_BUS_NO_SUCH_KEY": "1"}, "LINZHANG_BUS_NO_SUCH_KEY"),
        ({"LINZHANG_SECRET_KEY": "short"}, "security.secret_key"),
    ],
)
def test_invalid_setting_names_the_key(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(named)) as raised:
        load_settings(config_dir=CONFIG, environ=environ)
    # An operator reads it: the explanation is Chinese around the key's name.
    assert str(raised.value).startswith(("设置无效", "未知的设置"))


def test_unknown_key_in_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "default.toml").write_text("[bus]\nmax_atempts = 3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="max_atempts"):
        load_settings(config_dir=tmp_path, environ={})


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "default.toml").write_text("[bus\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="不是有效的 TOML"):
        load_settings(config_dir=tmp_path, environ={})


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(config_dir=CONFIG, environ={"LINZHANG_PATHS_VAR_DIR": str(tmp_path)})
    first = ensure_secret_key(settings)
    assert len(first) >= 32
    assert ensure_secret_key(settings) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_configured_secret_key_wins(tmp_path: Path) -> None:
    settings = load_settings(
        config_dir=CONFIG, environ={"LINZHANG_PATHS_VAR_DIR": str(tmp_path), "LINZHANG_SECRET_KEY": "given" * 8}
    )
    assert ensure_secret_key(settings) == "given" * 8
    assert not (tmp_path / "secret_key").exists()


def test_a_config_folder_overrides_packaged_files_and_falls_back_to_them(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "escalation.toml").write_text("# local\n", encoding="utf-8")
    (tmp_path / "plans" / "local.toml").write_text("# local plan\n", encoding="utf-8")
    assert config_file("escalation.toml", tmp_path) == tmp_path / "escalation.toml"
    assert config_file("plans/local.toml", tmp_path) == tmp_path / "plans" / "local.toml"
    assert config_file("assessment.toml", tmp_path) == DEFAULTS_DIR / "assessment.toml"
    assert config_file("plans/chongqing-2021.toml", tmp_path) == DEFAULTS_DIR / "plans" / "chongqing-2021.toml"
    # A file neither layer has is looked for in the config folder (and reported missing there).
    assert config_file("plans/none.toml", tmp_path) == tmp_path / "plans" / "none.toml"
    settings = load_settings(config_dir=tmp_path, environ={})
    assert settings.config_file("escalation.toml") == tmp_path / "escalation.toml"


def test_config_file_names_stay_inside_the_folders(tmp_path: Path) -> None:
    for name in ("../secret_key", "/etc/passwd", "plans/../../x.toml"):
        with pytest.raises(ValueError, match="relative"):
            config_file(name, tmp_path)


def test_a_config_folder_default_toml_changes_only_the_keys_it_names(tmp_path: Path) -> None:
    packaged = tomllib.loads((DEFAULTS_DIR / "default.toml").read_text(encoding="utf-8"))
    (tmp_path / "default.toml").write_text("[bus]\nworker_threads = 3\n", encoding="utf-8")
    settings = load_settings(config_dir=tmp_path, environ={})
    assert settings.bus.worker_threads == 3
    assert settings.bus.max_attempts == packaged["bus"]["max_attempts"]
    assert settings.http.port == packaged["http"]["port"]


def test_the_config_folder_is_the_environment_s_or_the_working_directory_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LINZHANG_CONFIG_DIR", raising=False)
    assert default_config_dir() == tmp_path / "config"
    monkeypatch.setenv("LINZHANG_CONFIG_DIR", str(tmp_path / "elsewhere"))
    assert default_config_dir() == tmp_path / "elsewhere"
    assert load_settings(environ={}).config_path == tmp_path / "elsewhere"
