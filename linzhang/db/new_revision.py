"""Generate a migration from the difference between the tables and an upgraded scratch database.

Usage: ``python -m linzhang.db.new_revision "what changed"``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from linzhang.db.migrate import MIGRATIONS, alembic_config, upgrade


def main() -> None:
    message = " ".join(sys.argv[1:]) or "change"
    existing = sorted(p.name for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    rev_id = f"{len(existing) + 1:04d}"
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        upgrade(engine)
        command.revision(alembic_config(engine), message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()


if __name__ == "__main__":
    main()
