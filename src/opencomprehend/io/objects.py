"""Object storage behind `s3://` URIs: a local folder (the embedded default) or any S3-compatible server.

Both stores present S3's semantics to the rest of the system: plain string prefixes, keys listed in
ascending code point order, folder markers invisible, and writes that a reader sees whole or not at all.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

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


# ---------------------------------------------------------------------------------------------------------
# Local folder


# A write in progress lives under this name next to its final path. The leading dot and the uuid make a
# clash with a real key practically impossible, and listing recognises the exact shape to hide it.
_TEMP_NAME = re.compile(r"^\..+\.tmp-[0-9a-f]{32}$")
# What a file or folder name may hold on the file systems a server runs on (ext4, XFS, APFS: 255 bytes).
# S3 keys have no such limit; a key with a longer segment cannot be stored in a local folder. A key being
# written needs room for its temporary name too (_temp_name: a dot, ".tmp-" and 32 hex digits).
MAX_SEGMENT_BYTES = 255


def _temp_name(final_name: str) -> str:
    # Cut so that the temporary name of a name of MAX_SEGMENT_BYTES fits in as many bytes too.
    room = MAX_SEGMENT_BYTES - len(".") - len(".tmp-") - 32
    while len(os.fsencode(final_name)) > room:
        final_name = final_name[:-1]
    return f".{final_name}.tmp-{uuid.uuid4().hex}"


def _shortened(text: str, limit: int = 120) -> str:
    """A long key or URI cut in its middle for a message, so the message stays readable."""
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2 :]}"


class LocalFolderStore:
    """`s3://bucket/key` stored as the file `<root>/bucket/key`.

    A key maps onto a path segment by segment, so keys a file system cannot hold side by side (`a` and
    `a/b`, `a//b`, `.` or `..` segments) are refused with StorageError rather than silently merged.

    Symbolic links below the root are never followed: S3 has none, and a link is the one way a key
    could reach outside the root. Listings leave them out; reading or writing through one is refused.

    A bucket is a folder directly under the root, made by the operator (`mkdir`) or by `create_bucket`: as on
    S3, writing into a bucket that does not exist is NoSuchBucket, never a new bucket.
    """

    server_side_kms = False

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def create_bucket(self, bucket: str) -> None:
        """Make the bucket's folder (the server's own buckets: its models bucket, its work bucket)."""
        bucket_dir = self._bucket_dir(bucket)
        self._refuse_links(bucket_dir, f"s3://{bucket}/")
        try:
            bucket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"Cannot create the bucket {bucket!r}: {e.strerror or e}.") from e

    def __repr__(self) -> str:
        return f"LocalFolderStore({str(self.root)!r})"

    # -- paths ------------------------------------------------------------------------------------------

    def _bucket_dir(self, bucket: str) -> Path:
        if not bucket or "/" in bucket or "\\" in bucket or bucket in (".", "..") or "\0" in bucket:
            raise StorageError(f"Invalid bucket name {bucket!r}.")
        return self.root / bucket

    def _existing_bucket_dir(self, bucket: str) -> Path:
        bucket_dir = self._bucket_dir(bucket)
        if bucket_dir.is_symlink() or not bucket_dir.is_dir():
            raise NoSuchBucket(f"The bucket {bucket!r} does not exist.")
        return bucket_dir

    @staticmethod
    def _segments(bucket: str, key: str) -> list[str]:
        # The lexical check is what keeps a key inside its bucket folder: no segment may climb out.
        parts = key.split("/")
        for part in parts:
            if part in ("", ".", "..") or "\0" in part:
                raise StorageError(
                    f"The key {key!r} in bucket {bucket!r} cannot be stored in a local folder: "
                    "empty, '.' and '..' path segments are not allowed."
                )
            if len(os.fsencode(part)) > MAX_SEGMENT_BYTES:
                raise StorageError(
                    f"The key {_shortened(key)!r} in bucket {bucket!r} cannot be stored in a local folder: a "
                    f"segment between its '/' is {len(os.fsencode(part))} bytes long; a local folder holds at "
                    f"most {MAX_SEGMENT_BYTES} bytes per segment."
                )
        return parts

    def _object_path(self, bucket_dir: Path, bucket: str, key: str) -> Path:
        path = bucket_dir.joinpath(*self._segments(bucket, key))
        self._refuse_links(path, f"s3://{bucket}/{key}")
        return path

    def _refuse_links(self, path: Path, uri: str) -> None:
        """Refuse a path any of whose parts below the root (the bucket's folder included) is a link."""
        current = self.root
        for part in path.relative_to(self.root).parts:
            current = current / part
            try:
                link = current.is_symlink()
            except OSError as e:  # a name the file system refuses (too long, not a folder)
                raise StorageError(f"Cannot use {_shortened(uri)}: {e.strerror or e}.") from e
            if link:
                raise AccessDenied(f"Cannot use {uri}: part of it is a symbolic link, which is never followed.")

    def _uri_of(self, directory: Path) -> str:
        # Messages may reach API clients (a FAILED job's Message), so they name S3 locations, not the
        # server's folders.
        return directory.relative_to(self.root).as_posix() + "/"

    # -- listing ----------------------------------------------------------------------------------------

    def list_objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        bucket_dir = self._existing_bucket_dir(bucket)
        # A prefix need not end on a folder boundary ("in/do" matches "in/doc.txt"): walk the folder
        # holding the prefix's last complete segment and filter its entries by the remainder.
        folder, slash, partial = prefix.rpartition("/")
        if slash:
            start_dir = bucket_dir.joinpath(*self._segments(bucket, folder))
            self._refuse_links(start_dir, f"s3://{bucket}/{folder}/")
            key_prefix = folder + "/"
        else:
            start_dir, key_prefix = bucket_dir, ""
        return self._walk(start_dir, key_prefix, partial)

    def _walk(self, directory: Path, key_prefix: str, name_prefix: str) -> Iterator[ObjectInfo]:
        try:
            with os.scandir(directory) as it:
                entries = [e for e in it if e.name.startswith(name_prefix) and not _TEMP_NAME.match(e.name)]
        except (FileNotFoundError, NotADirectoryError):
            return
        except PermissionError as e:
            raise AccessDenied(f"Cannot list s3://{self._uri_of(directory)}: permission denied.") from e
        except OSError as e:
            raise StorageError(f"Cannot list s3://{self._uri_of(directory)}: {e.strerror or e}.") from e

        # Sorting a folder's entries by name, with a sub-folder's name followed by "/", yields exactly
        # S3's global key order: every key under sub-folder d starts with d + "/", and no file name in
        # the same folder contains "/". So the walk streams in order without collecting all keys first.
        def sort_key(entry: os.DirEntry[str]) -> str:
            return entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name

        for entry in sorted(entries, key=sort_key):
            # Links are neither folders nor objects here (follow_symlinks=False): they are left out.
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path), key_prefix + entry.name + "/", "")
            elif entry.is_file(follow_symlinks=False):
                try:
                    size = entry.stat().st_size
                except FileNotFoundError:
                    continue  # deleted since the folder was read
                yield ObjectInfo(key=key_prefix + entry.name, size=size)

    # -- reading ----------------------------------------------------------------------------------------

    def get_bytes(self, bucket: str, key: str) -> bytes:
        with self.open_stream(bucket, key) as stream:
            return stream.read()

    def open_stream(self, bucket: str, key: str) -> BinaryIO:
        path = self._object_path(self._existing_bucket_dir(bucket), bucket, key)
        try:
            # O_NOFOLLOW: a link made after the checks above is refused by the kernel too.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            return _LocalStream(open(fd, "rb"), f"s3://{bucket}/{key}")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as e:
            raise NoSuchKey(f"The object s3://{bucket}/{key} does not exist.") from e
        except PermissionError as e:
            raise AccessDenied(f"Cannot read s3://{bucket}/{key}: permission denied.") from e
        except OSError as e:
            raise StorageError(f"Cannot read s3://{bucket}/{key}: {e.strerror or e}.") from e

    # -- writing ----------------------------------------------------------------------------------------

    def put_bytes(self, bucket: str, key: str, data: bytes, kms_key_id: str | None = None) -> None:
        if kms_key_id is not None:
            raise StorageError("A local folder does not encrypt objects itself; seal them before they are stored.")
        self._put(bucket, key, lambda out: out.write(data))

    def put_file(self, bucket: str, key: str, path: Path, kms_key_id: str | None = None) -> None:
        if kms_key_id is not None:
            raise StorageError("A local folder does not encrypt objects itself; seal them before they are stored.")
        try:
            src = open(path, "rb")
        except OSError as e:
            raise StorageError(f"Cannot upload {path} to s3://{bucket}/{key}: {e.strerror or e}.") from e
        with src:
            self._put(bucket, key, lambda out: shutil.copyfileobj(src, out, _COPY_BUFFER))

    def delete(self, bucket: str, key: str) -> None:
        path = self._object_path(self._existing_bucket_dir(bucket), bucket, key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass
        except PermissionError as e:
            raise AccessDenied(f"Cannot delete s3://{bucket}/{key}: permission denied.") from e

    def _put(self, bucket: str, key: str, write: Callable[[BinaryIO], object]) -> None:
        # As on S3, a bucket that does not exist is not made by writing into it (create_bucket makes one).
        target = self._object_path(self._existing_bucket_dir(bucket), bucket, key)
        uri = f"s3://{bucket}/{key}"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as e:
            raise StorageError(
                f"Cannot write {uri}: part of its key is already an object, which a local folder cannot "
                "also hold as a folder."
            ) from e
        except PermissionError as e:
            raise AccessDenied(f"Cannot write {uri}: permission denied.") from e
        except OSError as e:
            raise StorageError(f"Cannot write {uri}: {e.strerror or e}.") from e
        if target.is_dir():
            raise StorageError(f"Cannot write {uri}: a folder of that name already holds other objects.")

        # Same folder as the target so os.replace is a rename on one file system, hence atomic.
        temp = target.with_name(_temp_name(target.name))
        try:
            with open(temp, "xb") as out:
                write(out)
                out.flush()
                # The output archive is what a COMPLETED job promises; make it survive a crash.
                os.fsync(out.fileno())
            os.replace(temp, target)
        except PermissionError as e:
            raise AccessDenied(f"Cannot write {uri}: permission denied.") from e
        except OSError as e:
            raise StorageError(f"Cannot write {uri}: {e.strerror or e}.") from e
        finally:
            temp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------------------
# A store seen through a data access role


class _LocalStream:
    """A local object's file, its read errors as StorageErrors."""

    def __init__(self, file: BinaryIO, uri: str) -> None:
        self._file = file
        self._uri = uri

    def read(self, size: int = -1) -> bytes:
        try:
            return self._file.read(size)
        except OSError as e:
            raise StorageError(f"Cannot read {self._uri}: {e.strerror or e}.") from e

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> _LocalStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


# ---------------------------------------------------------------------------------------------------------
# S3-compatible server

# A stream that cannot be opened, or loses its connection part-way, is (re)opened where it stopped (a ranged
# GET), this many times, after 0.5 s, 1 s, 2 s, ... (botocore's own retries cover each request before that).
STREAM_ATTEMPTS = 5
STREAM_BACKOFF_S = 0.5


class _S3Stream:
    """An object read as it is consumed; a broken connection is resumed with a ranged GET from the
    offset reached, with backoff, so one reset does not fail a job that is hours into a large file."""

    def __init__(self, store: S3Store, bucket: str, key: str) -> None:
        self._store = store
        self._bucket = bucket
        self._key = key
        self._offset = 0
        self._etag: str | None = None
        self._body: Any = None  # opened by the first read, inside its retries

    def _open(self) -> None:
        extra: dict[str, str] = {"Range": f"bytes={self._offset}-"} if self._offset else {}
        if self._etag is not None:
            extra["IfMatch"] = self._etag  # the object must not change under a resumed read
        with _mapped_errors(f"read s3://{self._bucket}/{self._key}"):
            response = self._store.client.get_object(Bucket=self._bucket, Key=self._key, **extra)
        self._etag = self._etag or response.get("ETag")
        self._body = response["Body"]

    def read(self, size: int = -1) -> bytes:
        import time

        for attempt in range(STREAM_ATTEMPTS):
            try:
                if self._body is None:
                    self._open()
                data = self._body.read() if size is None or size < 0 else self._body.read(size)
                self._offset += len(data)
                return data
            except NoSuchKey:
                raise
            except Exception as exc:  # noqa: BLE001  (classified below: storage errors are retried)
                error = exc if isinstance(exc, StorageError) else _translate(exc, f"read s3://{self._bucket}/{self._key}")
                if error is None:
                    error = StorageError(f"Cannot read s3://{self._bucket}/{self._key}: {exc}.")
                if isinstance(error, (AccessDenied, NoSuchBucket)) or attempt == STREAM_ATTEMPTS - 1:
                    raise error from exc
                self.close()
                time.sleep(STREAM_BACKOFF_S * 2**attempt)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._body is not None:
            try:
                self._body.close()
            except Exception:  # noqa: BLE001  (closing a broken connection)
                pass
            self._body = None

    def __enter__(self) -> _S3Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class S3Store:
    """Any S3-compatible server (AWS S3, SeaweedFS, MinIO, Ceph) through boto3.

    The boto3 client is made on first use and left out of pickling, so a store can be handed to worker
    processes (local pool or Dask) and each builds its own client there.
    """

    def __init__(
        self,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        server_side_kms: bool = True,
        max_attempts: int = 8,
    ) -> None:
        # False for S3-compatible servers without a KMS (SeaweedFS): output is then sealed before upload.
        self.server_side_kms = server_side_kms
        self.endpoint_url = endpoint_url
        self.region = region
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.max_attempts = max_attempts
        self._client: Any = None

    def __repr__(self) -> str:
        return f"S3Store(endpoint_url={self.endpoint_url!r}, region={self.region!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_client"] = None
        return state

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
                # Path-style because SeaweedFS and MinIO are usually reached by IP or a name without
                # wildcard DNS, where virtual-hosted bucket names cannot resolve.
                config=Config(
                    s3={"addressing_style": "path"},
                    retries={"mode": "standard", "max_attempts": self.max_attempts},
                ),
            )
        return self._client

    def list_objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        # S3 itself lists in key order, but some compatible servers (SeaweedFS) list a folder's
        # sub-folders before its files, so "a/x" comes before "a-b". Record order in the output follows
        # the listing, so sort here rather than trust the server.
        with _mapped_errors(f"list s3://{bucket}/{prefix}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            objects = [
                ObjectInfo(key=item["Key"], size=int(item["Size"]))
                for page in pages
                for item in page.get("Contents", ())
                if not item["Key"].endswith("/")
            ]
        # Listing eagerly (not as a generator) makes a missing bucket fail at the call, as it does for
        # LocalFolderStore; the sort needs every key anyway.
        objects.sort(key=lambda o: o.key)
        return iter(objects)

    def get_bytes(self, bucket: str, key: str) -> bytes:
        with _mapped_errors(f"read s3://{bucket}/{key}"):
            response = self.client.get_object(Bucket=bucket, Key=key)
            return response["Body"].read()

    def open_stream(self, bucket: str, key: str) -> BinaryIO:
        return _S3Stream(self, bucket, key)  # type: ignore[return-value]

    def put_bytes(self, bucket: str, key: str, data: bytes, kms_key_id: str | None = None) -> None:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
        with _mapped_errors(f"write s3://{bucket}/{key}"):
            self.client.put_object(Bucket=bucket, Key=key, Body=data, **extra)

    def put_file(self, bucket: str, key: str, path: Path, kms_key_id: str | None = None) -> None:
        # upload_file switches to multipart for large files; either way the object appears only when
        # the upload completes, so readers never see a partial archive.
        if not Path(path).is_file():
            raise StorageError(f"Cannot upload {path} to s3://{bucket}/{key}: the file does not exist.")
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else None
        with _mapped_errors(f"write s3://{bucket}/{key}"):
            self.client.upload_file(str(path), bucket, key, ExtraArgs=extra)

    def delete(self, bucket: str, key: str) -> None:
        with _mapped_errors(f"delete s3://{bucket}/{key}"):
            self.client.delete_object(Bucket=bucket, Key=key)


