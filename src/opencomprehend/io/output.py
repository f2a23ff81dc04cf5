"""Job output exactly as Comprehend writes it: JSON lines in a one-member `output.tar.gz` (spec section 4)."""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .documents import Document
from .objects import ObjectStore, parse_s3_uri


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
