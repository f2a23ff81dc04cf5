"""Input documents: which objects a job reads, what each record's `File` is, and how bytes become documents.

The rules follow Comprehend (spec sections 4 and 5) and the architecture's "Documents" decisions: objects in
key order, `File` relative to the input prefix's last "/", LF/CR/CRLF line ends (not U+2028), no text
normalisation, and per-document error records instead of failing the job.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .objects import NoSuchBucket, NoSuchKey, ObjectInfo, ObjectStore, parse_s3_uri

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


class InputListing:
    """A job's input objects, listed again each time they are iterated (never held): with the count and
    total size of a first listing, which `measure` takes."""

    def __init__(self, store: ObjectStore, input_uri: str) -> None:
        self.store = store
        self.input_uri = input_uri
        self.count = 0
        self.size = 0

    def measure(self) -> InputListing:
        """List once, counting objects and bytes; raises InputNotFound when there is none."""
        bucket, prefix = parse_s3_uri(self.input_uri)
        self.count = self.size = 0
        for info in self.store.list_objects(bucket, prefix):
            self.count += 1
            self.size += info.size
        if not self.count:
            raise _not_found(self.input_uri)
        return self

    def __iter__(self) -> Iterator[ObjectInfo]:
        bucket, prefix = parse_s3_uri(self.input_uri)
        return iter(self.store.list_objects(bucket, prefix))


def list_input(store: ObjectStore, input_uri: str) -> list[ObjectInfo]:
    """The objects a job reads, in key order, held. NoSuchBucket from the store propagates unchanged."""
    objects = list(InputListing(store, input_uri))
    if not objects:
        raise _not_found(input_uri)
    return objects


def _not_found(input_uri: str) -> InputNotFound:
    return InputNotFound(f"No input object was found under the S3 URI {input_uri}.")


def file_name(input_uri: str, key: str) -> str:
    """The record's `File`: the key relative to the input prefix's last "/".

    A folder prefix keeps sub-folder paths ("in/" + "in/sub/a.txt" -> "sub/a.txt") so two files with the
    same base name stay distinguishable; a prefix naming one object gives its base name.
    """
    _, prefix = parse_s3_uri(input_uri)
    if not key.startswith(prefix):
        raise ValueError(f"The key {key!r} is not under the input S3 URI {input_uri}.")
    return key[prefix.rfind("/") + 1 :]


def input_key(input_uri: str, file: str) -> str:
    """The key of the input object whose record `File` is `file`: file_name's inverse."""
    _, prefix = parse_s3_uri(input_uri)
    return prefix[: prefix.rfind("/") + 1] + file


# Input is read this many bytes at a time: a job's memory does not grow with the size of its files.
READ_CHUNK = 1 << 20


def read_documents(
    data: bytes | BinaryIO, file: str, input_format: str, max_document_bytes: int, chunk_size: int = READ_CHUNK
) -> Iterator[Document]:
    """The documents in one input object, lazily, in order: from its bytes, or streamed from a readable.

    A stream is read `chunk_size` bytes at a time and never held whole: at most one document's
    `max_document_bytes` (plus a chunk) is in memory, however large the file or a line in it is.

    When a document is both too large and not UTF-8, the encoding error wins: it is a property of the
    whole file and stops the rest of it, which a size error would not.
    """
    if input_format not in (ONE_DOC_PER_FILE, ONE_DOC_PER_LINE):
        raise ValueError(
            f"Unknown InputFormat {input_format!r}; expected {ONE_DOC_PER_LINE} or {ONE_DOC_PER_FILE}."
        )
    stream: BinaryIO = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    if input_format == ONE_DOC_PER_FILE:
        return _read_file(stream, file, max_document_bytes, chunk_size)
    return _read_lines(stream, file, max_document_bytes, chunk_size)


def split_bom(stream: BinaryIO, chunk_size: int = READ_CHUNK) -> tuple[bytes, Iterator[bytes]]:
    """The stream's UTF-8 byte order mark (b"" when it has none) and the rest of its bytes, in chunks."""
    first = b""
    while len(first) < len(codecs.BOM_UTF8):  # a short first read must not hide a BOM
        more = stream.read(chunk_size)
        if not more:
            break
        first += more
    bom = codecs.BOM_UTF8 if first.startswith(codecs.BOM_UTF8) else b""

    def chunks() -> Iterator[bytes]:
        if len(first) > len(bom):
            yield first[len(bom) :]
        while chunk := stream.read(chunk_size):
            yield chunk

    return bom, chunks()


