"""What every kind of record (jobs, recognizers, endpoints) does alike: lookups, scoping, idempotent creation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic

from sqlalchemy import Column, ColumnElement, Engine, Table, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from opencomprehend.jobs.rows import R
from opencomprehend.jobs.tags import TagStore


class IdempotencyMismatch(Exception):
    """The ClientRequestToken was already used with different parameters."""


class NameTaken(Exception):
    """A record with the same unique name already exists in this account and region."""


class Records(Generic[R]):
    """A table of records keyed by `key`, each owned by an account in a region, created with a token, and read
    as `record` (a jobs.rows dataclass whose fields are the table's columns)."""

    def __init__(
        self, engine: Engine, table: Table, record: type[R], key: Column[Any], arn: Column[Any] | None = None
    ) -> None:
        self.engine = engine
        self.table = table
        self.record = record
        self.key = key
        self.arn = arn  # the column tags are keyed by, when it is not the key itself

    def get(self, key: str) -> R | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(self.table).where(self.key == key)).first()
        return self.record.from_row(found._mapping) if found else None

    def current(self, key: str) -> R:
        """The record as it stands now, when it is known to exist: just created, or just taken by this node
        (only its holder may delete a recognizer; a job row is never deleted)."""
        found = self.get(key)
        assert found is not None, key
        return found

    def get_for(self, account_id: str, region: str, key: str) -> R | None:
        """The record, only if it belongs to this account and region (others are as good as absent)."""
        found = self.get(key)
        if found is None or found.account_id != account_id or found.region != region:
            return None
        return found

    def _by_token(self, account_id: str, region: str, token: str) -> R | None:
        # A token is the caller's in one account and one region, as every other resource is.
        c = self.table.c
        with self.engine.connect() as conn:
            found = conn.execute(
                select(self.table).where(
                    c.account_id == account_id, c.region == region, c.client_request_token == token
                )
            ).first()
        return self.record.from_row(found._mapping) if found else None

    def create_once(self, row: dict[str, Any], tags: list[tuple[str, str]] | None = None) -> tuple[R, bool]:
        """Insert a record (with its tags, in the same transaction), or return the one its token already made.

        The same token with other parameters (another request_hash) raises IdempotencyMismatch; a unique
        name that is taken raises NameTaken. Returns (record, created).
        """
        scope = (row["account_id"], row["region"], row["client_request_token"])
        existing = self._by_token(*scope)
        if existing is None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(self.table).values(**row))
                    if tags:
                        arn = row[(self.arn if self.arn is not None else self.key).name]
                        TagStore.insert(conn, arn, tags)
                return self.current(row[self.key.name]), True
            except IntegrityError:
                # Either a concurrent request with the same token won, or the name is taken.
                existing = self._by_token(*scope)
                if existing is None:
                    raise NameTaken(row[self.key.name]) from None
        if existing.request_hash != row["request_hash"]:
            raise IdempotencyMismatch(row["client_request_token"])
        return existing, False

    def list(
        self,
        account_id: str,
        region: str,
        equal: Mapping[str, Any],
        time: str,
        before: float | None,
        after_time: float | None,
        after: tuple[float, str] | None,
        ascending: bool,
        limit: int,
    ) -> list[R]:
        """One page of an account's records in a region: those whose columns equal `equal`'s values (None:
        any), with `time` before `before` and after `after_time` (None: no bound), in the order of `page`.

        Every List operation's filter is such a conjunction (Comprehend's filters AND their members)."""
        c = self.table.c
        conditions = [c.account_id == account_id, c.region == region]
        conditions += [c[name] == value for name, value in equal.items() if value is not None]
        if before is not None:
            conditions.append(c[time] < before)
        if after_time is not None:
            conditions.append(c[time] > after_time)
        return self.page(conditions, c[time], after, ascending, limit)

    def page(
        self,
        conditions: list[ColumnElement[bool]],
        time: Column[Any],
        after: tuple[float, str] | None,
        ascending: bool,
        limit: int,
    ) -> list[R]:
        """Records matching `conditions`, ordered by (time, key), starting after the (time, key) given.

        Keyset paging: a page never skips or repeats a record, even when records share a time.
        """
        conditions = list(conditions)
        if after is not None:
            at, key = after
            if ascending:
                conditions.append(or_(time > at, and_(time == at, self.key > key)))
            else:
                conditions.append(or_(time < at, and_(time == at, self.key < key)))
        order = (time.asc(), self.key.asc()) if ascending else (time.desc(), self.key.desc())
        query = select(self.table).where(*conditions).order_by(*order).limit(limit)
        with self.engine.connect() as conn:
            return [self.record.from_row(r._mapping) for r in conn.execute(query)]


class RecordStore(Generic[R]):
    """A store of one kind of record over its Records: create once, and get by key (for an account or not)."""

    _records: Records[R]

    def create(self, row: dict[str, Any], tags: list[tuple[str, str]] | None = None) -> tuple[R, bool]:
        """Insert a record (its columns' values) and its tags; a reused token returns the original (same
        parameters) or raises."""
        return self._records.create_once(row, tags)

    def get(self, key: str) -> R | None:
        return self._records.get(key)

    def get_for(self, account_id: str, region: str, key: str) -> R | None:
        return self._records.get_for(account_id, region, key)


class Leases:
    """The lease of a table whose rows one node works on at a time (jobs, recognizers in training): the node
    named in `lease_owner` holds a row until `lease_expires`, and only the holder may extend or end it (one
    conditional UPDATE each, so two nodes never both hold a row)."""

    def __init__(self, engine: Engine, table: Table, key: Column[Any]) -> None:
        self.engine = engine
        self.table = table
        self.key = key

    def extend(self, key: str, owner: str, expires: float) -> str | None:
        """Extend the lease to `expires`; the row's status, or None when another node holds it now."""
        c = self.table.c
        with self.engine.begin() as conn:
            held = conn.execute(
                update(self.table).where(self.key == key, c.lease_owner == owner).values(lease_expires=expires)
            ).rowcount
            if held != 1:
                return None
            return conn.execute(select(c.status).where(self.key == key)).scalar_one()

    def release(self, owner: str) -> None:
        """Give up every lease of this owner (a clean shutdown): any node may take its rows at once."""
        with self.engine.begin() as conn:
            conn.execute(update(self.table).where(self.table.c.lease_owner == owner).values(lease_expires=0.0))

    def end(self, key: str, owner: str, **values: Any) -> bool:
        """Set `values` and drop the lease, if this owner still holds it (False: another node took it)."""
        c = self.table.c
        with self.engine.begin() as conn:
            ended = conn.execute(
                update(self.table)
                .where(self.key == key, c.lease_owner == owner)
                .values(lease_owner=None, lease_expires=None, **values)
            )
            return ended.rowcount == 1
