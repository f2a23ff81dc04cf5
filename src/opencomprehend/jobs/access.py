"""What a run may touch: the object store as its job's or training's DataAccessRoleArn sees it.

Without a role registry (development mode) every role reaches the server's own store. With one, a run
reads and writes only through its role: the prefixes the role names (io.objects.ScopedStore), with the
object-store endpoint and credentials the role gives, else the server's. A role its account does not
have reaches nothing, so the run fails NO_READ_ACCESS_TO_INPUT as Comprehend's does.
"""

from __future__ import annotations

from opencomprehend.config import Settings
from opencomprehend.io.objects import ObjectStore, S3Store, ScopedStore
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


def usable_key(keys: KeyRing | None, reference: str, account_id: str, region: str) -> tuple[KeyRing, Key] | None:
    """The keyring and the key that `reference` (a key id, ARN or alias) names for this account and region, or
    None where it is disabled or removed since the request was accepted (or there is no keyring): each caller
    says in its own words why the work cannot go on."""
    if keys is None:
        return None
    key = keys.resolve(reference, account_id, region)
    return None if key is None else (keys, key)