def _chunks(stream: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    """The stream's bytes in chunks, a leading UTF-8 byte order mark removed."""
    return split_bom(stream, chunk_size)[1]


def line_pieces(chunks: Iterable[bytes]) -> Iterator[tuple[memoryview, bytes | None]]:
    """Each line's bytes as they arrive, and where it ends: (piece, None) for a piece of a line that goes
    on, (piece, end) for its last piece and its line end as LINE_END splits them (CRLF, CR, LF), a CRLF
    split across two chunks included. A last line without a line end comes only as pieces."""
    pending_cr = False  # the previous chunk ended in CR: an LF opening this one makes it CRLF
    for chunk in chunks:
        view = memoryview(chunk)
        pos = 0
        if pending_cr:
            pending_cr = False
            if chunk.startswith(b"\n"):
                yield view[:0], b"\r\n"
                pos = 1
            else:
                yield view[:0], b"\r"
        for match in LINE_END.finditer(chunk, pos):
            if match.group() == b"\r" and match.end() == len(chunk):
                yield view[pos : match.start()], None
                pending_cr = True
                break
            yield view[pos : match.start()], match.group()
            pos = match.end()
        else:
            if pos < len(chunk):
                yield view[pos:], None
    if pending_cr:
        yield memoryview(b""), b"\r"


class _Pending:
    """One document's bytes as they arrive: held up to the size limit, past it only checked for UTF-8."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = bytearray()
        self.size = 0
        self._check: codecs.IncrementalDecoder | None = None
        self._valid = True

    def add(self, piece: bytes | memoryview) -> None:
        if not piece:
            return
        self.size += len(piece)
        if self._check is None and self.size <= self.limit:
            self.held += piece
            return
        if self._check is None:  # just went past the limit: validate what was held, then drop it
            self._check = codecs.getincrementaldecoder("utf-8")()
            self._feed(bytes(self.held))
            self.held = bytearray()
        self._feed(piece)

    def _feed(self, piece: bytes | memoryview) -> None:
        if self._valid:
            try:
                self._check.decode(piece)  # type: ignore[union-attr]
            except UnicodeDecodeError:
                self._valid = False

    def document(self, file: str, line: int | None) -> Document:
        if self._check is None:
            return _document(bytes(self.held), file, line, self.limit)
        if self._valid:
            try:
                self._check.decode(b"", final=True)
            except UnicodeDecodeError:
                self._valid = False
        if not self._valid:
            return Document(file, line, None, UNSUPPORTED_ENCODING, UNSUPPORTED_ENCODING_MESSAGE)
        return Document(
            file, line, None, DOCUMENT_SIZE_EXCEEDED, f"Document size exceeds maximum size limit {self.limit} bytes."
        )


def _read_file(stream: BinaryIO, file: str, max_document_bytes: int, chunk_size: int) -> Iterator[Document]:
    pending = _Pending(max_document_bytes)
    for chunk in _chunks(stream, chunk_size):
        pending.add(chunk)
    yield pending.document(file, None)


def _read_lines(stream: BinaryIO, file: str, max_document_bytes: int, chunk_size: int) -> Iterator[Document]:
    number = 0
    pending = _Pending(max_document_bytes)
    for piece, end in line_pieces(_chunks(stream, chunk_size)):
        pending.add(piece)
        if end is None:
            continue
        document = pending.document(file, number)
        yield document
        if document.error_code == UNSUPPORTED_ENCODING:
            return
        pending = _Pending(max_document_bytes)
        number += 1
    # Text after the last line end is a final unterminated line; nothing after it means the file ended
    # with a line end, which closes the previous line rather than opening an empty one.
    if pending.size:
        yield pending.document(file, number)


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


class DocumentReader:
    """A job's input documents looked up by the (File, Line) of its output records, as the job read them.

    Look-ups in output order read each file once, forward and only as far as needed: a file stays open
    while its documents are asked for in order, and is opened again only for a document before the last
    one read. One document is held at a time. A file no longer in the store gives None (as does a line
    it does not have); any other StorageError propagates. Close the reader after use.
    """

    def __init__(self, store: ObjectStore, input_uri: str, input_format: str, max_document_bytes: int) -> None:
        self.store = store
        self.input_uri = input_uri
        self.input_format = input_format
        self.max_document_bytes = max_document_bytes
        self._bucket, _ = parse_s3_uri(input_uri)
        self._file: str | None = None
        self._stream: BinaryIO | None = None
        self._documents: Iterator[Document] | None = None
        self._last: Document | None = None

    def uri(self, file: str) -> str:
        return f"s3://{self._bucket}/{input_key(self.input_uri, file)}"

    def document(self, file: str, line: int | None) -> Document | None:
        last = self._last
        behind = last is not None and line is not None and last.line is not None and line < last.line
        if file != self._file or behind:
            self._open(file)
        elif last is not None and last.line == line:
            return last
        if self._documents is None:
            return None
        for document in self._documents:
            self._last = document
            if document.line == line:
                return document
            if line is not None and document.line is not None and document.line > line:
                break
        return None

    def _open(self, file: str) -> None:
        self.close()
        self._file = file
        try:
            self._stream = self.store.open_stream(self._bucket, input_key(self.input_uri, file))
        except (NoSuchKey, NoSuchBucket):
            return
        self._documents = read_documents(self._stream, file, self.input_format, self.max_document_bytes)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self._file = self._stream = self._documents = self._last = None
