"""The periodic jobs' shared record: runs, failures, the last success and failure, items handled.

Every scheduler writes here after each run of a job, so the record (and the metrics read from it)
covers the whole deployment, whichever scheduler ran the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.tables import job_runs_table as j
from linzhang.db import dialect_insert


@dataclass(frozen=True, slots=True)
class JobRecord:
    job: str
    runs: int
    failures: int
    items: int
    last_started_at: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_duration_seconds: float | None


def record_job_run(
    session_factory: sessionmaker[Session],
    job: str,
    started_at: datetime,
    finished_at: datetime,
    *,
    succeeded: bool,
    duration_seconds: float,
    items: int = 0,
) -> None:
    """Count one run of ``job`` (an upsert: concurrent schedulers each add theirs)."""
    with session_factory() as session, session.begin():
        failed = 0 if succeeded else 1
        statement = dialect_insert(session, j).values(
            job=job,
            runs=1,
            failures=failed,
            items=items,
            last_started_at=started_at,
            last_success_at=finished_at if succeeded else None,
            last_failure_at=None if succeeded else finished_at,
            last_duration_seconds=duration_seconds,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[j.c.job],
            set_={
                "runs": j.c.runs + 1,
                "failures": j.c.failures + failed,
                "items": j.c["items"] + items,
                "last_started_at": started_at,
                "last_success_at": finished_at if succeeded else j.c.last_success_at,
                "last_failure_at": j.c.last_failure_at if succeeded else finished_at,
                "last_duration_seconds": duration_seconds,
            },
        )
        session.execute(statement)


def job_records(session: Session) -> list[JobRecord]:
    rows = session.execute(select(j).order_by(j.c.job)).all()
    return [
        JobRecord(
            r.job,
            r.runs,
            r.failures,
            r._mapping["items"],
            r.last_started_at,
            r.last_success_at,
            r.last_failure_at,
            r.last_duration_seconds,
        )
        for r in rows
    ]
