"""Durable job records: transitions, idempotency, leases and shard bookkeeping.

Every state change is one conditional UPDATE, so several API nodes and schedulers can share one
database (PostgreSQL) without stepping on each other; SQLite serves a single node.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, create_engine, delete, event, func, insert, or_, select, text, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from opencomprehend.jobs import migrate
from opencomprehend.jobs.errors import StoreUnavailable, create_missing_database, describe_database_error
from opencomprehend.jobs.records import Leases, Records, RecordStore
from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.schema import ENTITIES_JOB, job_shards, jobs

SUBMITTED = "SUBMITTED"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
STOP_REQUESTED = "STOP_REQUESTED"
STOPPED = "STOPPED"
TERMINAL = frozenset({COMPLETED, FAILED, STOPPED})


class InvalidTransition(Exception):
    """The job's state does not allow the requested change."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class JobFilter:
    kind: str | None = ENTITIES_JOB  # each List operation sees its own kind of job only; None: every kind
    job_name: str | None = None
    job_status: str | None = None
    submit_time_before: float | None = None
    submit_time_after: float | None = None
    newest_first: bool = False  # the console's order, whatever the filter

    @property
    def oldest_first(self) -> bool:
        # The model documents SubmitTimeBefore as oldest-to-newest; everything else is newest first.
        return not self.newest_first and self.submit_time_before is not None and self.submit_time_after is None


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def owner_id() -> str:
    """A lease owner name that lets a node on the same host tell a dead predecessor at once."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


def owner_is_gone(owner: str | None) -> bool:
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def open_engine(url: str) -> Engine:
    """The job store's database, migrated to the newest schema. A PostgreSQL database that does not exist is
    created when the URL's role may; a store that cannot be opened raises StoreUnavailable, one line why."""
    for attempt in (1, 2):
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            return engine
        except OperationalError as exc:
            engine.dispose()
            created, not_created = create_missing_database(url, exc) if attempt == 1 else (False, None)
            if created:
                continue
            raise StoreUnavailable(describe_database_error(url, exc, not_created)) from exc
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreUnavailable(describe_database_error(url, exc)) from exc
    raise AssertionError("unreachable")


