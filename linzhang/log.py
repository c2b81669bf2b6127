"""structlog set-up: JSON lines (or console lines), with request and event ids from context variables."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from linzhang.settings import LoggingSettings


def wants_json(settings: LoggingSettings, stream: TextIO) -> bool:
    """JSON lines unless configured otherwise; with ``auto``, readable lines on a terminal only."""
    if settings.json == "auto":
        return not stream.isatty()
    return settings.json


def configure_logging(settings: LoggingSettings) -> None:
    """Route structlog and the standard library's logging (Dramatiq, uvicorn) through one renderer."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if wants_json(settings, sys.stderr)
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # Dramatiq logs every message at DEBUG; keep it at the configured level but never chattier than INFO.
    logging.getLogger("dramatiq").setLevel(max(logging.INFO, logging.getLevelName(settings.level)))
