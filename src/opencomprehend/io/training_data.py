"""Custom recognizer training data in Comprehend's three formats, read into labelled documents.

- COMPREHEND_CSV with an annotations CSV: `File, Line, Begin Offset, End Offset, Type` (no `Line` when
  the documents are ONE_DOC_PER_FILE), offsets into the line (or file), end exclusive.
- COMPREHEND_CSV with an entity list CSV: `Text, Type`; the documents are labelled by exact,
  case-sensitive matching of whole words.
- AUGMENTED_MANIFEST: Ground Truth JSON lines, `source` plus label attributes holding
  `{"annotations": {"entities": [{"startOffset", "endOffset", "label"}]}}`.

Every problem is a TrainingDataProblem whose message says what is wrong and where (file, row, line).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import regex

from opencomprehend.io.documents import Document, InputNotFound, file_name, list_input, read_documents
from opencomprehend.io.objects import ObjectStore, parse_s3_uri

Span = tuple[int, int, str]


class TrainingDataProblem(Exception):
    """The training data cannot be used; str(e) says what and where."""


@dataclass
class AnnotatedDocument:
    file: str
    line: int | None
    text: str
    entities: list[Span] = field(default_factory=list)

    @property
    def where(self) -> str:
        return self.file if self.line is None else f"{self.file} line {self.line}"


def _objects(store: ObjectStore, uri: str) -> list[tuple[str, bytes]]:
    """(File name, content) of every object under an S3 URI, in key order."""
    try:
        infos = list_input(store, uri)
        bucket, _ = parse_s3_uri(uri)
        return [(file_name(uri, info.key), store.get_bytes(bucket, info.key)) for info in infos]
    except InputNotFound:
        raise TrainingDataProblem(f"No objects were found at {uri}.") from None
    # A StorageError is not a problem of the data but of reaching it (a role that may not read it, a missing
    # bucket, a store down): it goes to the caller, which ends the training NO_READ_ACCESS_TO_INPUT.


def read_corpus(store: ObjectStore, uri: str, input_format: str, max_document_bytes: int) -> list[AnnotatedDocument]:
    """The documents to train on; a document that is not UTF-8 or too large is an error, not a skip."""
    corpus = []
    for name, data in _objects(store, uri):
        doc: Document
        for doc in read_documents(data, name, input_format, max_document_bytes):
            where = name if doc.line is None else f"{name} line {doc.line}"
            if doc.error_code is not None:
                raise TrainingDataProblem(f"Training document {where} at {uri}: {doc.error_message}")
            corpus.append(AnnotatedDocument(doc.file, doc.line, doc.text or ""))
    return corpus


def _csv_rows(data: bytes, uri: str) -> tuple[list[str], list[list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TrainingDataProblem(f"{uri} is not UTF-8 text.") from None
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise TrainingDataProblem(f"{uri} is empty; it needs a header row and at least one row of data.")
    return [cell.strip().lower() for cell in rows[0]], rows[1:]


def _column(header: list[str], name: str, uri: str) -> int:
    try:
        return header.index(name.lower())
    except ValueError:
        raise TrainingDataProblem(
            f"{uri} has no '{name}' column (its header is: {', '.join(header) or 'empty'})."
        ) from None


def apply_annotations(
    corpus: list[AnnotatedDocument], data: bytes, uri: str, line_mode: bool, entity_types: Sequence[str]
) -> None:
    """Attach the annotations CSV's entities to the documents they name."""
    header, rows = _csv_rows(data, uri)
    col_file = _column(header, "File", uri)
    col_line = _column(header, "Line", uri) if line_mode else None
    col_begin = _column(header, "Begin Offset", uri)
    col_end = _column(header, "End Offset", uri)
    col_type = _column(header, "Type", uri)
    by_key = {(doc.file, doc.line): doc for doc in corpus}
    allowed = set(entity_types)
    for number, row in enumerate(rows, start=2):
        where = f"{uri} row {number}"
        try:
            file = row[col_file].strip()
            line = int(row[col_line]) if col_line is not None else None
            begin, end = int(row[col_begin]), int(row[col_end])
            kind = row[col_type].strip()
        except (IndexError, ValueError):
            raise TrainingDataProblem(f"{where}: expected {', '.join(header)}, got {', '.join(row)}.") from None
        doc = by_key.get((file, line))
        if doc is None:
            target = file if line is None else f"{file} line {line}"
            raise TrainingDataProblem(f"{where}: no training document {target}.")
        if kind not in allowed:
            raise TrainingDataProblem(f"{where}: type '{kind}' is not one of the recognizer's EntityTypes.")
        if not 0 <= begin < end <= len(doc.text):
            raise TrainingDataProblem(
                f"{where}: offsets {begin}-{end} are outside {doc.where}, which has {len(doc.text)} characters."
            )
        doc.entities.append((begin, end, kind))


