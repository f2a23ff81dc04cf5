"""API credentials: access key ids, each mapped to one account, with its secret encrypted at rest.

The file (`<data-dir>/credentials.json`, or OPENCOMPREHEND_CREDENTIALS_FILE) is managed with
`opencomprehend credentials add|list|remove`; the server reads it again whenever it changes, so keys
come and go without a restart. A secret is shown once, when it is made, and never logged: the file holds
it encrypted under the master key (security/keys.py), since verifying a SigV4 signature needs the
secret itself (a hash of it would not do).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

ACCOUNT_ID = re.compile(r"\d{12}")
ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    account_id: str
    secret_access_key: str
    created: float
    description: str = ""


class CredentialError(ValueError):
    """A credentials command could not be carried out; str(e) says why."""


def new_access_key_id() -> str:
    # AWS's long-term keys start with AKIA; ours say whose they are.
    return "OCAK" + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def new_secret() -> str:
    return secrets.token_urlsafe(30)[:40]


class CredentialStore:
    """The credentials file, read through the master key's cipher, reloaded when it changes on disk."""

    def __init__(self, path: Path, cipher: Fernet) -> None:
        self.path = Path(path)
        self._cipher = cipher
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._by_key: dict[str, Credential] = {}

    # -- reading ------------------------------------------------------------------------------------------

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def _load(self) -> dict[str, Credential]:
        stamp = self._stat()
        with self._lock:
            if stamp == self._stamp:
                return self._by_key
            entries = json.loads(self.path.read_text()) if stamp is not None else {"credentials": []}
            found: dict[str, Credential] = {}
            for entry in entries.get("credentials", []):
                try:
                    secret = self._cipher.decrypt(entry["secret"].encode()).decode()
                except InvalidToken:
                    raise CredentialError(
                        f"{self.path}: the secret of {entry['access_key_id']} does not open with this master key"
                    ) from None
                found[entry["access_key_id"]] = Credential(
                    entry["access_key_id"], entry["account_id"], secret, entry["created"], entry.get("description", "")
                )
            self._by_key, self._stamp = found, stamp
            return found

    def get(self, access_key_id: str) -> Credential | None:
        return self._load().get(access_key_id)

    def list(self) -> list[Credential]:
        return sorted(self._load().values(), key=lambda c: (c.account_id, c.created))

    # -- writing (the CLI) ------------------------------------------------------------------------------

    def _save(self, credentials: list[Credential]) -> None:
        entries = [
            {
                "access_key_id": c.access_key_id,
                "account_id": c.account_id,
                "secret": self._cipher.encrypt(c.secret_access_key.encode()).decode(),
                "created": c.created,
                "description": c.description,
            }
            for c in credentials
        ]
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.tmp-{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w") as out:
            json.dump({"credentials": entries}, out, indent=2)
            out.write("\n")
        os.replace(temp, self.path)

    def add(
        self,
        account_id: str,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        description: str = "",
    ) -> Credential:
        if not ACCOUNT_ID.fullmatch(account_id):
            raise CredentialError(f"an account id is twelve digits, not {account_id!r}")
        key = access_key_id or new_access_key_id()
        if not ACCESS_KEY_ID.fullmatch(key):
            raise CredentialError("an access key id is 16 to 128 upper-case letters and digits")
        secret = secret_access_key or new_secret()
        if len(secret) < 16:
            raise CredentialError("a secret access key has at least 16 characters")
        existing = self.list()
        if any(c.access_key_id == key for c in existing):
            raise CredentialError(f"the access key {key} exists already")
        made = Credential(key, account_id, secret, time.time(), description)
        self._save([*existing, made])
        return made

    def remove(self, access_key_id: str) -> Credential:
        existing = self.list()
        gone = [c for c in existing if c.access_key_id == access_key_id]
        if not gone:
            raise CredentialError(f"no access key {access_key_id}")
        self._save([c for c in existing if c.access_key_id != access_key_id])
        return gone[0]
