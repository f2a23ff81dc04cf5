"""The security files of earlier releases: JSON records, private (0600), written whole.

Credentials, roles and KMS keys each lived in such a file under a node's data folder. They now live in
the job store (security/records.py), which imports such a file once, reading it with RecordsFile. Secret
fields are encrypted under the master key (security/keys.py) and decrypted only in memory.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class SecurityFileError(ValueError):
    """A security file could not be read or changed; str(e) says why."""


def sealed(record: dict[str, Any], secret_fields: tuple[str, ...], cipher: Fernet) -> dict[str, Any]:
    """A copy of the record with its secret fields encrypted under the master key (the empty ones left as they are)."""
    copy = dict(record)
    for name in secret_fields:
        if copy.get(name):
            copy[name] = cipher.encrypt(copy[name].encode()).decode()
    return copy


def opened(record: dict[str, Any], secret_fields: tuple[str, ...], cipher: Fernet, failure: str) -> dict[str, Any]:
    """A copy of the record with its secret fields decrypted; SecurityFileError(failure) if one does not open."""
    copy = dict(record)
    for name in secret_fields:
        if copy.get(name):
            try:
                copy[name] = cipher.decrypt(copy[name].encode()).decode()
            except InvalidToken:
                raise SecurityFileError(failure) from None
    return copy


class RecordsFile:
    def __init__(self, path: Path, cipher: Fernet, kind: str, secret_fields: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.kind = kind  # the file's top-level list: "credentials", "roles", "keys"
        self._cipher = cipher
        self._secret_fields = secret_fields
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._records: list[dict[str, Any]] = []

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def records(self) -> list[dict[str, Any]]:
        """Every record, secrets decrypted (cached until the file changes)."""
        stamp = self._stat()
        with self._lock:
            if stamp != self._stamp:
                stored = json.loads(self.path.read_text())[self.kind] if stamp is not None else []
                self._records = [self._open(record) for record in stored]
                self._stamp = stamp
            return [dict(record) for record in self._records]

    def _open(self, record: dict[str, Any]) -> dict[str, Any]:
        failure = f"{self.path}: a secret of its {self.kind} does not open with this master key"
        return opened(record, self._secret_fields, self._cipher, failure)

    def remove(self, field: str, value: str, what: str) -> dict[str, Any]:
        """Remove the record whose `field` is `value`; returns it. `what` names it in the error."""
        records = self.records()
        gone = [record for record in records if record[field] == value]
        if not gone:
            raise SecurityFileError(f"no {what} {value}")
        self.save([record for record in records if record[field] != value])
        return gone[0]

    def save(self, records: list[dict[str, Any]]) -> None:
        sealed_records = [sealed(record, self._secret_fields, self._cipher) for record in records]
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.tmp-{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w") as out:
            json.dump({self.kind: sealed_records}, out, indent=2)
            out.write("\n")
        os.replace(temp, self.path)