def read_entity_list(data: bytes, uri: str, entity_types: Sequence[str]) -> list[tuple[str, str]]:
    header, rows = _csv_rows(data, uri)
    col_text = _column(header, "Text", uri)
    col_type = _column(header, "Type", uri)
    allowed = set(entity_types)
    entries = []
    for number, row in enumerate(rows, start=2):
        try:
            text, kind = row[col_text], row[col_type].strip()
        except IndexError:
            raise TrainingDataProblem(f"{uri} row {number}: expected Text, Type, got {', '.join(row)}.") from None
        if kind not in allowed:
            raise TrainingDataProblem(f"{uri} row {number}: type '{kind}' is not one of the recognizer's EntityTypes.")
        if text.strip():
            entries.append((text, kind))
    if not entries:
        raise TrainingDataProblem(f"{uri} lists no entities.")
    return entries


def label_with_entity_list(corpus: Iterable[AnnotatedDocument], entries: list[tuple[str, str]]) -> None:
    """Mark every whole-word, case-sensitive occurrence; longer entries win where two overlap."""
    kinds: dict[str, str] = {}
    for text, kind in entries:
        kinds.setdefault(text, kind)
    ordered = sorted(kinds, key=len, reverse=True)
    pattern = regex.compile(r"(?<!\w)(?:" + "|".join(regex.escape(t) for t in ordered) + r")(?!\w)")
    for doc in corpus:
        doc.entities.extend((m.start(), m.end(), kinds[m.group()]) for m in pattern.finditer(doc.text))


def read_augmented_manifest(
    data: bytes, uri: str, attribute_names: Sequence[str], entity_types: Sequence[str]
) -> list[AnnotatedDocument]:
    allowed = set(entity_types)
    name = uri.rsplit("/", 1)[-1]
    corpus = []
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise TrainingDataProblem(f"{uri} is not UTF-8 text.") from None
    for number, raw in enumerate(lines):
        if not raw.strip():
            continue
        where = f"{uri} line {number + 1}"
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            raise TrainingDataProblem(f"{where} is not a JSON object.") from None
        if not isinstance(record, dict) or not isinstance(record.get("source"), str):
            raise TrainingDataProblem(f"{where} has no 'source' text.")
        doc = AnnotatedDocument(name, number, record["source"])
        for attribute in attribute_names:
            labels = record.get(attribute)
            if not isinstance(labels, dict):
                raise TrainingDataProblem(f"{where} has no '{attribute}' attribute.")
            for entity in labels.get("annotations", {}).get("entities", []):
                try:
                    begin, end, kind = int(entity["startOffset"]), int(entity["endOffset"]), str(entity["label"])
                except (KeyError, TypeError, ValueError):
                    raise TrainingDataProblem(
                        f"{where}: an entity needs startOffset, endOffset and label, got {entity}."
                    ) from None
                if kind not in allowed:
                    raise TrainingDataProblem(f"{where}: label '{kind}' is not one of the recognizer's EntityTypes.")
                if not 0 <= begin < end <= len(doc.text):
                    raise TrainingDataProblem(
                        f"{where}: offsets {begin}-{end} are outside its source of {len(doc.text)} characters."
                    )
                doc.entities.append((begin, end, kind))
        corpus.append(doc)
    return corpus


def read_manifests(store: ObjectStore, uri: str, attribute_names: Sequence[str], entity_types: Sequence[str]):
    """Every manifest object under an S3 URI (usually one file)."""
    corpus: list[AnnotatedDocument] = []
    for _, data in _objects(store, uri):
        corpus.extend(read_augmented_manifest(data, uri, attribute_names, entity_types))
    return corpus


def read_annotated(store: ObjectStore, uri: str) -> bytes:
    """The bytes of the annotations or entity list objects under a URI, concatenated in key order."""
    parts = _objects(store, uri)
    if len(parts) == 1:
        return parts[0][1]
    # Several CSV files: keep the first header only.
    out = [parts[0][1].rstrip(b"\r\n")]
    for _, data in parts[1:]:
        body = data.split(b"\n", 1)[1] if b"\n" in data else b""
        out.append(body.rstrip(b"\r\n"))
    return b"\n".join(out) + b"\n"
