"""API credentials: access key ids, each mapped to one account, with its secret encrypted at rest.

They are records of the job store (security/records.py), shared by every node, managed with
`opencomprehend credentials add|list|remove`; every node sees a change at its next request, so keys come
and go without a restart. A secret is shown once, when it is made, and never logged: the store holds it
encrypted under the master key (security/keys.py), since verifying a SigV4 signature needs the secret
itself (a hash of it would not do).

A temporary credential (`credentials add --session`, as STS's GetSessionToken gives) also has a session
token, which every request signed with it must carry in `X-Amz-Security-Token`, and an expiry, after
which it is refused (ExpiredTokenException). Its token is encrypted at rest like the secret.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from dataclasses import asdict, dataclass

from opencomprehend.security.files import SecurityFileError
from opencomprehend.security.records import RecordsTable

ACCOUNT_ID = re.compile(r"\d{12}")
ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
_ALPHABET = string.ascii_uppercase + string.digits

CredentialError = SecurityFileError


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    account_id: str
    secret_access_key: str
    created: float
    description: str = ""
    session_token: str = ""  # a temporary credential's; empty for a long-term key
    expires: float | None = None  # epoch seconds; a temporary credential is refused from then on

    @property
    def temporary(self) -> bool:
        return bool(self.session_token)


def new_access_key_id(temporary: bool = False) -> str:
    # AWS's long-term keys start with AKIA and temporary ones with ASIA; ours say whose they are.
    return ("OCAS" if temporary else "OCAK") + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def new_secret() -> str:
    return secrets.token_urlsafe(30)[:40]


def new_session_token() -> str:
    return secrets.token_urlsafe(96)


# As STS's GetSessionToken: from 15 minutes to 36 hours (a shorter one is allowed here, for tests).
MAX_SESSION_SECONDS = 129_600


def check_account(account_id: str) -> None:
    if not ACCOUNT_ID.fullmatch(account_id):
        raise SecurityFileError(f"an account id is twelve digits, not {account_id!r}")


SECRET_FIELDS = ("secret_access_key", "session_token")


class CredentialStore:
    """The credentials of the job store (kind "credentials"), secrets opened with the master key's cipher."""

    def __init__(self, records: RecordsTable) -> None:
        self._records = records

    def list(self) -> list[Credential]:
        found = [Credential(**record) for record in self._records.records()]
        return sorted(found, key=lambda c: (c.account_id, c.created))

    def get(self, access_key_id: str) -> Credential | None:
        return next((c for c in self.list() if c.access_key_id == access_key_id), None)

    def add(
        self,
        account_id: str,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        description: str = "",
        session_seconds: int | None = None,
    ) -> Credential:
        """A long-term key, or with `session_seconds` a temporary credential (key, secret, session token)
        that expires that many seconds from now."""
        check_account(account_id)
        if session_seconds is not None and not 1 <= session_seconds <= MAX_SESSION_SECONDS:
            raise SecurityFileError(f"a session lasts from 1 to {MAX_SESSION_SECONDS} seconds")
        key = access_key_id or new_access_key_id(temporary=session_seconds is not None)
        if not ACCESS_KEY_ID.fullmatch(key):
            raise SecurityFileError("an access key id is 16 to 128 upper-case letters and digits")
        secret = secret_access_key or new_secret()
        if len(secret) < 16:
            raise SecurityFileError("a secret access key has at least 16 characters")
        existing = self.list()
        if any(c.access_key_id == key for c in existing):
            raise SecurityFileError(f"the access key {key} exists already")
        now = time.time()
        if session_seconds is None:
            made = Credential(key, account_id, secret, now, description)
        else:
            made = Credential(key, account_id, secret, now, description, new_session_token(), now + session_seconds)
        self._records.insert(asdict(made), "access key")
        return made

    def remove(self, access_key_id: str) -> Credential:
        return Credential(**self._records.remove(access_key_id, "access key"))
