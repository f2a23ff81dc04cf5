"""Durable endpoint records: a name for a trained recognizer that DetectEntities can use."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select, update

from opencomprehend.jobs.records import Records, RecordStore
from opencomprehend.jobs.rows import Endpoint
from opencomprehend.jobs.schema import endpoints

IN_SERVICE = "IN_SERVICE"


@dataclass(frozen=True)
class EndpointFilter:
    model_arn: str | None = None
    status: str | None = None
    creation_time_before: float | None = None
    creation_time_after: float | None = None


class EndpointStore(RecordStore[Endpoint]):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._records = Records(engine, endpoints, Endpoint, endpoints.c.endpoint_arn)

    def list(
        self, account_id: str, region: str, where: EndpointFilter, after: tuple[float, str] | None, limit: int
    ) -> list[Endpoint]:
        return self._records.list(
            account_id, region, {"model_arn": where.model_arn, "status": where.status},
            "creation_time", where.creation_time_before, where.creation_time_after, after, False, limit,
        )  # fmt: skip

    def inference_units(self) -> list[tuple[str, int]]:
        """(endpoint ARN, DesiredInferenceUnits) of every endpoint of every account, for the metrics."""
        c = endpoints.c
        with self.engine.connect() as conn:
            return [(arn, units) for arn, units in conn.execute(select(c.endpoint_arn, c.desired_inference_units))]

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
