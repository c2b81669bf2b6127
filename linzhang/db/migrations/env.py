"""Alembic environment: runs on the engine handed over in ``config.attributes`` (see linzhang.db.migrate)."""

from __future__ import annotations

from alembic import context

from linzhang.bootstrap import import_table_modules
from linzhang.db.base import metadata

import_table_modules()

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
