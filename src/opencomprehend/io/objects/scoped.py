"""A store seen through a data access role: only the prefixes the role names (ScopedStore)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from opencomprehend.io.objects.base import AccessDenied, ObjectInfo, ObjectStore


class _ScopedStream:
    """A stream read through a role: the role's grant is checked again before each read."""

    def __init__(self, inner: BinaryIO, check: Callable[[], None]) -> None:
        self._inner = inner
        self._check = check

    def read(self, size: int = -1) -> bytes:
        self._check()
        return self._inner.read(size)

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> _ScopedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ScopedStore:
    """Another store, limited to the S3 locations a role may read and write: anything else is AccessDenied.

    `may_read` and `may_write` take an `s3://bucket/key` URI (a listing is checked by its prefix).
    """

    def __init__(self, inner: ObjectStore, may_read: Callable[[str], bool], may_write: Callable[[str], bool]) -> None:
        self.inner = inner
        self._may_read = may_read
        self._may_write = may_write

    def __repr__(self) -> str:
        return f"ScopedStore({self.inner!r})"

    def _check(self, allowed: Callable[[str], bool], bucket: str, key: str, action: str) -> None:
        if not allowed(f"s3://{bucket}/{key}"):
            raise AccessDenied(f"The data access role may not {action} s3://{bucket}/{key}.")

    def may_read(self, uri: str) -> bool:
        """Whether the role may read `uri` now (a run checks again before each shard)."""
        return self._may_read(uri)

    def may_write(self, uri: str) -> bool:
        """Whether the role may write `uri` now."""
        return self._may_write(uri)

    def list_objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        self._check(self._may_read, bucket, prefix, "list")
        return self.inner.list_objects(bucket, prefix)

    def get_bytes(self, bucket: str, key: str) -> bytes:
        self._check(self._may_read, bucket, key, "read")
        return self.inner.get_bytes(bucket, key)

    def open_stream(self, bucket: str, key: str) -> BinaryIO:
        self._check(self._may_read, bucket, key, "read")
        stream = self.inner.open_stream(bucket, key)
        return _ScopedStream(stream, lambda: self._check(self._may_read, bucket, key, "read"))  # type: ignore[return-value]

    @property
    def server_side_kms(self) -> bool:
        return self.inner.server_side_kms

    def put_file(self, bucket: str, key: str, path: Path, kms_key_id: str | None = None) -> None:
        self._check(self._may_write, bucket, key, "write")
        if kms_key_id is None:
            self.inner.put_file(bucket, key, path)
        else:
            self.inner.put_file(bucket, key, path, kms_key_id=kms_key_id)

    def put_bytes(self, bucket: str, key: str, data: bytes, kms_key_id: str | None = None) -> None:
        self._check(self._may_write, bucket, key, "write")
        if kms_key_id is None:
            self.inner.put_bytes(bucket, key, data)
        else:
            self.inner.put_bytes(bucket, key, data, kms_key_id=kms_key_id)

    def delete(self, bucket: str, key: str) -> None:
        self._check(self._may_write, bucket, key, "delete")
        self.inner.delete(bucket, key)
