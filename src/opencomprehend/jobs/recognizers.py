"""Durable custom entity recognizer records: versions, idempotency, training leases and deletion."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, or_, select, update

from opencomprehend.io.objects import ObjectStore
from opencomprehend.jobs.records import Leases, Records, RecordStore
from opencomprehend.jobs.rows import Recognizer, RecognizerSummary
from opencomprehend.jobs.schema import endpoints, jobs
from opencomprehend.jobs.schema import entity_recognizers as recognizers
from opencomprehend.jobs.store import InvalidTransition, owner_is_gone
from opencomprehend.runtime.models import fetch_model
from opencomprehend.runtime.runner import EngineRef, custom_engine_key
from opencomprehend.security.keyring import KeyRing

SUBMITTED = "SUBMITTED"
TRAINING = "TRAINING"
TRAINED = "TRAINED"
TRAINED_WITH_WARNING = "TRAINED_WITH_WARNING"
IN_ERROR = "IN_ERROR"
STOP_REQUESTED = "STOP_REQUESTED"
STOPPED = "STOPPED"
DELETING = "DELETING"
USABLE = frozenset({TRAINED, TRAINED_WITH_WARNING})
DELETABLE = frozenset({TRAINED, TRAINED_WITH_WARNING, IN_ERROR, STOPPED})
ACTIVE_JOB_STATES = ("SUBMITTED", "IN_PROGRESS", "STOP_REQUESTED")


class InUse(Exception):
    """A job that has not finished, or an endpoint, uses the recognizer: `endpoints` holds the endpoints'
    ARNs, `jobs` the unfinished jobs' ids."""

    def __init__(self, arn: str, endpoints: list[str], jobs: list[str]) -> None:
        super().__init__(arn)
        self.endpoints = endpoints
        self.jobs = jobs


@dataclass(frozen=True)
class RecognizerFilter:
    status: str | None = None
    recognizer_name: str | None = None
    submit_time_before: float | None = None
    submit_time_after: float | None = None

    @property
    def oldest_first(self) -> bool:
        # The model documents the recognizer orders the other way round from jobs: SubmitTimeAfter is
        # oldest first, everything else newest first.
        return self.submit_time_after is not None and self.submit_time_before is None


