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

import codecs
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .documents import LINE_END, ONE_DOC_PER_FILE
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


def _by_file(records: Iterable[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Consecutive records of one file: the parts hold documents in input order, file after file."""
    current: str | None = None
    batch: list[dict[str, Any]] = []
    for record in records:
        if record["File"] != current:
            if current is not None:
                yield current, batch
            current, batch = record["File"], []
        batch.append(record)
    if current is not None:
        yield current, batch


def offsets_file(records: list[dict[str, Any]]) -> bytes:
    """An ONLY_OFFSETS .out file: the records as JSON lines, in Comprehend's key order."""
    lines = []
    for record in records:
        ordered: dict[str, Any] = {}
        if "Entities" in record:
            ordered["Entities"] = record["Entities"]
        ordered["File"] = record["File"]
        if "Line" in record:
            ordered["Line"] = record["Line"]
        for key in ("ErrorCode", "ErrorMessage"):
            if key in record:
                ordered[key] = record[key]
        lines.append(json.dumps(ordered, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def redacted_file(data: bytes, records: list[dict[str, Any]], input_format: str, redaction: Redaction) -> bytes | None:
    """An ONLY_REDACTION .out file: the input bytes with the entities of `records` redacted.

    Only documents that have a record are written (a stopped job's unfinished documents are not); None
    when nothing of the file may be written.
    """
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    body = data[len(bom) :]
    if input_format == ONE_DOC_PER_FILE:
        record = records[0] if records else None
        if record is None or "Entities" not in record:
            return None
        return bom + redaction.apply(body.decode("utf-8"), record["Entities"]).encode("utf-8")
    by_line = {record["Line"]: record for record in records}
    out = [bom]
    start, number = 0, 0
    ends = list(LINE_END.finditer(body))
    segments = [(m.start(), m.group()) for m in ends]
    if not ends or ends[-1].end() < len(body):
        segments.append((len(body), b""))
    for stop, line_end in segments:
        record = by_line.get(number)
        if record is None or record.get("ErrorCode") == "UNSUPPORTED_ENCODING":
            break  # not analysed (stopped, or unreadable from here on): nothing more of this file
        if "Entities" in record:
            out.append(redaction.apply(body[start:stop].decode("utf-8"), record["Entities"]).encode("utf-8"))
        out.append(line_end)
        start = stop + len(line_end)
        number += 1
    return b"".join(out)


def publish_pii_output(
    objects: ObjectStore,
    parts: list[Path],
    output_prefix: str,
    mode: str,
    input_uri: str,
    input_keys: dict[str, str],
    input_format: str,
    redaction: Redaction,
) -> int:
    """Write one `<File>.out` per input file with records; returns how many objects were written.

    `input_keys` maps each record's File to its key in the input bucket (redaction re-reads the input, so
    that every byte outside an entity is copied exactly as it was).
    """
    out_bucket, out_key = parse_s3_uri(output_prefix)
    in_bucket, _ = parse_s3_uri(input_uri)
    written = 0
    for file, records in _by_file(read_records(parts)):
        if mode == ONLY_REDACTION:
            data = redacted_file(objects.get_bytes(in_bucket, input_keys[file]), records, input_format, redaction)
            if data is None:
                continue
        else:
            data = offsets_file(records)
        objects.put_bytes(out_bucket, f"{out_key}{file}.out", data)
        written += 1
    return written