@contextmanager
def _mapped_errors(action: str) -> Iterator[None]:
    """Turn botocore and boto3 transfer errors into this module's StorageError family."""
    try:
        yield
    except Exception as exc:
        error = _translate(exc, action)
        if error is None:
            raise
        raise error from exc


def _translate(exc: BaseException, action: str) -> StorageError | None:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, S3UploadFailedError):
        # boto3's transfer manager wraps the server's ClientError; classify by that when it is there.
        inner = exc.__cause__ or exc.__context__
        if isinstance(inner, ClientError):
            exc = inner
        else:
            return StorageError(f"Cannot {action}: {exc}.")
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = str(err.get("Message") or code or "error").rstrip(".")
        text = f"Cannot {action}: {message} ({code or status})."
        if code == "NoSuchBucket":
            return NoSuchBucket(text)
        if code in ("NoSuchKey", "NotFound", "404"):
            return NoSuchKey(text)
        # S3 answers bad or unknown credentials with 403 too (SignatureDoesNotMatch, InvalidAccessKeyId):
        # for a job they all mean the same thing, the store will not let us in.
        if code == "AccessDenied" or status == 403:
            return AccessDenied(text)
        return StorageError(text)
    if isinstance(exc, BotoCoreError):
        # Connection refused, bad endpoint, missing credentials: botocore's own sentences are clear.
        return StorageError(f"Cannot {action}: {exc}")
    return None