class RecognizerStore(RecordStore[Recognizer]):
    """Recognizers: create (a taken name raises NameTaken), get and get_for come from RecordStore."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._records = Records(engine, recognizers, Recognizer, recognizers.c.recognizer_arn)
        self._leases = Leases(engine, recognizers, recognizers.c.recognizer_arn)

    # --- the API side -------------------------------------------------------------------------

    def list(
        self,
        account_id: str,
        region: str,
        where: RecognizerFilter,
        after: tuple[float, str] | None,
        limit: int,
    ) -> list[Recognizer]:
        return self._records.list(
            account_id, region, {"status": where.status, "recognizer_name": where.recognizer_name},
            "submit_time", where.submit_time_before, where.submit_time_after, after, where.oldest_first, limit,
        )  # fmt: skip

    def summaries(self, account_id: str, region: str, after: str | None, limit: int) -> list[RecognizerSummary]:
        """One row per recognizer name, with its number of versions and its latest version."""
        c = recognizers.c
        conditions = [c.account_id == account_id, c.region == region]
        if after is not None:
            conditions.append(c.recognizer_name > after)
        with self.engine.connect() as conn:
            names = [
                (r.recognizer_name, r.versions)
                for r in conn.execute(
                    select(c.recognizer_name, func.count().label("versions"))
                    .where(*conditions)
                    .group_by(c.recognizer_name)
                    .order_by(c.recognizer_name)
                    .limit(limit)
                )
            ]
            out = []
            for name, versions in names:
                latest = conn.execute(
                    select(recognizers)
                    .where(c.account_id == account_id, c.region == region, c.recognizer_name == name)
                    .order_by(c.submit_time.desc(), c.recognizer_arn.desc())
                    .limit(1)
                ).one()
                out.append(RecognizerSummary(Recognizer.from_row(latest._mapping), versions))
        return out

    def request_stop(self, arn: str) -> str:
        """SUBMITTED or TRAINING become STOP_REQUESTED; STOP_REQUESTED and STOPPED stay; others refuse."""
        with self.engine.begin() as conn:
            conn.execute(
                update(recognizers)
                .where(recognizers.c.recognizer_arn == arn, recognizers.c.status.in_([SUBMITTED, TRAINING]))
                .values(status=STOP_REQUESTED)
            )
            status = conn.execute(select(recognizers.c.status).where(recognizers.c.recognizer_arn == arn)).scalar_one()
        if status not in (STOP_REQUESTED, STOPPED):
            raise InvalidTransition(status)
        return status

    def mark_deleting(self, arn: str) -> None:
        """Only a finished recognizer that no unfinished job or endpoint uses may go; it is then DELETING."""
        with self.engine.begin() as conn:
            status = conn.execute(select(recognizers.c.status).where(recognizers.c.recognizer_arn == arn)).scalar_one()
            if status not in DELETABLE:
                raise InvalidTransition(status)
            using_jobs = conn.execute(
                select(jobs.c.job_id)
                .where(jobs.c.entity_recognizer_arn == arn, jobs.c.status.in_(ACTIVE_JOB_STATES))
                .order_by(jobs.c.job_id)
            ).scalars().all()
            using_endpoints = conn.execute(
                select(endpoints.c.endpoint_arn).where(endpoints.c.model_arn == arn).order_by(endpoints.c.endpoint_arn)
            ).scalars().all()
            if using_jobs or using_endpoints:
                raise InUse(arn, list(using_endpoints), list(using_jobs))
            conn.execute(
                update(recognizers)
                .where(recognizers.c.recognizer_arn == arn, recognizers.c.status == status)
                .values(status=DELETING)
            )

    # --- the runtime side ---------------------------------------------------------------------

    def claim(self, owner: str, lease_s: float, capacity: int) -> list[Recognizer]:
        """Recognizers this node should train now (or finish stopping), up to `capacity` at a time.

        Training is not resumable: a recognizer whose trainer died starts training again.
        """
        now = time.time()
        c = recognizers.c
        with self.engine.connect() as conn:
            mine = conn.execute(
                select(func.count()).where(c.lease_owner == owner, c.status.in_([TRAINING, STOP_REQUESTED]))
            ).scalar_one()
            candidates = [
                Recognizer.from_row(r._mapping)
                for r in conn.execute(
                    select(recognizers)
                    .where(
                        or_(c.lease_owner.is_(None), c.lease_owner != owner),
                        c.status.in_([SUBMITTED, TRAINING, STOP_REQUESTED]),
                    )
                    .order_by(c.submit_time)
                )
            ]
        claimed: list[Recognizer] = []
        for row in candidates:
            if mine >= capacity and row.status != STOP_REQUESTED:
                continue
            orphaned = row.lease_owner is None or row.lease_expires < now or owner_is_gone(row.lease_owner)
            if not orphaned:
                continue
            previous = c.lease_owner.is_(None) if row.lease_owner is None else c.lease_owner == row.lease_owner
            values: dict[str, Any] = {"lease_owner": owner, "lease_expires": now + lease_s}
            if row.status == SUBMITTED:
                values.update(status=TRAINING, training_start_time=now)
            with self.engine.begin() as conn:
                taken = conn.execute(
                    update(recognizers)
                    .where(c.recognizer_arn == row.recognizer_arn, c.status == row.status, previous)
                    .values(**values)
                ).rowcount
            if taken == 1:
                mine += 1
                claimed.append(self._records.current(row.recognizer_arn))
        return claimed

    def heartbeat(self, arn: str, owner: str, lease_s: float) -> str | None:
        """Extend the training's lease; its status, or None when another node holds it now."""
        return self._leases.extend(arn, owner, time.time() + lease_s)

    def finish(self, arn: str, owner: str, status: str, message: str | None = None, **values: Any) -> bool:
        now = time.time()
        return self._leases.end(
            arn, owner, status=status, message=message, end_time=now, training_end_time=now, **values
        )

    def release(self, owner: str) -> None:
        """Give up this owner's training leases (a clean shutdown): they train again on any node."""
        self._leases.release(owner)

    def deleting(self) -> list[Recognizer]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(recognizers).where(recognizers.c.status == DELETING))
            return [Recognizer.from_row(r._mapping) for r in rows]

    def remove(self, arn: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(recognizers).where(recognizers.c.recognizer_arn == arn))


@dataclass(frozen=True)
class ModelResolver:
    """A trained recognizer's model as the engine a worker runs (a job with EntityRecognizerArn, DetectEntities
    with an EndpointArn): its stored model, unpacked once into this node's model cache (opened with the
    keyring when it was sealed under ModelKmsKeyId). Unpacking is file work only; workers load the model."""

    recognizers: RecognizerStore
    objects: ObjectStore
    cache: Path
    keys: KeyRing | None = None

    def engine(self, arn: str) -> EngineRef | None:
        """The engine of the recognizer's model; None when it has no usable trained model (gone, not trained,
        being deleted). StorageError when the stored model cannot be read or opened."""
        recognizer = self.recognizers.get(arn)
        if recognizer is None or recognizer.status not in USABLE or not recognizer.model_uri:
            return None
        folder = fetch_model(self.objects, recognizer.model_uri, self.cache, self.keys)
        return custom_engine_key(recognizer.language_code, folder)
