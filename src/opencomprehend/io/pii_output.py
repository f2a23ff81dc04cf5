"""PII job output as Comprehend writes it: one plain-text object per input file, no archive.

Comprehend's PiiOutputDataConfig: "For a PII entity detection job, the output file is plain text, not a
compressed archive. The output file name is the same as the input file, with .out appended at the end."
So under `<prefix>/<account>-PII-<JobId>/output/` each input file `<File>` becomes `<File>.out`:

- ONLY_OFFSETS: the file's records as JSON lines, {"Entities": [...], "File": ..., "Line": ...} (Line in
  ONE_DOC_PER_LINE only), or the error record of a document that could not be read.
- ONLY_REDACTION: the file itself with every PII entity of the requested types redacted. Every other
  byte is kept as it was: line ends (LF, CR, CRLF), a UTF-8 byte order mark, whitespace. MASK replaces
  each character of an entity by the mask character (whitespace inside an entity, a line break in an
  address, stays); REPLACE_WITH_PII_ENTITY_TYPE replaces the entity by `[TYPE]`.

Redaction never leaks: a document that could not be read (over the size limit) is written as an empty
line (line mode) or not at all (file mode), and after invalid UTF-8 the rest of the file is left out, as
it is left out of the analysis.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .documents import ONE_DOC_PER_FILE, line_pieces, split_bom
from .objects import ObjectStore, parse_s3_uri

ONLY_OFFSETS = "ONLY_OFFSETS"
ONLY_REDACTION = "ONLY_REDACTION"
MASK = "MASK"
REPLACE_WITH_PII_ENTITY_TYPE = "REPLACE_WITH_PII_ENTITY_TYPE"
ALL = "ALL"
DEFAULT_MASK_CHARACTER = "*"


def pii_output_prefix(output_prefix_uri: str, account_id: str, job_id: str) -> str:
    """The folder of a PII job's output: `<prefix without trailing "/">/<account>-PII-<JobId>/output/`."""
    parse_s3_uri(output_prefix_uri)
    return f"{output_prefix_uri.removesuffix('/')}/{account_id}-PII-{job_id}/output/"


@dataclass(frozen=True)
class Redaction:
    """RedactionConfig, resolved: which types, and how each entity is replaced."""

    types: frozenset[str]  # empty: every type (ALL)
    mask_mode: str = MASK
    mask_character: str = DEFAULT_MASK_CHARACTER

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> Redaction:
        config = config or {}
        types = frozenset(config.get("PiiEntityTypes") or [ALL])
        return cls(
            types=frozenset() if ALL in types else types,
            mask_mode=config.get("MaskMode") or MASK,
            mask_character=config.get("MaskCharacter") or DEFAULT_MASK_CHARACTER,
        )

    def wants(self, pii_type: str) -> bool:
        return not self.types or pii_type in self.types

    def apply(self, text: str, entities: Iterable[dict[str, Any]]) -> str:
        """`text` with the wanted entities replaced; everything outside them is unchanged."""
        pieces: list[str] = []
        position = 0
        for entity in sorted(entities, key=lambda e: e["BeginOffset"]):
            if not self.wants(entity["Type"]):
                continue
            begin, end = max(entity["BeginOffset"], position), entity["EndOffset"]
            if end <= begin:
                continue
            pieces.append(text[position:begin])
            if self.mask_mode == REPLACE_WITH_PII_ENTITY_TYPE:
                pieces.append(f"[{entity['Type']}]")
            else:
                pieces.append("".join(ch if ch.isspace() else self.mask_character for ch in text[begin:end]))
            position = end
        pieces.append(text[position:])
        return "".join(pieces)


