"""The job pipeline's steps that touch data: cut the input into shards, keep parts, assemble the output.

The output writer depends on the job's kind: an entities job's parts become one output.tar.gz, a PII
job's become one `.out` object per input file (io/pii_output.py).

Shards are cut deterministically from the input, so a resumed job cuts the same shards, skips the
ones already recorded and writes every document exactly once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from opencomprehend.io.documents import Document, file_name, read_documents
from opencomprehend.io.objects import ObjectInfo, ObjectStore, parse_s3_uri
from opencomprehend.io.output import publish_archive, write_archive
from opencomprehend.io.pii_output import Redaction, publish_pii_output


@dataclass
class Shard:
    number: int
    documents: list[Document]


def cut_shards(
    objects: ObjectStore,
    input_uri: str,
    infos: list[ObjectInfo],
    input_format: str,
    max_document_bytes: int,
    shard_documents: int,
    shard_chars: int,
) -> Iterator[Shard]:
    bucket, _ = parse_s3_uri(input_uri)
    number, batch, chars = 0, [], 0
    for info in infos:
        data = objects.get_bytes(bucket, info.key)
        for doc in read_documents(data, file_name(input_uri, info.key), input_format, max_document_bytes):
            batch.append(doc)
            chars += len(doc.text or "")
            if len(batch) >= shard_documents or chars >= shard_chars:
                yield Shard(number, batch)
                number, batch, chars = number + 1, [], 0
    if batch:
        yield Shard(number, batch)


def part_path(work: Path, number: int) -> Path:
    return work / f"part-{number:06d}.jsonl"


def write_part(work: Path, number: int, lines: list[str]) -> None:
    """A shard's output lines, written whole or not at all."""
    path = part_path(work, number)
    temp = path.with_suffix(".tmp")
    with open(temp, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(line)
            out.write("\n")
    os.replace(temp, path)


def assemble(objects: ObjectStore, work: Path, shard_numbers: list[int], uri: str) -> None:
    """Build output.tar.gz from the parts in shard order and publish it at `uri`."""
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
        redaction,
    )  # fmt: skip
