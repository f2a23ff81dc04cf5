"""A local keyring standing in for AWS KMS: keys with ids, ARNs and aliases, per account and region.

Keys are records of the job store (security/records.py), shared by every node, managed with
`opencomprehend kms create|list|disable|enable`; each key's material (256 bits) is stored encrypted under
the master key. A request names a key as AWS does:
its id, its ARN, `alias/<name>` or the alias's ARN. An unknown key, another account's, or a disabled one
does not resolve, and the operation answers KmsKeyValidationException.

Encryption is envelope encryption with AES-256-GCM: each object gets a fresh data key, which is itself
sealed under the named key's material; the sealed object starts with a header naming the key, so that
`open` needs nothing else. Layout: MAGIC | key id (36 ASCII) | nonce (12) | sealed data key (48) |
nonce (12) | ciphertext with its tag.
"""

from __future__ import annotations

import base64
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from opencomprehend.config import REGION_PATTERN
from opencomprehend.security.credentials import check_account
from opencomprehend.security.files import SecurityFileError
from opencomprehend.security.records import RecordsTable

MAGIC = b"OCKMS1\n"
ALIAS = re.compile(r"alias/[a-zA-Z0-9/_-]{1,250}")
_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:(?P<region>[^:]+):(?P<account>\d{12}):(?P<rest>key/[0-9a-f-]{36}|alias/.+)")


class KeyringError(SecurityFileError):
    """A key could not be made, found or used; str(e) says why."""


@dataclass(frozen=True)
class Key:
    key_id: str
    account_id: str
    region: str
    material: str  # base64 of 32 bytes (decrypted in memory; encrypted in the file)
    aliases: tuple[str, ...] = ()
    enabled: bool = True
    created: float = field(default_factory=time.time)

    @property
    def arn(self) -> str:
        return f"arn:aws:kms:{self.region}:{self.account_id}:key/{self.key_id}"

    def _aead(self) -> AESGCM:
        return AESGCM(base64.b64decode(self.material))


SECRET_FIELDS = ("material",)


class KeyRing:
    """The KMS keys of the job store (kind "keys")."""

    def __init__(self, records: RecordsTable) -> None:
        self._records = records

    def list(self) -> list[Key]:
        found = [Key(**{**record, "aliases": tuple(record["aliases"])}) for record in self._records.records()]
        return sorted(found, key=lambda k: (k.account_id, k.region, k.created))

    # -- look-ups --------------------------------------------------------------------------------------

    def resolve(self, reference: str, account_id: str, region: str, enabled_only: bool = True) -> Key | None:
        """The key a request names (id, key ARN, alias/name or alias ARN), if the caller's and usable."""
        found = _KEY_ARN.fullmatch(reference)
        if found:
            if (found.group("account"), found.group("region")) != (account_id, region):
                return None
            reference = found.group("rest").removeprefix("key/")
        for key in self.list():
            if (key.account_id, key.region) != (account_id, region):
                continue
            if reference == key.key_id or reference in key.aliases:
                return key if key.enabled or not enabled_only else None
        return None

    def by_id(self, key_id: str) -> Key | None:
        return next((k for k in self.list() if k.key_id == key_id), None)

    def find(self, reference: str, account_id: str | None = None, region: str | None = None) -> Key:
        """The key the operator names (the CLI): its id, key ARN, `alias/<name>` or alias ARN, enabled or not.
        An alias is per account and region: one that several keys carry needs `account_id` and `region`."""
        found = _KEY_ARN.fullmatch(reference)
        name = reference
        if found:
            account_id, region = found.group("account"), found.group("region")
            name = found.group("rest").removeprefix("key/")
        matches = [
            k
            for k in self.list()
            if (name == k.key_id or name in k.aliases)
            and account_id in (None, k.account_id)
            and region in (None, k.region)
        ]
        if not matches:
            raise KeyringError(f"no key {reference}")
        if len(matches) > 1:
            raise KeyringError(
                f"{reference} names keys in several accounts or regions; give --account-id and --region"
            )
        return matches[0]

    # -- the CLI ----------------------------------------------------------------------------------------

    def create(self, account_id: str, region: str, alias: str | None = None) -> Key:
        check_account(account_id)
        if len(region) > 32 or not re.fullmatch(REGION_PATTERN, region):
            raise KeyringError(f"not an AWS region: {region!r} (a region name looks like us-east-1 or eu-west-3)")
        existing = self.list()
        aliases: tuple[str, ...] = ()
        if alias:
            alias = alias if alias.startswith("alias/") else f"alias/{alias}"
            if not ALIAS.fullmatch(alias) or alias.startswith("alias/aws/"):
                raise KeyringError(f"not an alias name a customer may use: {alias!r}")
            if any(alias in k.aliases for k in existing if (k.account_id, k.region) == (account_id, region)):
                raise KeyringError(f"the alias {alias} exists already in {account_id} {region}")
            aliases = (alias,)
        made = Key(str(uuid.uuid4()), account_id, region, base64.b64encode(os.urandom(32)).decode(), aliases)
        self._records.insert(asdict(made), "key")
        return made

    def set_enabled(
        self, reference: str, enabled: bool, account_id: str | None = None, region: str | None = None
    ) -> Key:
        """Enable or disable the key `reference` names (as `find` takes it)."""
        found = self.find(reference, account_id, region)
        changed = Key(**{**asdict(found), "enabled": enabled})
        try:
            self._records.replace(asdict(changed), "key")
        except SecurityFileError as exc:
            raise KeyringError(str(exc)) from None
        return changed

    # -- envelope encryption --------------------------------------------------------------------------

    def seal(self, key: Key, plaintext: bytes) -> bytes:
        return seal(key, plaintext)

    def open(self, sealed: bytes, account_id: str | None = None) -> bytes:
        """The plaintext of a sealed object; with `account_id`, only when the key is that account's."""
        if not sealed.startswith(MAGIC):
            raise KeyringError("not an object sealed by this keyring")
        body = sealed[len(MAGIC) :]
        key_id = body[:36].decode("ascii", "replace")
        key = self.by_id(key_id)
        if key is None or (account_id is not None and key.account_id != account_id):
            raise KeyringError(f"the key {key_id} is not in this keyring for this account")
        if not key.enabled:
            raise KeyringError(f"the key {key_id} is disabled")
        key_nonce, sealed_key, nonce, ciphertext = body[36:48], body[48:96], body[96:108], body[108:]
        try:
            data_key = key._aead().decrypt(key_nonce, sealed_key, key.key_id.encode())
            return AESGCM(data_key).decrypt(nonce, ciphertext, None)
        except InvalidTag:
            raise KeyringError("the object does not open: it was changed, or sealed under another key") from None


def seal(key: Key, plaintext: bytes) -> bytes:
    """`plaintext` sealed under `key` (envelope encryption, the layout above): needs the key alone, so that a
    process that holds no keyring (a training process, a Dask worker) can seal what it spills."""
    data_key = AESGCM.generate_key(bit_length=256)
    key_nonce, nonce = os.urandom(12), os.urandom(12)
    sealed_key = key._aead().encrypt(key_nonce, data_key, key.key_id.encode())
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, None)
    return MAGIC + key.key_id.encode() + key_nonce + sealed_key + nonce + ciphertext
