"""Data access roles: what a job's or a training's DataAccessRoleArn may read and write, and as whom.

A role belongs to one account (its ARN's account), names the S3 prefixes it may read and the prefixes
it may write (`s3://bucket/` for a whole bucket), and optionally the object-store endpoint and
credentials it uses there (the server's own by default). Roles are records of the job store
(security/records.py), shared by every node, managed with `opencomprehend roles add|list|remove`; their
secrets are encrypted under the master key.

With `--auth sigv4` the registry is enforced: a role the caller's account does not have is refused at
Start/Create, and a run reads and writes only through its role (io.objects.ScopedStore). In development
mode every role may use every local bucket (docs/security.md).
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field

from opencomprehend.security.credentials import check_account
from opencomprehend.security.files import SecurityFileError
from opencomprehend.security.records import RecordsTable

ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
S3_PREFIX = re.compile(r"s3://[a-z0-9][.\-a-z0-9]{1,61}[a-z0-9](/.*)?")


def role_arn(account_id: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:role/{name}"


@dataclass(frozen=True)
class Role:
    arn: str
    account_id: str
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    created: float = field(default_factory=time.time)

    def may_read(self, uri: str) -> bool:
        return any(_under(uri, prefix) for prefix in self.read + self.write)

    def may_write(self, uri: str) -> bool:
        return any(_under(uri, prefix) for prefix in self.write)


def _under(uri: str, prefix: str) -> bool:
    """`uri` lies under `prefix`; a bare bucket prefix covers its whole bucket."""
    if prefix.count("/") == 2:  # s3://bucket
        prefix += "/"
    return uri.startswith(prefix) or uri == prefix.rstrip("/")


SECRET_FIELDS = ("s3_secret_access_key",)


class RoleRegistry:
    """The data access roles of the job store (kind "roles")."""

    def __init__(self, records: RecordsTable) -> None:
        self._records = records

    def list(self) -> list[Role]:
        found = [
            Role(**{**record, "read": tuple(record["read"]), "write": tuple(record["write"])})
            for record in self._records.records()
        ]
        return sorted(found, key=lambda r: r.arn)

    def get(self, arn: str, account_id: str) -> Role | None:
        """The role, only if it belongs to `account_id` (another account's role is as good as absent)."""
        found = next((r for r in self.list() if r.arn == arn), None)
        return found if found is not None and found.account_id == account_id else None

    def add(
        self,
        account_id: str,
        name: str,
        read: list[str],
        write: list[str],
        s3_endpoint_url: str | None = None,
        s3_access_key_id: str | None = None,
        s3_secret_access_key: str | None = None,
        replace: bool = False,
    ) -> Role:
        """Add a role; with `replace`, an existing role of that ARN is replaced in the same write (a role
        narrowed or widened without a moment when it does not exist)."""
        check_account(account_id)
        if not ROLE_NAME.fullmatch(name):
            raise SecurityFileError(f"a role name is 1 to 64 of letters, digits and +=,.@_-, not {name!r}")
        for prefix in [*read, *write]:
            if not S3_PREFIX.fullmatch(prefix) or any(part in (".", "..") for part in prefix[5:].split("/")[1:]):
                raise SecurityFileError(f"not an S3 prefix: {prefix!r} (s3://bucket/ or s3://bucket/prefix/)")
        if bool(s3_access_key_id) != bool(s3_secret_access_key):
            raise SecurityFileError("give both --s3-access-key-id and --s3-secret-access-key, or neither")
        arn = role_arn(account_id, name)
        exists = any(r.arn == arn for r in self.list())
        if exists and not replace:
            raise SecurityFileError(f"the role {arn} exists already (--replace replaces it)")
        made = Role(arn, account_id, tuple(read), tuple(write), s3_endpoint_url, s3_access_key_id, s3_secret_access_key)
        if exists:
            self._records.replace(asdict(made), "role")
        else:
            self._records.insert(asdict(made), "role")
        return made

    def remove(self, arn: str) -> Role:
        gone = self._records.remove(arn, "role")
        return Role(**{**gone, "read": tuple(gone["read"]), "write": tuple(gone["write"])})
