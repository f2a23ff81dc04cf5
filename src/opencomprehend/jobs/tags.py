"""Resource tags: key-value pairs on any resource's ARN (jobs of every kind, recognizers, endpoints).

The rules on what a tag may be (how many, reserved keys) are the API's (service/tags.py); this is only where
they are kept. A key is unique per resource, case-sensitive; setting it again overwrites its value.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import Connection

from opencomprehend.jobs.schema import tags


class TagStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def insert(conn: Connection, resource_arn: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Tag a resource created in this same transaction (its ARN has no tags yet)."""
        for key, value in pairs:
            conn.execute(insert(tags).values(resource_arn=resource_arn, tag_key=key, tag_value=value))

    def add(self, resource_arn: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Set these tags on the resource, overwriting the value of a key it already has."""
        with self.engine.begin() as conn:
            for key, value in pairs:
                conn.execute(delete(tags).where(tags.c.resource_arn == resource_arn, tags.c.tag_key == key))
                conn.execute(insert(tags).values(resource_arn=resource_arn, tag_key=key, tag_value=value))

    def of(self, resource_arn: str) -> list[tuple[str, str]]:
        """The resource's tags, by key."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(tags.c.tag_key, tags.c.tag_value)
                .where(tags.c.resource_arn == resource_arn)
                .order_by(tags.c.tag_key)
            )
            return [(r.tag_key, r.tag_value) for r in rows]

    def remove(self, resource_arn: str, keys: Iterable[str]) -> None:
        """Delete these keys from the resource; a key it does not have is not an error."""
        wanted = list(keys)
        if not wanted:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(tags).where(tags.c.resource_arn == resource_arn, tags.c.tag_key.in_(wanted)))

    def remove_all(self, resource_arn: str) -> None:
        """Forget every tag of a resource that is gone."""
        with self.engine.begin() as conn:
            conn.execute(delete(tags).where(tags.c.resource_arn == resource_arn))
