"""What a run may touch: the object store as its job's or training's DataAccessRoleArn sees it.

Without a role registry (development mode) every role reaches the server's own store. With one, a run
reads and writes only through its role: the prefixes the role names (io.objects.ScopedStore), with the
object-store endpoint and credentials the role gives, else the server's. A role its account does not
have reaches nothing, so the run fails NO_READ_ACCESS_TO_INPUT as Comprehend's does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from opencomprehend.config import Settings
from opencomprehend.io.objects import ObjectInfo, ObjectStore, S3Store, ScopedStore
from opencomprehend.security.keyring import Key, KeyRing
from opencomprehend.security.roles import RoleRegistry


class DataAccess:
    def __init__(
        self, objects: ObjectStore, roles: RoleRegistry | None, settings: Settings, keys: KeyRing | None = None
    ) -> None:
        self.objects = objects
        self.roles = roles
        self.settings = settings
        self.keys = keys  # the KMS keyring that output and model encryption use

    def store_for(self, role_arn: str, account_id: str) -> ObjectStore:
        """The store as the role sees it. Its grant is looked up again at every read and write (the roles
        file is re-read when it changes), so a role removed or narrowed while a run goes on bites at the
        run's next read or write, as a KMS key disabled mid-job does."""
        if self.roles is None:
            return self.objects
        roles = self.roles
        role = roles.get(role_arn, account_id)
        if role is None:
            return ScopedStore(self.objects, lambda _uri: False, lambda _uri: False)

        def may_read(uri: str) -> bool:
            now = roles.get(role_arn, account_id)
            return now is not None and now.may_read(uri)

        def may_write(uri: str) -> bool:
            now = roles.get(role_arn, account_id)
            return now is not None and now.may_write(uri)

        inner = self.objects
        if role.s3_endpoint_url or role.s3_access_key_id:
            settings = self.settings
            inner = S3Store(
                role.s3_endpoint_url or settings.s3_endpoint_url,
                settings.s3_region or settings.region,
                role.s3_access_key_id or settings.s3_access_key_id,
                role.s3_secret_access_key or settings.s3_secret_access_key,
                settings.s3_sse_kms,
                settings.s3_max_attempts,
            )
        return ScopedStore(inner, may_read, may_write)


class SealingStore:
    """A store whose writes are encrypted under one KMS key: SSE-KMS by the store where it can, else sealed
    (envelope encryption, security/keyring.py) before they are stored. Reads pass through unchanged."""

    server_side_kms = False

    def __init__(self, inner: ObjectStore, keys: KeyRing, key: Key) -> None:
        self.inner = inner
        self.keys = keys
        self.key = key

    def list_objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        return self.inner.list_objects(bucket, prefix)

    def get_bytes(self, bucket: str, key: str) -> bytes:
        return self.inner.get_bytes(bucket, key)

    def open_stream(self, bucket: str, key: str) -> BinaryIO:
        return self.inner.open_stream(bucket, key)

    def delete(self, bucket: str, key: str) -> None:
        self.inner.delete(bucket, key)

    def put_bytes(self, bucket: str, key: str, data: bytes, kms_key_id: str | None = None) -> None:
        if self.inner.server_side_kms:
            self.inner.put_bytes(bucket, key, data, kms_key_id=self.key.arn)
        else:
            self.inner.put_bytes(bucket, key, self.keys.seal(self.key, data))

    def put_file(self, bucket: str, key: str, path: Path, kms_key_id: str | None = None) -> None:
        if self.inner.server_side_kms:
            self.inner.put_file(bucket, key, path, kms_key_id=self.key.arn)
        else:
            self.inner.put_bytes(bucket, key, self.keys.seal(self.key, Path(path).read_bytes()))


def usable_key(keys: KeyRing | None, reference: str, account_id: str, region: str) -> tuple[KeyRing, Key] | None:
    """The keyring and the key that `reference` (a key id, ARN or alias) names for this account and region, or
    None where it is disabled or removed since the request was accepted (or there is no keyring): each caller
    says in its own words why the work cannot go on."""
    if keys is None:
        return None
    key = keys.resolve(reference, account_id, region)
    return None if key is None else (keys, key)
