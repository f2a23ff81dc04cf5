"""The job pipeline's steps that touch data: cut the input into shards, keep parts, assemble the output.

The output writer depends on the job's kind: an entities job's parts become one output.tar.gz, a PII
job's become one `.out` object per input file (io/pii_output.py).

Shards are cut deterministically from the input, so a resumed job cuts the same shards, skips the
ones already recorded and writes every document exactly once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from opencomprehend.io.documents import Document, file_name, read_documents
from opencomprehend.io.objects import ObjectInfo, ObjectStore, parse_s3_uri
from opencomprehend.io.output import archive_bytes, publish_archive, write_archive
from opencomprehend.io.pii_output import Redaction, publish_pii_output
from opencomprehend.security.keyring import Key, KeyRing


@dataclass
class Shard:
    number: int
    documents: list[Document]


def cut_shards(
    objects: ObjectStore,
    input_uri: str,
    infos: Iterable[ObjectInfo],
    input_format: str,
    max_document_bytes: int,
    shard_documents: int,
    shard_chars: int,
) -> Iterator[Shard]:
    bucket, _ = parse_s3_uri(input_uri)
    number, batch, chars = 0, [], 0
    for info in infos:
        # Streamed: an input object is never held whole, however large (io/documents.py).
        with objects.open_stream(bucket, info.key) as stream:
            for doc in read_documents(stream, file_name(input_uri, info.key), input_format, max_document_bytes):
                batch.append(doc)
                chars += len(doc.text or "")
                if len(batch) >= shard_documents or chars >= shard_chars:
                    yield Shard(number, batch)
                    number, batch, chars = number + 1, [], 0
    if batch:
        yield Shard(number, batch)


def part_path(work: Path, number: int) -> Path:
    return work / f"part-{number:06d}.jsonl"


@dataclass(frozen=True)
class Volume:
    """What a job spills to disk is sealed under its VolumeKmsKeyId: parts, and the archive never lands."""

    keys: KeyRing
    key: Key

    def seal(self, data: bytes) -> bytes:
        return self.keys.seal(self.key, data)

    def open(self, data: bytes) -> bytes:
        return self.keys.open(data)


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


@dataclass(frozen=True)
class SharedParts:
    """A job's parts kept in the server's object store too (`work_uri`), so that any node of a cluster can
    resume the job another began, and assemble it: a node's disk holds parts only while it assembles."""

    store: ObjectStore
    uri: str  # s3://bucket/prefix/ of this job's parts

    @classmethod
    def for_job(cls, store: ObjectStore, work_uri: str, job_id: str) -> SharedParts:
        return cls(store, f"{work_uri}{job_id}/")

    def _location(self, number: int) -> tuple[str, str]:
        bucket, prefix = parse_s3_uri(self.uri)
        return bucket, f"{prefix}part-{number:06d}.jsonl"

    def put(self, number: int, data: bytes) -> None:
        self.store.put_bytes(*self._location(number), data)

    def fetch(self, work: Path, numbers: list[int]) -> None:
        """Copy the parts into `work`, for the assembly (a part already there is a complete earlier copy)."""
        for number in numbers:
            path = part_path(work, number)
            if not path.exists():
                _write_atomically(path, self.store.get_bytes(*self._location(number)))

    def delete(self, numbers: set[int]) -> None:
        for number in numbers:
            self.store.delete(*self._location(number))


def _write_atomically(path: Path, data: bytes) -> None:
    temp = path.with_suffix(".tmp")
    with open(temp, "wb") as out:
        out.write(data)
    os.replace(temp, path)


def write_part(
    work: Path, number: int, lines: list[str], volume: Volume | None = None, shared: SharedParts | None = None
) -> None:
    """A shard's output lines, written whole or not at all (sealed, with a volume key): to this node's work
    folder, or with `shared` to the object store only (fetched by whichever node assembles), stored before
    this returns, so the shard may be recorded as done for the whole cluster."""
    content = "".join(f"{line}\n" for line in lines).encode("utf-8")
    data = volume.seal(content) if volume else content
    if shared is not None:
        shared.put(number, data)
    else:
        _write_atomically(part_path(work, number), data)


def assemble(
    objects: ObjectStore,
    work: Path,
    shard_numbers: list[int],
    uri: str,
    volume: Volume | None = None,
) -> None:
    """Build output.tar.gz from the parts in shard order and publish it at `uri` in `objects` (a SealingStore
    for a job with OutputDataConfig.KmsKeyId: encrypted by the store itself where it can, SSE-KMS toward S3,
    else sealed here, envelope encryption that `opencomprehend output decrypt` opens)."""
    if volume is not None:
        # Sealed parts are opened in memory and the archive is built there: nothing plain touches the disk.
        data = archive_bytes(volume.open(part_path(work, n).read_bytes()) for n in shard_numbers)
        bucket, key = parse_s3_uri(uri)
        objects.put_bytes(bucket, key, data)
        return
    archive = work / "output.tar.gz"
    write_archive([part_path(work, n) for n in shard_numbers], archive)
    publish_archive(objects, uri, archive)


def assemble_pii(
    objects: ObjectStore,
    work: Path,
    shard_numbers: list[int],
    output_prefix: str,
    mode: str,
    input_uri: str,
    infos: list[ObjectInfo],
    input_format: str,
    redaction: Redaction,
) -> int:
    """Publish a PII job's `<File>.out` objects from the parts in shard order; returns how many."""
    keys = {file_name(input_uri, info.key): info.key for info in infos}
    return publish_pii_output(
        objects, [part_path(work, n) for n in shard_numbers], output_prefix, mode, input_uri, keys, input_format,
        redaction, work,
    )  # fmt: skip