class JobStore(RecordStore[Job]):
    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        """`clock`: the wall clock leases and end times are read from (epoch seconds; tests pass their own)."""
        self.clock = clock
        self.engine = open_engine(url)
        self._claim_lock = threading.Lock()
        self._records = Records(self.engine, jobs, Job, jobs.c.job_id, jobs.c.job_arn)
        self._leases = Leases(self.engine, jobs, jobs.c.job_id)

    def ping(self) -> None:
        """Raises if the job table cannot be read (a query that reaches the table, not just the connection)."""
        with self.engine.connect() as conn:
            conn.execute(select(jobs.c.job_id).limit(1)).all()

    def count_by_kind_and_status(self) -> list[tuple[str, str, int]]:
        """(job kind, status, how many jobs) over every account: one GROUP BY, for the metrics."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(jobs.c.job_kind, jobs.c.status, func.count()).group_by(jobs.c.job_kind, jobs.c.status)
            ).all()
        return [(kind, status, count) for kind, status, count in rows]

    # --- the API side -------------------------------------------------------------------------

    def create_job(self, row: dict[str, Any], tags: list[tuple[str, str]] | None = None) -> tuple[Job, bool]:
        """Insert a job and its tags; with a token already used, return the original (same parameters) or raise."""
        return self.create(row, tags)

    def list_jobs(
        self,
        account_id: str,
        region: str,
        job_filter: JobFilter,
        after: tuple[float, str] | None,
        limit: int,
    ) -> list[Job]:
        """One page of jobs; ``after`` is the (submit_time, job_id) of the previous page's last row."""
        f = job_filter
        return self._records.list(
            account_id, region, {"job_kind": f.kind, "job_name": f.job_name, "status": f.job_status},
            "submit_time", f.submit_time_before, f.submit_time_after, after, f.oldest_first, limit,
        )  # fmt: skip

    def request_stop(self, job_id: str) -> str:
        """SUBMITTED or IN_PROGRESS become STOP_REQUESTED; STOP_REQUESTED and STOPPED stay as they are."""
        with self.engine.begin() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.job_id == job_id, jobs.c.status.in_([SUBMITTED, IN_PROGRESS]))
                .values(status=STOP_REQUESTED)
            )
            status = conn.execute(select(jobs.c.status).where(jobs.c.job_id == job_id)).scalar_one()
        if status in (COMPLETED, FAILED):
            raise InvalidTransition(status)
        return status

    # --- the runtime side -----------------------------------------------------------------------

    def claim(self, owner: str, lease_s: float, max_active_per_account: int) -> list[Job]:
        """Take the work this node should run now: orphaned running jobs, then queued ones.

        A running job is orphaned when its lease expired, or when its owner was a process on this
        host that no longer exists (a restart takes its jobs back at once).
        """
        now = self.clock()
        claimed: list[Job] = []
        with self.engine.connect() as conn:
            running = [
                Job.from_row(r._mapping)
                for r in conn.execute(
                    select(jobs).where(
                        jobs.c.status.in_([IN_PROGRESS, STOP_REQUESTED]),
                        or_(jobs.c.lease_owner.is_(None), jobs.c.lease_owner != owner),
                    )
                )
            ]
        for job in running:
            expired = job.lease_expires is None or job.lease_expires < now
            if (expired or owner_is_gone(job.lease_owner)) and self._take_lease(job, owner, now + lease_s):
                claimed.append(self._records.current(job.job_id))

        with self.engine.connect() as conn:
            queued = [
                Job.from_row(r._mapping)
                for r in conn.execute(
                    select(jobs)
                    .where(
                        or_(
                            jobs.c.status == SUBMITTED,
                            and_(jobs.c.status == STOP_REQUESTED, jobs.c.lease_owner.is_(None)),
                        )
                    )
                    .order_by(jobs.c.submit_time, jobs.c.job_id)
                )
            ]
        full: set[str] = set()
        for job in queued:
            if job.status == SUBMITTED and job.account_id in full:
                continue
            taken = self._start_queued(job, owner, now + lease_s, max_active_per_account)
            if taken is None:
                full.add(job.account_id)
            elif taken:
                claimed.append(self._records.current(job.job_id))
        return claimed

    def _start_queued(self, job: Job, owner: str, expires: float, max_active: int) -> bool | None:
        """Move one queued job to this owner; None when its account already runs its maximum.

        Counting and claiming happen under one per-account lock (an advisory lock on PostgreSQL, a
        process lock on SQLite, which serves one node), so concurrent schedulers never exceed the limit.
        """
        with self._claim_lock, self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                key = int.from_bytes(hashlib.sha256(job.account_id.encode()).digest()[:8], "big", signed=True)
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            if job.status == SUBMITTED:
                active = conn.execute(
                    select(func.count()).where(
                        jobs.c.account_id == job.account_id,
                        jobs.c.status.in_([IN_PROGRESS, STOP_REQUESTED]),
                        jobs.c.lease_owner.is_not(None),
                    )
                ).scalar_one()
                if active >= max_active:
                    return None
            return (
                conn.execute(
                    update(jobs)
                    .where(
                        jobs.c.job_id == job.job_id,
                        jobs.c.status == job.status,
                        jobs.c.lease_owner.is_(None),
                    )
                    .values(
                        status=IN_PROGRESS if job.status == SUBMITTED else STOP_REQUESTED,
                        lease_owner=owner,
                        lease_expires=expires,
                    )
                ).rowcount
                == 1
            )

    def _take_lease(self, job: Job, owner: str, expires: float) -> bool:
        with self.engine.begin() as conn:
            previous = (
                jobs.c.lease_owner.is_(None)
                if job.lease_owner is None
                else (jobs.c.lease_owner == job.lease_owner)
            )
            return (
                conn.execute(
                    update(jobs)
                    .where(jobs.c.job_id == job.job_id, previous)
                    .values(lease_owner=owner, lease_expires=expires)
                ).rowcount
                == 1
            )

    def heartbeat(self, job_id: str, owner: str, lease_s: float) -> str | None:
        """Extend the lease; return the job's status, or None when another node holds it now."""
        return self._leases.extend(job_id, owner, self.clock() + lease_s)

    def release(self, owner: str) -> None:
        """Give up every lease of this owner (a clean shutdown), so any node may resume its jobs at once."""
        self._leases.release(owner)

    def finish(self, job_id: str, owner: str, status: str, message: str | None = None) -> bool:
        return self._leases.end(job_id, owner, status=status, message=message, end_time=self.clock())

    def record_shard(self, job_id: str, shard_no: int, documents: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(job_shards).values(
                    job_id=job_id, shard_no=shard_no, documents=documents, finished_at=self.clock()
                )
            )
            conn.execute(
                update(jobs).where(jobs.c.job_id == job_id).values(documents_done=jobs.c.documents_done + documents)
            )

    def record_total(self, job_id: str, documents: int) -> None:
        """How many documents the job's input holds (the console's "done of total")."""
        with self.engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.job_id == job_id).values(documents_total=documents))

    def finished_shards(self, job_id: str) -> set[int]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(job_shards.c.shard_no).where(job_shards.c.job_id == job_id)).scalars())

    def forget_shards(self, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(job_shards).where(job_shards.c.job_id == job_id))
