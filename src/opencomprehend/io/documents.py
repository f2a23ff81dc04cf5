"""Input documents: which objects a job reads, what each record's `File` is, and how bytes become documents.

The rules follow Comprehend (spec sections 4 and 5) and the architecture's "Documents" decisions: objects in
key order, `File` relative to the input prefix's last "/", LF/CR/CRLF line ends (not U+2028), no text
normalisation, and per-document error records instead of failing the job.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .objects import ObjectInfo, ObjectStore, parse_s3_uri

ONE_DOC_PER_LINE = "ONE_DOC_PER_LINE"
ONE_DOC_PER_FILE = "ONE_DOC_PER_FILE"

DOCUMENT_SIZE_EXCEEDED = "DOCUMENT_SIZE_EXCEEDED"
UNSUPPORTED_ENCODING = "UNSUPPORTED_ENCODING"

# Comprehend's own wording, byte for byte: clients may match on it.
UNSUPPORTED_ENCODING_MESSAGE = "Document is not in UTF-8 format and all subsequent lines are ignored."

# Only these three end a line; bytes.splitlines would agree, but it builds the whole list at once.
LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class Document:
    file: str
    line: int | None
    text: str | None
    error_code: str | None = None
    error_message: str | None = None


class InputNotFound(Exception):
    """No object exists under a job's input S3 URI."""


def list_input(store: ObjectStore, input_uri: str) -> list[ObjectInfo]:
    """The objects a job reads, in key order. NoSuchBucket from the store propagates unchanged."""
    bucket, prefix = parse_s3_uri(input_uri)
    objects = list(store.list_objects(bucket, prefix))
    if not objects:
        raise InputNotFound(f"No input object was found under the S3 URI {input_uri}.")
    return objects


def file_name(input_uri: str, key: str) -> str:
    """The record's `File`: the key relative to the input prefix's last "/".

    A folder prefix keeps sub-folder paths ("in/" + "in/sub/a.txt" -> "sub/a.txt") so two files with the
    same base name stay distinguishable; a prefix naming one object gives its base name.
    """
    _, prefix = parse_s3_uri(input_uri)
    if not key.startswith(prefix):
        raise ValueError(f"The key {key!r} is not under the input S3 URI {input_uri}.")
    return key[prefix.rfind("/") + 1 :]


def read_documents(data: bytes, file: str, input_format: str, max_document_bytes: int) -> Iterator[Document]:
    """The documents in one input object, lazily, in order.

    When a document is both too large and not UTF-8, the encoding error wins: it is a property of the
    whole file and stops the rest of it, which a size error would not.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if input_format == ONE_DOC_PER_FILE:
        return _read_file(data, file, max_document_bytes)
    if input_format == ONE_DOC_PER_LINE:
        return _read_lines(data, file, max_document_bytes)
    raise ValueError(
        f"Unknown InputFormat {input_format!r}; expected {ONE_DOC_PER_LINE} or {ONE_DOC_PER_FILE}."
    )


def _read_file(data: bytes, file: str, max_document_bytes: int) -> Iterator[Document]:
    yield _document(data, file, None, max_document_bytes)


def _read_lines(data: bytes, file: str, max_document_bytes: int) -> Iterator[Document]:
    start = 0
    number = 0
    for end in LINE_END.finditer(data):
        document = _document(data[start : end.start()], file, number, max_document_bytes)
        yield document
        if document.error_code == UNSUPPORTED_ENCODING:
            return
        start = end.end()
        number += 1
    # Text after the last line end is a final unterminated line; nothing after it means the file ended
    # with a line end, which closes the previous line rather than opening an empty one.
    if start < len(data):
        yield _document(data[start:], file, number, max_document_bytes)


def _document(raw: bytes, file: str, line: int | None, max_document_bytes: int) -> Document:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Document(file, line, None, UNSUPPORTED_ENCODING, UNSUPPORTED_ENCODING_MESSAGE)
    if len(raw) > max_document_bytes:
        return Document(
            file,
            line,
            None,
            DOCUMENT_SIZE_EXCEEDED,
            f"Document size exceeds maximum size limit {max_document_bytes} bytes.",
        )
    return Document(file, line, text)
