"""Durable endpoint records: a name for a trained recognizer that DetectEntities can use."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from opencomprehend.jobs.schema import endpoints
from opencomprehend.jobs.store import IdempotencyMismatch

IN_SERVICE = "IN_SERVICE"


class EndpointNameTaken(Exception):
    """An endpoint of that name already exists in this account and region."""


@dataclass(frozen=True)
class EndpointFilter:
    model_arn: str | None = None
    status: str | None = None
    creation_time_before: float | None = None
    creation_time_after: float | None = None


class EndpointStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, row: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(endpoints).where(
                    endpoints.c.account_id == row["account_id"],
                    endpoints.c.client_request_token == row["client_request_token"],
                )
            ).first()
        if found is not None:
            existing = dict(found._mapping)
            if existing["request_hash"] != row["request_hash"]:
                raise IdempotencyMismatch(row["client_request_token"])
            return existing, False
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(endpoints).values(**row))
        except IntegrityError:
            raise EndpointNameTaken(row["endpoint_arn"]) from None
        return self.get(row["endpoint_arn"]), True  # type: ignore[return-value]

    def get(self, arn: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(endpoints).where(endpoints.c.endpoint_arn == arn)).first()
        return dict(found._mapping) if found else None

    def get_for(self, account_id: str, region: str, arn: str) -> dict[str, Any] | None:
        found = self.get(arn)
        if found is None or found["account_id"] != account_id or found["region"] != region:
            return None
        return found

    def list(
        self, account_id: str, region: str, where: EndpointFilter, after: tuple[float, str] | None, limit: int
    ) -> list[dict[str, Any]]:
        c = endpoints.c
        conditions = [c.account_id == account_id, c.region == region]
        if where.model_arn is not None:
            conditions.append(c.model_arn == where.model_arn)
        if where.status is not None:
            conditions.append(c.status == where.status)
        if where.creation_time_before is not None:
            conditions.append(c.creation_time < where.creation_time_before)
        if where.creation_time_after is not None:
            conditions.append(c.creation_time > where.creation_time_after)
        if after is not None:
            at, arn = after
            conditions.append(or_(c.creation_time < at, and_(c.creation_time == at, c.endpoint_arn < arn)))
        query = select(endpoints).where(*conditions).order_by(c.creation_time.desc(), c.endpoint_arn.desc())
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query.limit(limit))]

    def using_model(self, model_arn: str) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(endpoints.c.endpoint_arn).where(endpoints.c.model_arn == model_arn)).all())

    def update(self, arn: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(endpoints)
                .where(endpoints.c.endpoint_arn == arn)
                .values(last_modified_time=time.time(), **values)
            )

    def remove(self, arn: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(endpoints).where(endpoints.c.endpoint_arn == arn))
