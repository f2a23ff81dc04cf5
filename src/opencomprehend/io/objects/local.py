"""The embedded default: s3://bucket/key as <root>/bucket/key, with S3's semantics (LocalFolderStore)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from opencomprehend.io.objects.base import _COPY_BUFFER, AccessDenied, NoSuchBucket, NoSuchKey, ObjectInfo, StorageError

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