def read_records(parts: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """The records of the part files, in order."""
    for part in parts:
        with open(part, encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)


def _by_file(records: Iterable[dict[str, Any]]) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
    """Consecutive records of one file, as they are read: the parts hold documents in input order, file
    after file, so no file's records are ever all in memory."""
    return itertools.groupby(records, key=lambda record: record["File"])


def _offset_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record in Comprehend's key order."""
    ordered: dict[str, Any] = {}
    if "Entities" in record:
        ordered["Entities"] = record["Entities"]
    ordered["File"] = record["File"]
    if "Line" in record:
        ordered["Line"] = record["Line"]
    for key in ("ErrorCode", "ErrorMessage"):
        if key in record:
            ordered[key] = record[key]
    return ordered


def write_offsets(records: Iterable[dict[str, Any]], out: BinaryIO) -> None:
    """An ONLY_OFFSETS .out file: the records as JSON lines."""
    for record in records:
        out.write(json.dumps(_offset_record(record), ensure_ascii=False).encode("utf-8") + b"\n")


# A line longer than this is not held while redacting: it was over the document size limit (100 KB), so
# its record has no entities and its redacted form is an empty line.
HOLD_BYTES = 4 * 1024 * 1024


def _stream_lines(chunks: Iterable[bytes]) -> Iterator[tuple[bytes | None, bytes]]:
    """(content, line end) of each line of the file whose bytes `chunks` are, as documents.line_pieces
    splits them; content None for a line longer than HOLD_BYTES. The last line has an empty line end, and
    is there only if it has content (or the file has no line end at all)."""
    line = bytearray()
    too_long = yielded = False
    for piece, end in line_pieces(chunks):
        if not too_long:
            line += piece
            if len(line) > HOLD_BYTES:
                too_long = True
                line.clear()
        if end is not None:
            yield (None if too_long else bytes(line)), end
            line.clear()
            too_long, yielded = False, True
    if line or too_long or not yielded:
        yield (None if too_long else bytes(line)), b""


def write_redacted(
    stream: BinaryIO, records: Iterable[dict[str, Any]], input_format: str, redaction: Redaction, out: BinaryIO
) -> bool:
    """An ONLY_REDACTION .out file: the input `stream` with the entities of `records` redacted, written to
    `out` as it is read. Only documents that have a record are written (a stopped job's unfinished
    documents are not); False when nothing of the file may be written."""
    bom, chunks = split_bom(stream)
    if input_format == ONE_DOC_PER_FILE:
        record = next(iter(records), None)
        if record is None or "Entities" not in record:
            return False
        # A document with entities was within the size limit, so it is read whole.
        body = b"".join(chunks)
        out.write(bom + redaction.apply(body.decode("utf-8"), record["Entities"]).encode("utf-8"))
        return True
    out.write(bom)
    pending = iter(records)
    record = next(pending, None)
    for number, (content, line_end) in enumerate(_stream_lines(chunks)):
        if record is None or record.get("Line") != number or record.get("ErrorCode") == "UNSUPPORTED_ENCODING":
            break  # not analysed (stopped, or unreadable from here on): nothing more of this file
        if "Entities" in record:
            if content is None:
                break  # never held, so never copied: nothing more of this file
            out.write(redaction.apply(content.decode("utf-8"), record["Entities"]).encode("utf-8"))
        out.write(line_end)
        record = next(pending, None)
    return True


def read_redacted(stream: BinaryIO, input_format: str) -> Iterator[tuple[int | None, str]]:
    """The documents of an ONLY_REDACTION .out file, as write_redacted wrote them: (Line, redacted line)
    of each line in ONE_DOC_PER_LINE, split as the input was (an unreadable document's line is empty), or
    (None, the redacted file) in ONE_DOC_PER_FILE. The byte order mark is left out."""
    _, chunks = split_bom(stream)
    if input_format == ONE_DOC_PER_FILE:
        yield None, b"".join(chunks).decode("utf-8", "replace")
        return
    first = next(chunks, None)
    if first is None:
        return  # nothing of the file was written (its first line could not be read)
    for number, (content, _end) in enumerate(_stream_lines(itertools.chain([first], chunks))):
        yield number, (content or b"").decode("utf-8", "replace")


def publish_pii_output(
    objects: ObjectStore,
    parts: list[Path],
    output_prefix: str,
    mode: str,
    input_uri: str,
    input_keys: dict[str, str],
    input_format: str,
    redaction: Redaction,
    work: Path | None = None,
) -> int:
    """Write one `<File>.out` per input file with records; returns how many objects were written.

    `input_keys` maps each record's File to its key in the input bucket (redaction re-reads the input, so
    that every byte outside an entity is copied exactly as it was). Each file is streamed: from the
    input object and the parts into a file in `work` (or the system's temporary folder), then uploaded,
    so neither an input file nor its records are held in memory, however large.
    """
    out_bucket, out_key = parse_s3_uri(output_prefix)
    in_bucket, _ = parse_s3_uri(input_uri)
    written = 0
    for file, records in _by_file(read_records(parts)):
        with tempfile.NamedTemporaryFile(dir=work, prefix="pii-", suffix=".out") as spool:
            if mode == ONLY_REDACTION:
                stream = objects.open_stream(in_bucket, input_keys[file])
                try:
                    wanted = write_redacted(stream, records, input_format, redaction, spool)
                finally:
                    stream.close()
                if not wanted:
                    continue
            else:
                write_offsets(records, spool)
            spool.flush()
            objects.put_file(out_bucket, f"{out_key}{file}.out", Path(spool.name))
        written += 1
    return written
