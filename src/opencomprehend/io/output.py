"""Job output exactly as Comprehend writes it: JSON lines in a one-member `output.tar.gz` (spec section 4)."""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .documents import READ_CHUNK, Document
from .objects import ObjectStore, StorageError, parse_s3_uri


def output_uri(output_prefix_uri: str, account_id: str, job_id: str, job_type: str = "NER") -> str:
    """Where a job's archive goes.

    `<prefix without trailing "/">/<account>-<type>-<JobId>/output/output.tar.gz`, for every job state.
    """
    parse_s3_uri(output_prefix_uri)
    # Only one "/" comes off: the key then still starts with exactly the prefix the caller gave.
    base = output_prefix_uri.removesuffix("/")
    return f"{base}/{account_id}-{job_type}-{job_id}/output/output.tar.gz"


def record_line(doc: Document, entities: list[dict[str, Any]] | None, member: str = "Entities") -> str:
    """One output record as a JSON line without its newline; an error document carries no Entities.

    `member` names the results: "Entities", or "Languages" for a dominant language detection job."""
    record: dict[str, Any] = {"File": doc.file}
    if doc.line is not None:
        record["Line"] = doc.line
    if doc.error_code is not None:
        record["ErrorCode"] = doc.error_code
        record["ErrorMessage"] = doc.error_message
    else:
        if entities is None:
            raise ValueError(f"Document {doc.file!r} line {doc.line} has no error and no {member} list.")
        record[member] = entities
    # ensure_ascii=False: the archive is UTF-8 and Comprehend writes non-ASCII text as itself.
    return json.dumps(record, ensure_ascii=False)


class _Concatenation:
    """A read-only file object over several files in a row, so tarfile can stream them as one member."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths = iter(paths)
        self._current: Any = None

    def read(self, size: int = -1) -> bytes:
        # Fill the request across part boundaries: tarfile treats a short read as truncated data.
        chunks: list[bytes] = []
        wanted = size
        while wanted != 0:
            if self._current is None:
                path = next(self._paths, None)
                if path is None:
                    break
                self._current = open(path, "rb")
            chunk = self._current.read(wanted)
            if not chunk:
                self.close_current()
                continue
            chunks.append(chunk)
            if wanted > 0:
                wanted -= len(chunk)
        return b"".join(chunks)

    def close_current(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None

    def close(self) -> None:
        self.close_current()
        self._paths = iter(())


def _member(size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo("output")
    info.size = size
    info.mode = 0o644
    info.mtime = int(time.time())
    info.type = tarfile.REGTYPE
    return info


def archive_bytes(parts: Iterable[bytes]) -> bytes:
    """The same archive as write_archive, built in memory from parts held in memory (nothing on disk)."""
    content = b"".join(parts)
    if content and not content.endswith(b"\n"):
        raise ValueError("Output parts must end with a newline.")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        tar.addfile(_member(len(content)), io.BytesIO(content))
    return buffer.getvalue()


def write_archive(parts: Iterable[Path], dest: Path) -> None:
    """Write `dest` as a gzip tar with one member, `output`: the part files concatenated, in order.

    The parts are streamed straight into the archive. A tar header needs the member's size up front, and
    finished parts already know theirs, so there is no need to concatenate into a temporary file first.
    """
    paths = [Path(p) for p in parts]
    size = 0
    for path in paths:
        part_size = path.stat().st_size
        if part_size:
            # A part without its final newline would glue its last record to the next part's first.
            with open(path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    raise ValueError(f"Output part {path} does not end with a newline.")
        size += part_size

    info = _member(size)
    dest = Path(dest)
    # Build under a hidden name and rename, so a crash never leaves a truncated archive at `dest`.
    temp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex}")
    source = _Concatenation(paths)
    try:
        # Level 6 (gzip's own default) rather than tarfile's 9: much faster on large outputs for a
        # slightly larger file.
        with tarfile.open(temp, "w:gz", compresslevel=6) as tar:
            tar.addfile(info, source)
        os.replace(temp, dest)
    finally:
        source.close()
        temp.unlink(missing_ok=True)


def publish_archive(store: ObjectStore, uri: str, archive: Path, kms_key_id: str | None = None) -> None:
    """Upload a finished archive to its `s3://` output URI (with SSE-KMS under `kms_key_id`, if given)."""
    bucket, key = parse_s3_uri(uri)
    if not key or key.endswith("/"):
        raise ValueError(f"The output URI {uri} does not name an object.")
    if kms_key_id is None:
        store.put_file(bucket, key, archive)
    else:
        store.put_file(bucket, key, archive, kms_key_id=kms_key_id)


# -- reading it back ---------------------------------------------------------------------------------------


def json_lines(stream: BinaryIO, chunk_size: int = READ_CHUNK) -> Iterator[dict[str, Any]]:
    """The records of a JSON lines stream, read `chunk_size` bytes at a time (blank lines skipped)."""
    pending = b""
    while chunk := stream.read(chunk_size):
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if line.strip():
                yield json.loads(line)
    if pending.strip():
        yield json.loads(pending)


def archive_records(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    """The records of an output.tar.gz, streamed: the archive is decompressed as it is read, never held.

    Raises ValueError when the archive has no `output` member; tarfile.TarError, zlib.error or EOFError
    when it is not a whole gzip tar."""
    # Read a chunk at a time (tarfile's own default is 10 KB): a store seen through a role checks the role
    # again at every read.
    with tarfile.open(fileobj=stream, mode="r|gz", bufsize=READ_CHUNK) as tar:
        for member in tar:
            if member.name == "output" and member.isfile():
                content = tar.extractfile(member)
                assert content is not None  # a regular file
                yield from json_lines(content)  # type: ignore[arg-type]
                return
    raise ValueError("The archive holds no `output` member.")


def tar_gz_stream(members: Iterable[tuple[str, int, BinaryIO]], chunk_size: int = READ_CHUNK) -> Iterator[bytes]:
    """A gzip tar of `members` (name, size, stream; each stream read once and closed), in chunks as it is
    built: no member is held whole. A stream shorter than its size is a StorageError."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16 +: the gzip format
    now = int(time.time())

    def packed(data: bytes) -> Iterator[bytes]:
        out = compressor.compress(data)
        if out:
            yield out

    for name, size, stream in members:
        try:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime, info.type = size, 0o644, now, tarfile.REGTYPE
            yield from packed(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
            left = size
            while left:
                chunk = stream.read(min(chunk_size, left))
                if not chunk:
                    raise StorageError(f"{name} ended after {size - left} of its {size} bytes.")
                left -= len(chunk)
                yield from packed(chunk)
        finally:
            stream.close()
        yield from packed(b"\0" * (-size % tarfile.BLOCKSIZE))
    yield from packed(b"\0" * (2 * tarfile.BLOCKSIZE))
    yield compressor.flush()
