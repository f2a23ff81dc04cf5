"""What every object store is and raises: the ObjectStore protocol, StorageError and its kinds, s3:// URIs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

_S3_SCHEME = "s3://"
_COPY_BUFFER = 1024 * 1024


class StorageError(Exception):
    """An object store operation failed; str(e) is a sentence meant for the person running the job."""


class NoSuchBucket(StorageError):
    """The bucket does not exist."""


class NoSuchKey(StorageError):
    """The bucket exists but the object does not."""


class AccessDenied(StorageError):
    """The store refused the credentials or the operation."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split `s3://bucket/key` into (bucket, key); the key is "" for `s3://bucket` and `s3://bucket/`."""
    if not isinstance(uri, str) or not uri.startswith(_S3_SCHEME):
        raise ValueError(f"Not an S3 URI (expected s3://bucket/key): {uri!r}")
    bucket, _, key = uri[len(_S3_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"S3 URI has no bucket name: {uri!r}")
    return bucket, key


class ObjectStore(Protocol):
    def list_objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix`, in ascending key order, without folder markers.

        Raises NoSuchBucket when the bucket does not exist.
        """
        ...

    def get_bytes(self, bucket: str, key: str) -> bytes: ...

    def open_stream(self, bucket: str, key: str) -> BinaryIO:
        """The object as a readable stream, read as it is consumed (never whole); close it after use.

        Errors while reading are StorageErrors too.
        """
        ...

    # True when the store encrypts objects itself under a named KMS key (S3's SSE-KMS).
    server_side_kms: bool

    def put_file(self, bucket: str, key: str, path: Path, kms_key_id: str | None = None) -> None:
        """Upload a local file; readers never see a partly written object.

        `kms_key_id` asks for server-side encryption under that key: only where `server_side_kms`.
        """
        ...

    def put_bytes(self, bucket: str, key: str, data: bytes, kms_key_id: str | None = None) -> None:
        """Store `data`; readers never see a partly written object (`kms_key_id` as for put_file)."""
        ...

    def delete(self, bucket: str, key: str) -> None:
        """Remove an object; removing one that is not there is not an error (as on S3)."""
        ...
