"""The operator's security records in the job store: one truth for every node of a cluster.

API credentials, data access roles and the KMS keyring are rows of the job store's `security_records`
table (jobs/schema.py; SQLite on one node, PostgreSQL on a cluster), one kind each. A record is kept as
JSON with its secret fields sealed (Fernet) under the master key, so the database never holds a secret in
the clear, and every node needs the same master key (OPENCOMPREHEND_MASTER_KEY) to open them.

Every change raises the kind's version (`security_versions`) in the same transaction; a node reads one
small row per look-up and reads the records again only when that version moved. So a `credentials add`
or `remove` on any node, or by the CLI, takes effect on every node at its next request, without a restart.

Files from before (`<data-dir>/credentials.json`, `roles.json`, `keys.json`) are imported once: their
records are added (those not there already) and the file is renamed `<name>.imported`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from opencomprehend.security.files import RecordsFile, SecurityFileError, opened, sealed
from opencomprehend.security.schema import security_records, security_versions

log = logging.getLogger("opencomprehend.security")


class RecordsTable:
    """The records of one kind ("credentials", "roles", "keys"), secrets opened in memory only.

    `id_field` names the record's member that identifies it (unique within the kind).
    """

    def __init__(
        self, engine: Engine, kind: str, cipher: Fernet, id_field: str, secret_fields: tuple[str, ...] = ()
    ) -> None:
        self.engine = engine
        self.kind = kind
        self.id_field = id_field
        self._cipher = cipher
        self._secret_fields = secret_fields
        self._lock = threading.Lock()
        self._version: int | None = None
        self._records: list[dict[str, Any]] = []

    # -- reading ------------------------------------------------------------------------------------------

    def records(self) -> list[dict[str, Any]]:
        """Every record of the kind, secrets opened (read again whenever another node or the CLI changed one)."""
        with self.engine.connect() as conn:
            version = self._current_version(conn)
            with self._lock:
                if version != self._version or self._version is None:
                    rows = conn.execute(
                        select(security_records.c.body)
                        .where(security_records.c.kind == self.kind)
                        .order_by(security_records.c.created, security_records.c.record_id)
                    ).all()
                    self._records = [self._open(json.loads(row.body)) for row in rows]
                    self._version = version
                return [dict(record) for record in self._records]

    def _current_version(self, conn: Any) -> int:
        found = conn.execute(select(security_versions.c.version).where(security_versions.c.kind == self.kind)).first()
        return 0 if found is None else int(found.version)

    def _open(self, record: dict[str, Any]) -> dict[str, Any]:
        failure = (
            f"a secret of the job store's {self.kind} does not open with this master key "
            "(every node of a cluster needs the same OPENCOMPREHEND_MASTER_KEY)"
        )
        return opened(record, self._secret_fields, self._cipher, failure)

    def _seal(self, record: dict[str, Any]) -> str:
        return json.dumps(sealed(record, self._secret_fields, self._cipher), sort_keys=True)

    # -- changing -----------------------------------------------------------------------------------------

    def _bump(self, conn: Any) -> None:
        """Raise the kind's version, in the caller's transaction."""
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        statement = upsert(security_versions).values(kind=self.kind, version=1)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[security_versions.c.kind], set_={"version": security_versions.c.version + 1}
            )
        )

    def insert(self, record: dict[str, Any], what: str) -> None:
        """Add a record; SecurityFileError if one with its id exists (`what` names it in the message)."""
        record_id = str(record[self.id_field])
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(security_records).values(
                        kind=self.kind,
                        record_id=record_id,
                        body=self._seal(record),
                        created=float(record.get("created") or time.time()),
                    )
                )
                self._bump(conn)
        except IntegrityError:
            raise SecurityFileError(f"the {what} {record_id} exists already") from None

    def replace(self, record: dict[str, Any], what: str) -> None:
        """Change a record in place; SecurityFileError if there is none with its id."""
        record_id = str(record[self.id_field])
        with self.engine.begin() as conn:
            done = conn.execute(
                update(security_records)
                .where(security_records.c.kind == self.kind, security_records.c.record_id == record_id)
                .values(body=self._seal(record))
            )
            if done.rowcount != 1:
                raise SecurityFileError(f"no {what} {record_id}")
            self._bump(conn)

    def remove(self, record_id: str, what: str) -> dict[str, Any]:
        """Remove a record; returns it. SecurityFileError if there is none."""
        gone = next((r for r in self.records() if str(r[self.id_field]) == record_id), None)
        with self.engine.begin() as conn:
            done = conn.execute(
                delete(security_records).where(
                    security_records.c.kind == self.kind, security_records.c.record_id == record_id
                )
            )
            if done.rowcount != 1 or gone is None:
                raise SecurityFileError(f"no {what} {record_id}")
            self._bump(conn)
        return gone

    # -- the files of before ------------------------------------------------------------------------------

    def import_file(self, path: Path) -> int:
        """Add the records of a security file of before (those not here already), then rename it
        `<name>.imported`, so that it is imported once. Returns how many were added."""
        path = Path(path)
        if not path.is_file():
            return 0
        legacy = RecordsFile(path, self._cipher, self.kind, secret_fields=self._secret_fields)
        present = {str(r[self.id_field]) for r in self.records()}
        added = 0
        for record in legacy.records():  # SecurityFileError when the master key does not open them
            if str(record[self.id_field]) in present:
                continue
            try:
                self.insert(record, self.kind)
                added += 1
            except SecurityFileError:
                pass  # added by another node importing its own copy just now
        try:
            path.rename(path.with_name(path.name + ".imported"))
        except OSError as exc:
            log.warning("imported %s but could not rename it: %s", path, exc)
        log.info("imported %d %s from %s into the job store", added, self.kind, path)
        return added
